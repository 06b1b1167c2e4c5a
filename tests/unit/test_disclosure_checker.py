"""The checker's contract on whole files and folders: every bad input gets a verdict and never
an exception, an internal error fails the item, the report follows its schema and the worst
status wins, evidence sidecars are consumed and can add checks but never remove one, links
are refused, what is released is exactly what was checked, and the checker is a pure library.

The rules and readers are tested in their own modules (test_disclosure_<rule or reader>.py),
and on labelled example files (test_disclosure_examples.py)."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from agoria_tre.disclosure import checker
from agoria_tre.disclosure.checker import check_bytes, check_paths
from agoria_tre.disclosure.evidence import EVIDENCE_SCHEMA
from agoria_tre.disclosure.report import Report, walk
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import FR, check, figure, png, rules
from tests.unit.disclosure_support import notebook_of as notebook

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs" / "disclosure-report.schema.json").read_text())


# --- evidence sidecars: they add checks, never remove one ------------------------------------


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


def test_an_infinite_sidecar_is_refused() -> None:
    sidecar = (
        b'{"schema": "'
        + EVIDENCE_SCHEMA.encode()
        + b'", "kind": "frequency", "units": [[Infinity], [5]]}'
    )
    report = check_bytes("t.csv", b"g,n\nA,3\nB,5\n", FR, evidence=sidecar).report
    assert rules(report)["evidence.consistency"].status is Status.FAIL


def test_sidecars_cannot_remove_checks() -> None:
    table = b"sex,n\nF,3\nM,45\n"
    for sidecar in (
        {"kind": "survival", "units": [[3], [45]]},
        {"kind": "histogram", "units": [[50], [45]], "histogram": {"bounded": True}},
        {"kind": "frequency", "statistic": "count, normalised", "units": [[50], [45]]},
    ):
        item = check("t.csv", table, {"schema": EVIDENCE_SCHEMA, **sidecar})
        assert item.status is not Status.PASS, sidecar


def test_a_sidecar_cannot_hide_a_failing_summary_printed_beside_a_good_one() -> None:
    text = (
        b"OLS Regression Results\nDep. Variable: y\nNo. Observations: 7\nDf Residuals:   4\n"
        b"OLS Regression Results\nDep. Variable: y\nNo. Observations: 503\n"
        b"Df Residuals:   500\n"
    )
    evidence = {"schema": EVIDENCE_SCHEMA, "kind": "model", "model": {"df_resid": 500}}
    item = check("m.txt", text, evidence)
    assert Status.FAIL in {r.status for r in item.rules if r.rule == "model.dof"}


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


def test_evidence_sidecars_are_consumed_not_checked(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(b"sex,A,B\nF,100,300\nM,90,250\n")
    (tmp_path / "t.evidence.json").write_text(json.dumps(magnitude_evidence()))
    report: Report = check_paths([tmp_path], FR)
    assert [i.path for i in report.items] == [f"{tmp_path.name}/t.csv"]
    assert "checked against the researcher's evidence sidecar" in report.items[0].notes


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


# --- bad inputs: a verdict with a reason, never an exception ---------------------------------


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


# --- reports and folders ---------------------------------------------------------------------


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


def test_links_and_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "real.csv").write_text("g,n\nA,30\nB,50\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    report = check_paths([tmp_path], FR)
    link = next(i for i in report.items if i.path.endswith("link.csv"))
    assert rules(link)["file.type"].status is Status.FAIL
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_paths([empty], FR).items == []


# --- what is released is what was checked ----------------------------------------------------


def test_text_is_normalised_to_utf8() -> None:
    checked = check_bytes("notes.md", "Résumé\r\nligne\r\n".encode("cp1252"), FR)
    assert checked.canonical == "Résumé\nligne\n".encode()


def test_the_canonical_notebook_holds_exactly_what_was_checked() -> None:
    plot = figure(
        png(text_chunk=True, trailing=b"TRAILING"),
        {"text/html": "<table><tr><td>3</td></tr></table>", "text/markdown": "paul@orange.fr"},
    )
    data = notebook(
        [
            {
                "cell_type": "code",
                "source": "plot()",
                "outputs": [
                    plot,
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


# --- a pure library --------------------------------------------------------------------------


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
