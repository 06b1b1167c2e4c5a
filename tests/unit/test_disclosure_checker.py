"""The checker on whole files: every reader, every bad input, a verdict and never an exception."""

from __future__ import annotations

import base64
import io
import json
import logging
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from agoria_tre.disclosure import checker
from agoria_tre.disclosure.checker import Context, check_bytes, check_paths
from agoria_tre.disclosure.evidence import EVIDENCE_SCHEMA
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.report import ItemReport, Report, walk
from agoria_tre.disclosure.status import Status

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "disclosure-report.schema.json").read_text())
FR = Context(load_profile("fr"))


def rules(item: ItemReport) -> dict[str, Any]:
    return {r.rule: r for r in item.rules}


def check(name: str, data: bytes, evidence: dict[str, Any] | None = None) -> ItemReport:
    sidecar = json.dumps(evidence).encode() if evidence is not None else None
    return check_bytes(name, data, FR, evidence=sidecar).report


def png(text_chunk: bool = False, trailing: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    if text_chunk:
        info.add_text("Comment", "patient 1 84 12 76 451 089 46")
    Image.new("RGB", (20, 10), (200, 10, 10)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue() + trailing


def notebook(cells: list[dict[str, Any]], **extra: Any) -> bytes:
    return json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernel": "x"}, "cells": cells, **extra}
    ).encode()


# --- bare tables -------------------------------------------------------------------------


def test_bare_integer_table_is_assumed_frequency_and_says_so() -> None:
    item = check("t.csv", b"sex,A,B\nF,12,30\nM,9,40\n")
    found = rules(item)
    assert found["table.assumed_frequency"].summary.startswith(
        "checked as a frequency table of units: assumed"
    )
    assert (found["threshold"].status, found["threshold"].cells) == (Status.FAIL, ((1, 0),))
    assert item.status is Status.FAIL
    assert item.sha256 is not None


def test_bare_magnitude_table_goes_to_review() -> None:
    item = check("t.csv", b"sex,mean dose\nF,12.5\nM,13.25\n")
    assert rules(item)["magnitude.evidence"].status is Status.REVIEW
    assert "without evidence of their contributors" in rules(item)["magnitude.evidence"].summary
    assert item.status is Status.REVIEW


def test_suppressed_cell_pinned_by_margins_fails_and_a_protected_one_passes() -> None:
    pinned = check("t.csv", b"sex,A,B,All\nF,*,30,35\nM,20,40,60\nAll,25,70,95\n")
    result = rules(pinned)["secondary_suppression"]
    assert (result.status, result.cells) == (Status.FAIL, ((0, 0),))
    protected = check("t.csv", b"sex,A,B,All\nF,*,*,55\nM,*,*,70\nAll,45,80,125\n")
    assert rules(protected)["secondary_suppression"].status is Status.PASS


def test_identifiers_and_row_level_in_a_table() -> None:
    item = check("t.csv", b"patient_id,age\nQX7A,54\nZZ81,61\n")
    assert rules(item)["row_level"].status is Status.FAIL
    mail = check("t.csv", b"centre,n\njean.dupont@chu-lyon.fr,40\n")
    assert rules(mail)["identifier.email"].status is Status.FAIL
    assert "jean.dupont" not in rules(mail)["identifier.email"].summary


def test_pseudonyms_of_the_project_mean_row_level_data() -> None:
    ctx = Context(load_profile("fr"), frozenset({"K7QWERTYUIOPASDFGHJKLZXCVB"}))
    report = check_bytes("out.txt", b"row 1: K7QWERTYUIOPASDFGHJKLZXCVB 54 F\n", ctx).report
    assert rules(report)["identifier.pseudonym"].status is Status.FAIL


def test_minimum_and_maximum_fail_quantiles_review() -> None:
    item = check("t.csv", b"group,min age,median age\nA,18,54\nB,21,60\n")
    assert rules(item)["statistic.extremes"].status is Status.FAIL
    assert rules(item)["statistic.quantiles"].status is Status.REVIEW


def test_kaplan_meier_steps_use_the_threshold() -> None:
    item = check("km.csv", b"time,at risk,events\n10,40,12\n20,28,3\n30,12,0\n40,6,11\n")
    found = rules(item)
    # The time points label the rows: the data columns are at risk and events.
    assert found["survival.at_risk"].cells == ((3, 0),)
    assert found["survival.events"].cells == ((1, 1),)


# --- tables with evidence ------------------------------------------------------------------


def magnitude_evidence(**changes: Any) -> dict[str, Any]:
    evidence = {
        "schema": EVIDENCE_SCHEMA,
        "output": "t.csv",
        "kind": "magnitude",
        "statistic": "sum",
        "unit": "patient",
        "label_columns": 1,
        "units": [[20, 30], [15, 25]],
        "totals": [[100.0, 300.0], [90.0, 250.0]],
        "top": [[[30.0, 20.0], [200.0, 80.0]], [[10.0, 9.0], [40.0, 30.0]]],
    }
    evidence.update(changes)
    return evidence


def test_magnitude_evidence_drives_dominance_and_p_percent() -> None:
    item = check("t.csv", b"sex,A,B\nF,100,300\nM,90,250\n", magnitude_evidence())
    found = rules(item)
    assert (found["dominance"].status, found["dominance"].cells) == (Status.FAIL, ((0, 1),))
    assert found["dominance"].asserted
    assert found["p_percent"].status is Status.PASS
    assert found["threshold"].status is Status.PASS


def test_evidence_contradicting_the_table_is_researcher_asserted_failure() -> None:
    item = check("t.csv", b"sex,A,B\nF,100,300\nM,90,999\n", magnitude_evidence())
    found = rules(item)["evidence.consistency"]
    assert found.status is Status.FAIL
    assert found.asserted
    assert "researcher-asserted evidence does not match" in found.summary
    swapped = magnitude_evidence(top=[[[20.0, 30.0], [200.0, 80.0]], [[10.0, 9.0], [40.0, 30.0]]])
    assert (
        "descending"
        in rules(check("t.csv", b"sex,A,B\nF,100,300\nM,90,250\n", swapped))[
            "evidence.consistency"
        ].summary
    )


@pytest.mark.parametrize(
    "sidecar",
    [b"{not json", b"[1, 2]", json.dumps({"schema": "other"}).encode()],
)
def test_unusable_evidence_is_refused(sidecar: bytes) -> None:
    report = check_bytes("t.csv", b"a,b\nx,12\n", FR, evidence=sidecar).report
    assert rules(report)["evidence.consistency"].status is Status.FAIL


# --- notebooks ---------------------------------------------------------------------------


def test_notebook_outputs_are_children_pointing_at_cell_and_output() -> None:
    html = (
        "<table><thead><tr><th>drug</th><th>A</th><th>B</th></tr></thead>"
        "<tbody><tr><th>F</th><td>12</td><td>3</td></tr><tr><th>M</th><td>40</td>"
        "<td>50</td></tr></tbody></table>"
    )
    data = notebook(
        [
            {"cell_type": "markdown", "source": "# Results", "metadata": {}},
            {"cell_type": "code", "source": "x = 1", "outputs": [], "execution_count": 1},
            {
                "cell_type": "code",
                "source": "table",
                "execution_count": 2,
                "metadata": {"tags": []},
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": "done\n"},
                    {
                        "output_type": "execute_result",
                        "execution_count": 2,
                        "metadata": {},
                        "data": {
                            "text/html": html,
                            "text/plain": "...",
                            "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
                        },
                    },
                ],
            },
        ]
    )
    item = check("analysis.ipynb", data)
    assert [child.path for child in item.children] == ["cell 3 / output 1", "cell 3 / output 2"]
    table = item.children[1].children[0]
    assert table.path == "cell 3 / output 2 / table 1"
    assert (rules(table)["threshold"].status, rules(table)["threshold"].cells) == (
        Status.FAIL,
        ((0, 1),),
    )
    assert any("widget-view" in note for note in item.notes)
    assert item.status is Status.FAIL


def test_every_text_of_a_notebook_is_scanned_including_code_and_markdown() -> None:
    data = notebook(
        [
            {"cell_type": "code", "source": "contact = 'jean.dupont@chu-lyon.fr'", "outputs": []},
            {"cell_type": "markdown", "source": "Patient NIR 1 84 12 76 451 089 46"},
        ]
    )
    found = rules(check("a.ipynb", data))
    assert found["identifier.email"].status is Status.FAIL
    assert "cell 1" in found["identifier.email"].summary
    assert found["identifier.nir"].status is Status.FAIL


def test_model_summary_in_a_notebook_output() -> None:
    summary = (
        "                            OLS Regression Results\n"
        "Dep. Variable:     y     R-squared:   0.3\nNo. Observations:   12\nDf Residuals:    9\n"
    )
    data = notebook(
        [
            {
                "cell_type": "code",
                "source": "print(m.summary())",
                "outputs": [{"output_type": "stream", "name": "stdout", "text": summary}],
            }
        ]
    )
    child = check("m.ipynb", data).children[0]
    assert rules(child)["model.dof"].status is Status.FAIL


def test_notebook_image_output_is_canonicalised_and_reviewed() -> None:
    encoded = base64.b64encode(png(text_chunk=True, trailing=b"SECRET")).decode()
    data = notebook(
        [
            {
                "cell_type": "code",
                "source": "plot()",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"image/png": encoded, "text/plain": "<Figure>"},
                    }
                ],
            }
        ]
    )
    child = check("p.ipynb", data).children[0]
    assert rules(child)["image.unchecked"].status is Status.REVIEW


def test_html_table_with_merged_body_cells_is_a_verdict_not_a_crash() -> None:
    html = (
        "<table><tr><th>a</th><th>b</th></tr><tr><td colspan='2'>12</td></tr>"
        "<tr><td>3</td><td>4</td></tr></table>"
    )
    data = notebook(
        [
            {
                "cell_type": "code",
                "source": "t",
                "outputs": [
                    {"output_type": "execute_result", "metadata": {}, "data": {"text/html": html}}
                ],
            }
        ]
    )
    output = check("h.ipynb", data).children[0]
    assert output.status is Status.REVIEW
    (table,) = output.children
    assert table.path == "cell 1 / output 1 / table 1"
    assert rules(table)["table.structure"].status is Status.REVIEW
    assert "merged" in rules(table)["table.structure"].summary


def test_html_table_with_merged_cells_in_a_text_file_is_reviewed_not_skipped() -> None:
    html = (
        "<table><tr><th>site</th><th>cases</th></tr><tr><td colspan='2'>Lyon 3</td></tr>"
        "<tr><td>Nice</td><td>40</td></tr></table>"
    )
    item = check("cases.md", html.encode())
    assert item.status is Status.REVIEW
    assert any(rules(c).get("table.structure") for c in item.children)


def test_pandas_multiindex_header_spans_are_expanded() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        [[12, 30, 15, 40]],
        index=pd.Index(["F"], name="sex"),
        columns=pd.MultiIndex.from_product([["2025", "2026"], ["A", "B"]]),
    )
    data = notebook(
        [
            {
                "cell_type": "code",
                "source": "t",
                "outputs": [
                    {
                        "output_type": "execute_result",
                        "metadata": {},
                        "data": {"text/html": frame.to_html()},
                    }
                ],
            }
        ]
    )
    table = check("m.ipynb", data).children[0].children[0]
    assert rules(table)["threshold"].status is Status.PASS


# --- bad inputs: a verdict with a reason, never an exception -------------------------------


BAD = {
    "truncated CSV": ("t.csv", b'a,b\n1,"2\n', "file.unreadable"),
    "binary named .csv": ("t.csv", png(), "file.type"),
    "invalid notebook JSON": ("n.ipynb", b'{"cells": [', "file.unreadable"),
    "notebook without cells": ("n.ipynb", b'{"nbformat": 4}', "file.unreadable"),
    "deeply nested JSON": ("d.json", b"[" * 100 + b"]" * 100, "file.limits"),
    "very deeply nested JSON": ("d.json", b"[" * 100_000 + b"]" * 100_000, "file.limits"),
    "invalid JSON document": ("d.json", b"{'single': quotes}", "file.unreadable"),
    "pickle": ("model.pkl", b"\x80\x04\x95\x00", "file.type"),
    "archive": ("out.zip", b"PK\x03\x04", "file.type"),
    "SVG": ("plot.svg", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", "file.type"),
    "binary text file": ("log.txt", b"\x00\x01\x02", "file.type"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_inputs_get_a_failing_verdict(case: str) -> None:
    name, data, rule = BAD[case]
    item = check(name, data)
    assert item.status is Status.FAIL
    assert rule in rules(item), item.rules
    assert rules(item)[rule].summary


def test_a_50_mb_notebook_is_refused_before_parsing() -> None:
    big = notebook([{"cell_type": "markdown", "source": "x" * 50_000_000}])
    item = check("big.ipynb", big)
    assert [(r.rule, r.status) for r in item.rules] == [("file.limits", Status.FAIL)]
    assert "over the limit of 20,000,000" in item.rules[0].summary


def test_png_with_a_text_chunk_and_trailing_bytes_is_rewritten() -> None:
    checked = check_bytes("p.png", png(text_chunk=True, trailing=b"TRAILING"), FR)
    assert checked.canonical is not None
    assert b"patient" not in checked.canonical
    assert b"TRAILING" not in checked.canonical
    assert "removed: text chunks" in checked.report.notes
    assert checked.report.status is Status.REVIEW


def test_text_is_normalised_to_utf8() -> None:
    checked = check_bytes("notes.md", "Résumé\r\nligne\r\n".encode("cp1252"), FR)
    assert checked.canonical == "Résumé\nligne\n".encode()


# --- reports -----------------------------------------------------------------------------


def test_report_matches_the_documented_schema(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(b"sex,A,B\nF,12,3\nM,40,50\n")
    (tmp_path / "n.ipynb").write_bytes(
        notebook([{"cell_type": "code", "source": "1", "outputs": []}])
    )
    (tmp_path / "x.bin").write_bytes(b"\x00")
    report = check_paths([tmp_path], FR)
    document = report.as_dict()
    jsonschema.validate(document, SCHEMA)
    assert document["status"] == "fail"
    assert {i["path"].split("/")[-1]: i["status"] for i in document["items"]} == {
        "n.ipynb": "pass",
        "t.csv": "fail",
        "x.bin": "fail",
    }


def test_evidence_sidecars_are_consumed_not_checked(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(b"sex,A,B\nF,100,300\nM,90,250\n")
    (tmp_path / "t.evidence.json").write_text(json.dumps(magnitude_evidence()))
    report: Report = check_paths([tmp_path], FR)
    assert [i.path for i in report.items] == [f"{tmp_path.name}/t.csv"]
    assert "checked against the researcher's evidence sidecar" in report.items[0].notes


def test_every_item_has_a_status_and_the_worst_wins() -> None:
    data = notebook(
        [
            {
                "cell_type": "code",
                "source": "1",
                "outputs": [{"output_type": "stream", "name": "stdout", "text": "n = 4\n"}],
            }
        ]
    )
    item = check("n.ipynb", data)
    assert all(isinstance(i.status, Status) for i in walk([item]))
    assert np.isfinite(len(item.children))


def test_the_checker_is_a_pure_library() -> None:
    """disclosure/ imports nothing from the catalog, the hub, the airlock or the CLI."""
    forbidden = (
        "agoria_tre.catalog",
        "agoria_tre.hub",
        "agoria_tre.airlock",
        "agoria_tre.cli",
        "agoria_tre.audit",
        "pickle",
        "marshal",
    )
    for path in (ROOT / "src/agoria_tre/disclosure").rglob("*.py"):
        text = path.read_text()
        for name in forbidden:
            assert f"import {name}" not in text, (path, name)
            assert f"from {name}" not in text, (path, name)
        assert "eval(" not in text, path
        assert "exec(" not in text, path


def test_a_sidecar_is_never_an_item_and_an_orphan_fails(tmp_path: Path) -> None:
    (tmp_path / "model.txt").write_text("y ~ x\n")
    (tmp_path / "model.evidence.json").write_text(
        json.dumps(
            {
                "schema": EVIDENCE_SCHEMA,
                "kind": "model",
                "statistic": "model",
                "model": {"family": "OLS", "nobs": 8, "df_resid": 5},
            }
        )
    )
    (tmp_path / "lost.evidence.json").write_text("{}")
    report = check_paths([tmp_path], FR)
    by_name = {Path(i.path).name: i for i in report.items}
    assert sorted(by_name) == ["lost.evidence.json", "model.txt"]
    assert rules(by_name["lost.evidence.json"])["file.type"].status is Status.FAIL
    dof = rules(by_name["model.txt"])["model.dof"]
    assert (dof.status, dof.asserted) == (Status.FAIL, True)
    assert "5 residual degrees of freedom, fewer than 10" in dof.summary


def test_model_evidence_must_agree_with_the_printed_summary() -> None:
    summary = b"OLS Regression Results\nDep. Variable: y\nDf Residuals:   40\n"
    evidence = {
        "schema": EVIDENCE_SCHEMA,
        "kind": "model",
        "model": {"family": "OLS", "df_resid": 4},
    }
    found = rules(check("m.txt", summary, evidence))
    assert found["evidence.consistency"].status is Status.FAIL
    assert "prints 40 residual degrees of freedom, the evidence 4" in (
        found["evidence.consistency"].summary
    )


def test_survival_evidence_counts_distinct_units() -> None:
    table = b"time,at risk,events\n10,40,12\n20,30,12\n"
    evidence = {
        "schema": EVIDENCE_SCHEMA,
        "kind": "survival",
        "statistic": "count",
        "label_columns": 1,
        "units": [[40, 12], [9, 12]],
    }
    found = rules(check("km.csv", table, evidence))
    assert found["survival.at_risk"].cells == ((1, 0),)
    assert found["survival.at_risk"].asserted


def test_the_canonical_notebook_holds_exactly_what_was_checked() -> None:
    encoded = base64.b64encode(png(text_chunk=True, trailing=b"TRAILING")).decode()
    data = notebook(
        [
            {
                "cell_type": "code",
                "source": "plot()",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {
                            "image/png": encoded,
                            "text/plain": "<Figure>",
                            "text/html": "<table><tr><td>3</td></tr></table>",
                            "text/markdown": "paul@orange.fr",
                        },
                    },
                    {
                        "output_type": "execute_result",
                        "metadata": {},
                        "data": {"text/plain": {"x": "paul@orange.fr"}},
                    },
                ],
            }
        ]
    )
    checked = check_bytes("n.ipynb", data, FR)
    assert checked.canonical is not None
    document = json.loads(checked.canonical)
    outputs = document["cells"][0]["outputs"]
    assert len(outputs) == 1  # the non-text text/plain payload is dropped, not kept unread
    kept = outputs[0]["data"]
    assert sorted(kept) == ["image/png", "text/plain"]
    image = base64.b64decode(kept["image/png"])
    assert b"TRAILING" not in image
    assert b"patient" not in image
    assert b"paul@orange.fr" not in checked.canonical
    assert any("text/markdown (an image was kept)" in note for note in checked.report.notes)


NOT_PASS = {
    "a text column after the counts": (b"group,n,note\nA,3,ok\nB,50,\n", None),
    "n (%) cells": (b'group,n\nA,"3 (30%)"\nB,"70 (70%)"\n', None),
    "thousands separators": (b'group,n\nA,"1,234"\nB,3\n', None),
    "a count in words": (b"group,n\nA,see note 2\nB,50\n", None),
    "zero-width space": ("group,n\nA,3\u200b\nB,50\n".encode(), None),
    "pipe delimited": (b"group|n\nA|3\nB|50\n", None),
    "count in a label": (b"group,pct\nWomen (n=7),40\nMen (n=93),60\n", None),
    "events column named like survival": (b"g,events,n\nA,50,3\nB,60,40\n", None),
    "a '<2' marker": (b"sex,A,B\nF,<2,30\nM,20,40\n", None),
    "infinite total": (b"sex,A,All\nF,*,1e400\nM,20,40\nAll,25,1e400\n", None),
    "model sidecar on a table": (b"g,n\nA,3\nB,5\n", {"kind": "model", "model": {"df_resid": 99}}),
    "frequency sidecar without units": (b"g,n\nA,3\nB,5\n", {"kind": "frequency"}),
    "percent statistic": (
        b"g,n\nA,3\nB,5\n",
        {"kind": "frequency", "statistic": "percent", "units": [[30], [50]]},
    ),
    "label_columns hides every column": (
        b"g,n\nA,3\nB,5\n",
        {"kind": "frequency", "label_columns": 2, "units": []},
    ),
    "not finite units": (b"g,n\nA,3\nB,5\n", None),
}


@pytest.mark.parametrize("case", list(NOT_PASS))
def test_hostile_tables_never_pass(case: str) -> None:
    data, sidecar = NOT_PASS[case]
    evidence = None if sidecar is None else {"schema": EVIDENCE_SCHEMA, **sidecar}
    item = check("t.csv", data, evidence)
    assert item.status is not Status.PASS, [(r.rule, r.status, r.summary) for r in item.rules]


def test_an_infinite_sidecar_is_refused() -> None:
    sidecar = (
        b'{"schema": "'
        + EVIDENCE_SCHEMA.encode()
        + b'", "kind": "frequency", "units": [[Infinity], [5]]}'
    )
    report = check_bytes("t.csv", b"g,n\nA,3\nB,5\n", FR, evidence=sidecar).report
    assert rules(report)["evidence.consistency"].status is Status.FAIL


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.json", b'{"contact": "jean.dupont\\u0040gmail.com"}'),
        ("a.md", b"contact: jean&#64;gmail.com"),
        ("a.md", b"contact: jean<span></span>@gmail.com"),
    ],
)
def test_identifiers_hidden_by_encoding_are_found(name: str, data: bytes) -> None:
    assert rules(check(name, data))["identifier.email"].status is Status.FAIL


def test_links_and_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "real.csv").write_text("g,n\nA,30\nB,50\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    report = check_paths([tmp_path], FR)
    link = next(i for i in report.items if i.path.endswith("link.csv"))
    assert rules(link)["file.type"].status is Status.FAIL
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_paths([empty], FR).items == []


def test_notebook_tables_take_part_in_differencing(tmp_path: Path) -> None:
    (tmp_path / "by_sex.csv").write_text("sex,n\nF,120\nM,130\n")
    html = (
        "<table><thead><tr><th>sex</th><th>n</th></tr></thead><tbody>"
        "<tr><th>F</th><td>117</td></tr><tr><th>M</th><td>130</td></tr></tbody></table>"
    )
    (tmp_path / "a.ipynb").write_bytes(
        notebook(
            [
                {
                    "cell_type": "code",
                    "source": "t",
                    "outputs": [
                        {
                            "output_type": "execute_result",
                            "metadata": {},
                            "data": {"text/html": html},
                        }
                    ],
                }
            ]
        )
    )
    report = check_paths([tmp_path], FR)
    notebook_item = next(i for i in report.items if i.path.endswith("a.ipynb"))
    table = notebook_item.children[0].children[0]
    assert rules(table)["differencing"].status is Status.REVIEW
    assert "by_sex.csv" in rules(table)["differencing"].summary


def test_a_sidecar_cannot_hide_a_failing_summary_printed_beside_a_good_one() -> None:
    text = (
        b"OLS Regression Results\nDep. Variable: y\nNo. Observations: 7\nDf Residuals:   4\n"
        b"OLS Regression Results\nDep. Variable: y\nNo. Observations: 503\n"
        b"Df Residuals:   500\n"
    )
    evidence = {"schema": EVIDENCE_SCHEMA, "kind": "model", "model": {"df_resid": 500}}
    item = check("m.txt", text, evidence)
    assert Status.FAIL in {r.status for r in item.rules if r.rule == "model.dof"}


def test_tables_printed_as_text_are_checked() -> None:
    import pandas as pd

    frame = pd.crosstab(
        pd.Series(["F", "M"] * 20, name="sex"), pd.Series(["A"] * 36 + ["C"] * 4, name="drug")
    )
    printed = check("out.txt", str(frame).encode())
    table = printed.children[0]
    assert table.path == "out.txt / table 1"
    assert rules(table)["threshold"].cells == ((0, 1), (1, 1))
    markdown = check("out.md", b"| sex | n |\n|---|---|\n| F | 3 |\n| M | 40 |\n")
    assert rules(markdown.children[0])["threshold"].cells == ((0, 0),)
    stream = notebook(
        [
            {
                "cell_type": "code",
                "source": "print(t)",
                "outputs": [{"output_type": "stream", "name": "stdout", "text": str(frame)}],
            }
        ]
    )
    assert check("n.ipynb", stream).status is Status.FAIL
    prose = check("notes.md", b"We saw 3 cases in 2024.\nNothing else.\n")
    assert prose.children == []


def test_magnitude_tables_are_compared_on_their_unit_counts(tmp_path: Path) -> None:
    import pandas as pd

    from agoria_tre import safe

    rng = np.random.default_rng(4)
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], 300),
            "arm": rng.choice(["a", "b"], 300),
            "cost": rng.gamma(2.0, 10.0, 300),
        }
    )
    safe.crosstab(
        frame.sex, frame.arm, values=frame.cost, aggfunc="sum", outputs=tmp_path, name="all"
    )
    fewer = frame.drop(index=frame.index[(frame.sex == "F") & (frame.arm == "a")][:3])
    safe.crosstab(
        fewer.sex, fewer.arm, values=fewer.cost, aggfunc="sum", outputs=tmp_path, name="fewer"
    )
    report = check_paths([tmp_path], FR)
    by_name = {Path(i.path).name: i for i in report.items}
    result = rules(by_name["all.csv"])["differencing"]
    assert (result.status, result.cells) == (Status.REVIEW, ((0, 0),))
    assert "3 units" in result.summary
    assert "fewer.csv" in result.summary


@pytest.mark.parametrize(
    "document",
    [
        {"F": 3, "M": 50},
        {"A": {"F": 3, "M": 50}, "B": {"F": 40, "M": 60}},
        [{"sex": "F", "n": 3}, {"sex": "M", "n": 50}],
        {"results": {"by_sex": {"F": 3, "M": 50}}},
    ],
)
def test_json_objects_of_counts_are_checked_as_tables(document: object) -> None:
    item = check("counts.json", json.dumps(document).encode())
    assert item.status is Status.FAIL
    assert any(
        rules(child).get("threshold") is not None
        and rules(child)["threshold"].status is Status.FAIL
        for child in item.children
    )


SECOND_REVIEW = {
    "single-column print": ("a.txt", b"    n\nF   3\nM  45\n"),
    "value_counts": ("a.txt", b"sex\nM    45\nF     3\nName: count, dtype: int64\n"),
    "label with spaces": ("a.txt", b"                n\nIle de France   3\nBretagne       45\n"),
    "NaN cell": ("a.txt", b"    A     B\nF   3   NaN\nM  45  60.0\n"),
    "title above": ("a.txt", b"Counts by sex\n    n\nF   3\nM  45\n"),
    "summary beside a table": (
        "a.md",
        b"Dep. Variable: y\nDf Residuals: 500\n\n| sex | n |\n|---|---|\n| F | 3 |\n| M | 40 |\n",
    ),
    "HTML in markdown": (
        "a.md",
        b"<table><tr><th>sex</th><th>n</th></tr><tr><td>F</td><td>3</td></tr>"
        b"<tr><td>M</td><td>40</td></tr></table>\n",
    ),
    "one text cell in a count column": (
        "t.csv",
        b"groupe,effectif,cout\nA,3,15000\nB,45,30000\nC,inconnu,12000\n",
    ),
    "ANSI-coloured NIR": ("a.log", b"\x1b[1m185057800608491\x1b[0m"),
    "NIR as a float": ("t.csv", b"x,y\nA,185057800608491.0\nB,100\n"),
    "NIR with tabs": ("a.txt", b"NIR du patient : 1\t85\t05\t78\t006\t084\t91"),
    "phone with slashes": ("a.txt", b"tel: 06/12/34/56/78"),
}


@pytest.mark.parametrize("case", list(SECOND_REVIEW))
def test_second_review_cases_never_pass(case: str) -> None:
    name, data = SECOND_REVIEW[case]
    item = check(name, data)
    assert item.status is not Status.PASS, [(r.rule, r.status) for r in item.rules]


@pytest.mark.parametrize(
    "cells",
    [
        [{"cell_type": "markdown", "source": "| sex | n |\n|---|---|\n| F | 3 |\n| M | 45 |\n"}],
        [{"cell_type": "markdown", "source": "Contact: jean.dupont&#64;chu-lyon.fr"}],
        [
            {
                "cell_type": "code",
                "source": "t",
                "outputs": [
                    {
                        "output_type": "execute_result",
                        "data": {
                            "text/html": "<b>counts</b>",
                            "text/plain": "    n   m\nF   3  50\nM  45  60",
                        },
                    }
                ],
            }
        ],
    ],
)
def test_notebook_sources_and_companions_are_checked(cells: list[dict[str, Any]]) -> None:
    assert check("n.ipynb", notebook(cells)).status is not Status.PASS


def test_sidecars_cannot_remove_checks() -> None:
    table = b"sex,n\nF,3\nM,45\n"
    for sidecar in (
        {"kind": "survival", "units": [[3], [45]]},
        {"kind": "histogram", "units": [[50], [45]], "histogram": {"bounded": True}},
        {"kind": "frequency", "statistic": "count, normalised", "units": [[50], [45]]},
    ):
        item = check("t.csv", table, {"schema": EVIDENCE_SCHEMA, **sidecar})
        assert item.status is not Status.PASS, sidecar


def test_phone_numbers_that_lost_their_leading_zero() -> None:
    item = check("t.csv", b"patient_group,tel\nA,612345678\nB,145678901\n")
    assert rules(item)["identifier.phone"].cells == ((0, 0), (1, 0))
    readings = check("t.csv", b"group,telemetry readings\nA,612345678\n")
    assert "identifier.phone" not in rules(readings)
    assert "identifier.phone" in rules(check("t.csv", b"group,num_tel\nA,612345678\n"))


THIRD_REVIEW = {
    "LaTeX": (
        "a.txt",
        b"\\begin{tabular}{lrr}\n\\toprule\nsmk & n & y \\\\\nsex &  &  \\\\\n"
        b"\\midrule\nF & 2 & 1 \\\\\nM & 19 & 15 \\\\\n\\bottomrule\n\\end{tabular}\n",
    ),
    "grid": (
        "a.txt",
        b"+-------+-----+-----+\n| sex   |   n |   y |\n+=======+=====+=====+\n"
        b"| F     |   2 |   1 |\n+-------+-----+-----+\n| M     |  19 |  15 |\n"
        b"+-------+-----+-----+\n",
    ),
    "psql": (
        "a.txt",
        b" sex | no | yes \n-----+----+-----\n F   |  2 |   1\n M   | 19 |  15\n(2 rows)\n",
    ),
    "box drawing": (
        "a.txt",
        "\u2502 sex \u2502 no \u2502 yes \u2502\n\u2502 F \u2502 2 \u2502 1 \u2502\n"
        "\u2502 M \u2502 19 \u2502 15 \u2502\n".encode(),
    ),
    "json split": ("a.json", b'{"columns":["no","yes"],"index":["F","M"],"data":[[2,1],[19,15]]}'),
    "json values": ("a.json", b"[[2,1],[19,15]]"),
    "count in prose": ("a.txt", b"Cohort (n = 7): mean age 54.2\n"),
    "df.info()": ("a.txt", b"RangeIndex: 7 entries, 0 to 6\n"),
    "savetxt NIR": ("a.txt", b"1.850578006084910000e+14,3.000000000000000000e+00\n"),
}


@pytest.mark.parametrize("case", list(THIRD_REVIEW))
def test_third_review_cases_never_pass(case: str) -> None:
    name, data = THIRD_REVIEW[case]
    item = check(name, data)
    assert item.status is not Status.PASS, [(r.rule, r.status) for r in item.rules]


def test_a_count_column_in_a_table_of_measures_faces_the_threshold() -> None:
    item = check("t.csv", b"group,mean age,count\nA,54.2,3\nB,61.5,45\n")
    assert rules(item)["threshold"].cells == ((0, 1),)
    assert item.status is Status.FAIL


def test_numeric_pseudonyms_that_lost_their_leading_zeros() -> None:
    ctx = Context(load_profile("fr"), frozenset({"000123456"}))
    report = check_bytes("o.txt", b"Outlier: subject 123456 has BMI 61.2\n", ctx).report
    assert rules(report)["identifier.pseudonym"].status is Status.FAIL


def test_tables_printed_as_text_in_a_notebook_are_compared_with_each_other(
    tmp_path: Path,
) -> None:
    import pandas as pd

    def printed(cases: int) -> dict[str, Any]:
        frame = pd.DataFrame(
            {"drug A": [cases, 98], "drug B": [64, 71]}, index=pd.Index(["F", "M"], name="sex")
        )
        return {"output_type": "stream", "name": "stdout", "text": frame.to_string() + "\n"}

    cell = {"cell_type": "code", "source": "print(t)", "outputs": [printed(120), printed(118)]}
    (tmp_path / "n.ipynb").write_bytes(notebook([cell]))
    report = check_paths([tmp_path], FR)
    (item,) = report.items
    assert item.status is Status.REVIEW
    found = [
        r for c in item.children for t in c.children for r in t.rules if r.rule == "differencing"
    ]
    assert found
    assert found[0].status is Status.REVIEW
    assert "by 2 units" in found[0].summary


@pytest.mark.parametrize(
    "text",
    [
        # pandas: column names with spaces, read by their aligned positions
        "     drug A  drug B\nsex                \nF         3      64\nM        98      71\n",
        # hand-aligned badly: the number the words would put in the label is a value
        "sex  drug A  drug B\nF        3      64\nM         98      71\n",
        "A 3 64\nB 98 71\n",
    ],
)
def test_counts_in_printed_tables_never_hide_in_labels(text: str) -> None:
    item = check("t.txt", text.encode())
    (table,) = item.children
    assert rules(table)["threshold"].status is Status.FAIL
    assert rules(table)["threshold"].cells == ((0, 0),)


def test_aligned_labels_with_numbers_stay_labels() -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {"drug A": [45, 30], "drug B": [64, 71]},
        index=pd.Index(["Grade 3", "Grade 4"], name="grade"),
    )
    (table,) = check("t.txt", frame.to_string().encode()).children
    assert rules(table)["threshold"].status is Status.PASS


def test_cells_the_checker_cannot_read_are_located_never_quoted() -> None:
    nir = "1 84 12 76 451 089 46"
    item = check("t.csv", f"region,n\nNord,25\nSud,{nir} ?\nEst,30\n".encode())
    unparsed = rules(item)["table.unparsed"]
    assert unparsed.status == Status.REVIEW
    assert unparsed.summary == (
        "1 cells hold numbers the checker cannot read (the first in data row 2, value"
        " column 1): check them by eye"
    )
    assert rules(item)["identifier.nir"].status == Status.FAIL
    assert "451 089" not in json.dumps(item.as_dict(), default=str)  # the report never holds it


def test_an_internal_error_is_logged_with_its_traceback_and_fails_the_item(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise IndexError("a reader nobody foresaw")

    monkeypatch.setattr(checker, "_check_bytes", broken)
    with caplog.at_level(logging.ERROR, logger="agoria_tre.disclosure.checker"):
        item = check("t.csv", b"sex,n\nF,30\n")
    assert [(r.rule, r.status) for r in item.rules] == [("file.unreadable", Status.FAIL)]
    assert "could not read this file (IndexError)" in item.rules[0].summary
    [record] = caplog.records
    assert "t.csv" in record.getMessage()
    assert record.exc_info is not None


def test_html_pages_of_pandas_and_its_styler_are_read_as_tables() -> None:
    import pandas as pd

    frame = pd.DataFrame({"F": [30, 3], "M": [40, 50]}, index=pd.Index(["A", "B"], name="drug"))
    for page in (frame.to_html(), frame.style.highlight_max(color="yellow").to_html()):
        item = check("t.html", page.encode())
        [table] = item.children
        assert (rules(table)["threshold"].status, rules(table)["threshold"].cells) == (
            Status.FAIL,
            ((1, 0),),
        )
    scripted = frame.to_html() + "<script>fetch('x')</script>"
    assert rules(check("t.html", scripted.encode()))["file.type"].status is Status.FAIL


# --- a layout that could hide a disclosive cell ----------------------------------------------

HIDDEN_BY_LAYOUT = {
    "a listing written with pandas' row index": "".join(
        [",age,sex\n", *(f"{k},{50 + k},{'FM'[k % 2]}\n" for k in range(20))]
    ),
    "category rows holding statistic words": (
        "infection,F,M\nSepsis,30,40\nUpper respiratory tract,3,2\n"
        "Lower respiratory tract,4,1\nUrinary tract,2,1\n"
    ),
    "outcome rows": "outcome,F,M\nIn-hospital death,30,40\nSurvival to discharge,3,2\n",
    "score rows": "charlson,F,M\nScore 0,30,40\nScore 1,3,2\n",
    "hormone receptor columns": "sex,HR+,HR-,Total\nF,3,40,43\nM,30,40,70\n",
    "heart failure and stroke columns": "age_group,IC,AVC,Total\n<65,3,40,43\n65+,30,2,32\n",
    "exposure columns": "sex,exposure yes,exposure no\nF,3,40\nM,30,40\n",
    "score band columns": "sex,score 0-2,score 3+\nF,3,40\nM,30,40\n",
    "level columns": "sexe,faible,moyen,élevé\nF,30,3,50\nM,30,40,50\n",
    "a maximum in a leading column": "arm,time_max,n\nA,365,40\nB,290,50\n",
    "a ranked listing": "rank,age,sex\n1,97,F\n2,95,M\n3,94,F\n4,93,M\n5,92,F\n",
}


@pytest.mark.parametrize("case", list(HIDDEN_BY_LAYOUT))
def test_a_layout_never_hides_a_disclosive_cell(case: str) -> None:
    item = check("t.csv", HIDDEN_BY_LAYOUT[case].encode())
    assert item.status is not Status.PASS, [(r.rule, r.status) for r in item.rules]


def test_a_table_printed_right_after_a_model_summary_is_checked() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    x = sm.add_constant(rng.normal(size=200))
    y = (x[:, 1] + rng.normal(size=200) > 0).astype(float)
    summary = str(sm.Logit(y, x).fit(disp=0).summary())
    table = "region  deaths\nCorse        3\nParis       40\n"
    item = check("out.txt", (summary + "\n" + table).encode())
    assert found_fail(item, "threshold")
    prose = summary + "\nThree patients died; the oldest was 97.\n"
    assert check("out.txt", prose.encode()).status is Status.REVIEW


def found_fail(item: ItemReport, rule: str) -> bool:
    return any(r.rule == rule and r.status is Status.FAIL for n in walk([item]) for r in n.rules)


def test_a_json_tables_syntax_and_latex_rows_are_not_prose() -> None:
    document = json.dumps({"count": {"A": 40, "B": 52}, "median": {"A": 55.5, "B": 61.0}})
    item = check("t.json", document.encode())
    assert [r.status for r in item.rules if r.rule == "prose.hints"] == [Status.PASS]
    latex = (
        "\\begin{tabular}{lr}\nCRP, median [IQR] & 7.0 [4.1-11.9] \\\\\n"
        "N & 512 \\\\\n\\end{tabular}\n"
    )
    item = check("t.tex", latex.encode())
    assert [r.status for r in item.rules if r.rule == "prose.hints"] == [Status.PASS]
    labelled = check("meta.json", b'{"study": "A", "n_deaths": 3}')
    assert [r.status for r in labelled.rules if r.rule == "prose.hints"] == [Status.REVIEW]
