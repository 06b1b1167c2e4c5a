"""ACRO output folders: a real one written by ACRO 1.0.2, then hostile ones.

ACRO runs in its own virtual environment (``tests/acro``: it pins an older pandas); a small
session writes a crosstab with a small cell, the same with margins, two regressions (one
with too few residual degrees of freedom), a custom file and an exception request, then
``finalise()``. The reader must map ACRO's records cell for cell, and refuse any folder
whose ``results.json`` is not ACRO's or names a file outside the folder.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from agoria_tre.disclosure.checker import Context, check_paths
from agoria_tre.disclosure.policy import Limits, load_profile
from agoria_tre.disclosure.readers.acro import AcroOutput, is_acro_folder, read_acro_folder
from agoria_tre.disclosure.readers.table import Table, parse_csv
from agoria_tre.disclosure.report import RuleResult
from agoria_tre.disclosure.rules import tables
from agoria_tre.disclosure.status import Status
from tests.acro.test_acro_agreement import acro_environment

UK = load_profile("uk")
LIMITS = UK.limits
EXCEPTION = "the small cell is published in the annual report: please release"

SESSION = textwrap.dedent(
    """
    import numpy as np
    import pandas as pd
    from acro import ACRO

    counts = {("F", "A"): 40, ("F", "B"): 30, ("F", "C"): 3,
              ("M", "A"): 35, ("M", "B"): 45, ("M", "C"): 12}
    rows = [(sex, drug) for (sex, drug), n in counts.items() for _ in range(n)]
    rng = np.random.default_rng(3)
    df = pd.DataFrame(rows, columns=["sex", "drug"])
    df["age"] = rng.normal(50, 10, len(df)).round(1)
    df["cost"] = (df.age * 3 + rng.normal(0, 5, len(df))).round(2)

    acro = ACRO(suppress=False)
    acro.crosstab(df.sex, df.drug)
    acro.crosstab(df.sex, df.drug, margins=True)
    acro.ols(df.cost, df[["age"]].assign(const=1.0))
    acro.ols(df.cost.iloc[:8], df[["age"]].assign(const=1.0).iloc[:8])
    with open("notes.txt", "w") as handle:
        handle.write("cohort described in the protocol")
    acro.custom_output("notes.txt", "protocol notes")
    acro.add_exception("output_0", EXCEPTION)
    acro.finalise("acro_out", "json")
    """
).replace("EXCEPTION", repr(EXCEPTION))


@pytest.fixture(scope="module")
def acro_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder written by ACRO 1.0.2's ``finalise()``, made once for the module."""
    python = acro_environment()
    work = tmp_path_factory.mktemp("acro-session")
    (work / "session.py").write_text(SESSION)
    done = subprocess.run(
        [str(python), "session.py"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return work / "acro_out"


@pytest.fixture
def copy(acro_folder: Path, tmp_path: Path) -> Path:
    """A private copy of the ACRO folder, for a test to tamper with."""
    target = tmp_path / "acro_out"
    shutil.copytree(acro_folder, target)
    return target


def outputs_of(folder: Path, limits: Limits = LIMITS) -> dict[str, AcroOutput]:
    read = read_acro_folder(folder, limits)
    assert isinstance(read, list), read
    return {output.uid: output for output in read}


def rules_of(output: AcroOutput) -> dict[str, RuleResult]:
    return {rule.rule: rule for rule in output.checks}


def checksum_of(output: AcroOutput) -> RuleResult | None:
    """The checksum verdict on the output's files as they are now, each read once."""
    return output.checksum_rule([path.read_bytes() for path in output.files])


def refusal(folder: Path, limits: Limits = LIMITS) -> RuleResult:
    read = read_acro_folder(folder, limits)
    assert isinstance(read, RuleResult), read
    assert read.status is Status.FAIL
    return read


def edit_results(folder: Path, change: Any) -> None:
    path = folder / "results.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


# --- a real ACRO folder ------------------------------------------------------------------


def test_real_folder_is_recognised(acro_folder: Path, tmp_path: Path) -> None:
    assert is_acro_folder(acro_folder)
    assert not is_acro_folder(acro_folder / "results.json")
    assert not is_acro_folder(tmp_path)


def test_crosstab_threshold_cells_are_acros_and_ours(acro_folder: Path) -> None:
    outputs = outputs_of(acro_folder)
    crosstab = outputs["output_0"]
    assert (crosstab.type, crosstab.status) == ("table", Status.FAIL)
    assert crosstab.command == "acro.crosstab(df.sex, df.drug)"
    assert "MinimumThresholdCheck: fail - 1 cells may need suppressing" in crosstab.summary
    assert crosstab.exception == EXCEPTION
    assert crosstab.files == (acro_folder / "output_0_0.csv",)
    rules = rules_of(crosstab)
    threshold = rules["acro.threshold"]
    assert (threshold.status, threshold.cells, threshold.asserted) == (
        Status.FAIL,
        ((0, 2),),  # (F, C): 3 units
        True,
    )
    assert threshold.summary == "ACRO's threshold check (MinimumThresholdCheck): fail on 1 cell"
    assert all(rule.rule.startswith("acro.") and rule.asserted for rule in crosstab.checks)
    same = checksum_of(crosstab)
    assert same is not None
    assert same.status is Status.PASS
    # ACRO's positions are positions in the table as we read it, and our own threshold
    # rule (profile uk, ACRO's semantics) flags the same cells, with and without margins.
    for uid in ("output_0", "output_1"):
        output = outputs[uid]
        table = parse_csv(output.files[0].read_bytes(), LIMITS, name=output.files[0].name)
        assert isinstance(table, Table)
        assert output.cells_apply_to(table.shape)
        ours = tables.threshold(table.values, UK)
        assert ours.cells == rules_of(output)["acro.threshold"].cells
    assert outputs["output_1"].table_shape == (3, 4)  # F, M, All by A, B, C, All
    assert outputs["output_1"].exception is None


def test_regressions_map_to_model_dof(acro_folder: Path) -> None:
    outputs = outputs_of(acro_folder)
    enough, few = outputs["output_2"], outputs["output_3"]
    assert (enough.type, enough.status, few.status) == ("regression", Status.PASS, Status.FAIL)
    assert len(enough.files) == 3
    assert all(f.parent == acro_folder and f.suffix == ".csv" for f in enough.files)
    dof = rules_of(enough)["acro.model.dof"]
    assert (dof.status, dof.cells, dof.asserted) == (Status.PASS, (), True)
    assert dof.summary == "ACRO recorded 163 residual degrees of freedom; its check: pass"
    low = rules_of(few)["acro.model.dof"]
    assert low.status is Status.FAIL
    assert low.summary == "ACRO recorded 6 residual degrees of freedom; its check: fail"
    assert not enough.cells_apply_to((2, 6))


def test_custom_outputs_and_acros_own_summaries(acro_folder: Path) -> None:
    outputs = outputs_of(acro_folder)
    custom = outputs["output_4"]
    assert (custom.type, custom.status, custom.command) == ("custom", Status.REVIEW, "custom")
    assert custom.files == (acro_folder / "notes.txt",)
    assert custom.comments == ("protocol notes",)
    assert custom.checks == ()  # ACRO checks nothing in a custom output: its files only
    assert checksum_of(custom) is not None
    # ACRO adds its session summary, for the output checker only: it must not leave.
    internal = [o for uid, o in outputs.items() if "DONT_RELEASE" in uid]
    assert internal
    for output in internal:
        rule = rules_of(output)["acro.not_for_release"]
        assert (rule.status, rule.asserted) == (Status.FAIL, True)


def test_suppressed_cells_are_a_review(copy: Path) -> None:
    # As ACRO records a table it suppressed itself: status review, mitigation "suppress".
    def suppressed(document: dict[str, Any]) -> None:
        record = document["results"]["output_0"]
        record["status"] = "review"
        record["properties"]["mitigation"] = "suppress"

    edit_results(copy, suppressed)
    (copy / "checksums" / "results.json.txt").unlink()
    rule = rules_of(outputs_of(copy)["output_0"])["acro.threshold"]
    assert (rule.status, rule.cells) == (Status.REVIEW, ((0, 2),))
    assert rule.summary.endswith("ACRO suppressed them before writing the table")


def test_a_file_changed_after_acro_is_a_review(copy: Path) -> None:
    table = copy / "output_0_0.csv"
    table.write_text(table.read_text().replace("F,40,30,3\n", "F,40,30,13\n"))
    rule = checksum_of(outputs_of(copy)["output_0"])
    assert rule is not None
    assert rule.status is Status.REVIEW
    assert rule.summary == (
        "'output_0_0.csv' changed after ACRO checked it: ACRO's record describes another file"
    )
    (copy / "checksums" / "notes.txt.txt").unlink()
    rule = checksum_of(outputs_of(copy)["output_4"])
    assert rule is not None
    assert (rule.status, rule.summary) == (
        Status.REVIEW,
        "ACRO recorded no checksum for 'notes.txt'",
    )
    (copy / "checksums" / "notes.txt.txt").write_text("not a hash\n")
    assert "is not a SHA-256" in (checksum_of(outputs_of(copy)["output_4"]) or rule).summary
    (copy / "checksums" / "notes.txt.txt").write_text("a" * 2000)
    assert "is not a SHA-256" in (checksum_of(outputs_of(copy)["output_4"]) or rule).summary
    assert dataclasses.replace(outputs_of(copy)["output_0"], files=()).checksum_rule([]) is None
    unread = outputs_of(copy)["output_0"].checksum_rule([None])
    assert unread is not None
    assert unread.summary == "'output_0_0.csv' was not read: it cannot be compared"


def test_the_bytes_checked_are_the_bytes_compared_with_acros_checksum(copy: Path) -> None:
    """The check reads each file once: what it checks, hashes and releases is what it
    compares with ACRO's record, so a file swapped after a comparison cannot slip through."""
    report = check_paths([copy], Context(UK))
    crosstab = next(i for i in report.items if i.path.endswith("output_0"))
    rules = {r.rule: r for r in crosstab.rules}
    assert rules["acro.checksum"].status is Status.PASS
    (copy / "output_0_0.csv").write_text("sex,A\nF,999\n")
    report = check_paths([copy], Context(UK))
    crosstab = next(i for i in report.items if i.path.endswith("output_0"))
    assert {r.rule: r for r in crosstab.rules}["acro.checksum"].status is Status.REVIEW


# --- hostile folders -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../secret.csv", "/etc/passwd", "sub/../../secret.csv", "..\\secret.csv", "C:/x.csv"],
)
def test_file_names_outside_the_folder_are_refused(copy: Path, name: str) -> None:
    (copy.parent / "secret.csv").write_text("sex,n\nF,3\n")

    def escape(document: dict[str, Any]) -> None:
        document["results"]["output_0"]["files"][0]["name"] = name

    edit_results(copy, escape)
    refused = refusal(copy)
    assert refused.rule == "file.path"
    assert "outside the ACRO folder: refused" in refused.summary


def test_links_leading_out_of_the_folder_are_refused(copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("sex,n\nF,3\n")
    (copy / "leak.csv").symlink_to(outside)
    (copy / "inside.csv").symlink_to(copy / "output_0_0.csv")

    def name(value: str) -> Any:
        def change(document: dict[str, Any]) -> None:
            document["results"]["output_0"]["files"][0]["name"] = value

        return change

    edit_results(copy, name("inside.csv"))  # a link that stays inside is a file like another
    assert outputs_of(copy)["output_0"].files == (copy / "inside.csv",)
    edit_results(copy, name("leak.csv"))
    refused = refusal(copy)
    assert (refused.rule, refused.summary) == (
        "file.path",
        "file 1 of output 'output_0' names 'leak.csv', a link that leads outside the ACRO"
        " folder: refused",
    )


def test_results_json_that_is_a_link_is_refused(copy: Path, tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    shutil.move(copy / "results.json", target)
    (copy / "results.json").symlink_to(target)
    assert not is_acro_folder(copy)
    assert refusal(copy).rule == "file.unreadable"


def test_missing_file_is_refused(copy: Path) -> None:
    (copy / "notes.txt").unlink()
    refused = refusal(copy)
    assert refused.summary == (
        "file 1 of output 'output_4' names 'notes.txt', which is not in the ACRO folder"
    )


def test_huge_results_json_is_refused_before_parsing(copy: Path) -> None:
    small = dataclasses.replace(LIMITS, max_bytes=10_000)
    refused = refusal(copy, small)
    assert refused.rule == "file.limits"
    assert "over the limit of 10,000" in refused.summary


def test_deeply_nested_results_json_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "deep"
    folder.mkdir()
    nested = "[" * 5000 + "]" * 5000
    (folder / "results.json").write_text(f'{{"version": "1.0.2", "results": {nested}}}')
    assert is_acro_folder(folder)
    refused = refusal(folder)
    assert refused.rule == "file.limits"
    assert f"nested deeper than {LIMITS.max_depth} levels" in refused.summary


def test_too_many_outputs_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    records: dict[str, object] = {f"output_{i}": {} for i in range(LIMITS.max_outputs + 1)}
    (folder / "results.json").write_text(json.dumps({"version": "1.0.2", "results": records}))
    assert refusal(folder).rule == "file.limits"


@pytest.mark.parametrize(
    "text",
    ['{"version": "1.0.2", "results": {"output_0": ', "\ufeff{ not json", ""],
)
def test_invalid_json_is_refused(tmp_path: Path, text: str) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "results.json").write_text(text)
    refused = refusal(folder)
    assert refused.rule == "file.unreadable"
    assert "not valid JSON" in refused.summary


def test_non_utf8_results_json_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "latin"
    folder.mkdir()
    (folder / "results.json").write_bytes('{"version": "1.0.2", "results": "é"}'.encode("latin-1"))
    assert refusal(folder).rule == "file.type"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(results=[]), "the results in results.json is not a JSON object"),
        (lambda d: d.pop("version"), "the version in results.json is not a text"),
        (
            lambda d: d["results"]["output_0"].update(status="approved"),
            "the status of output 'output_0' is 'approved', not pass, fail or review",
        ),
        (
            lambda d: d["results"]["output_0"].pop("files"),
            "output 'output_0' has no list of files",
        ),
        (
            lambda d: d["results"]["output_0"]["files"][0]["sdc"]["cells"].update(
                MinimumThresholdCheck=[[-1, 2]]
            ),
            "the cells of 'MinimumThresholdCheck' in file 1 of output 'output_0' holds"
            " '[-1, 2]', not a (row, column) pair",
        ),
        (
            lambda d: d["results"]["output_0"]["fair"].update(check_status={"NKCheck": 1}),
            "ACRO's status for 'NKCheck' in output 'output_0' is '1', not pass, fail or review",
        ),
        (
            lambda d: d["results"]["output_2"].update(command=["rm", "-rf"]),
            "the command of output 'output_2' is not a text",
        ),
    ],
)
def test_unknown_structure_is_refused(copy: Path, change: Any, message: str) -> None:
    edit_results(copy, change)
    refused = refusal(copy)
    assert (refused.rule, refused.summary) == (
        "file.unreadable",
        f"not an ACRO output folder: {message}",
    )


def test_agoria_tre_check_reads_an_acro_folder(acro_folder: Path, tmp_path: Path) -> None:
    """The whole command on ACRO's folder: its outputs under ACRO's records, plus ours."""
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "acro_out"
    shutil.copytree(acro_folder, folder)
    agoria = str(Path(sys.executable).with_name("agoria-tre"))
    done = subprocess.run(
        [agoria, "check", "--profile", "uk", "--format", "json", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    kinds = {item["kind"] for item in report["items"]}
    assert "acro.table" in kinds
    assert "acro.regression" in kinds
    table = next(i for i in report["items"] if i["kind"] == "acro.table")
    assert table["children"], "the output's files are checked by our own rules too"
    assert any(r["rule"] == "acro.threshold" and r["asserted"] for r in table["rules"])
    assert any(note.startswith("ACRO: ") for note in table["notes"])
    ours = {r["rule"] for r in table["children"][0]["rules"]}
    assert {"threshold", "differencing"} <= ours


# --- agreement with ACRO's verdicts --------------------------------------------------------

VERDICTS_SESSION = textwrap.dedent(
    """
    import numpy as np
    import pandas as pd
    from acro import ACRO
    rng = np.random.default_rng(5)
    n = 600
    df = pd.DataFrame({"sex": rng.choice(["F", "M"], n), "drug": rng.choice(["A", "B", "C"], n),
                       "age": rng.normal(55, 12, n).round(1)})
    df["cost"] = (df.age * 40 + rng.gamma(2.0, 300.0, n)).round(2)
    df["died"] = (rng.random(n) < 0.3).astype(int)
    small = df.copy()
    small.loc[small.index[:3], "drug"] = "D"
    dominated = df.copy()
    dominated.loc[dominated.index[0], "cost"] = 10_000_000.0
    acro = ACRO(suppress=False)
    acro.crosstab(small.sex, small.drug)
    acro.crosstab(dominated.sex, dominated.drug, values=dominated.cost, aggfunc="sum")
    acro.ols(df.cost.iloc[:8], df[["age"]].assign(const=1.0).iloc[:8])
    acro.crosstab(df.sex, df.drug)
    acro.crosstab(df.sex, df.drug, values=df.cost, aggfunc="sum")
    acro.crosstab(df.sex, df.drug, values=df.cost, aggfunc="mean")
    acro.ols(df.cost, df[["age"]].assign(const=1.0))
    acro.logit(df.died, df[["age"]].assign(const=1.0))
    acro.finalise("acro_out", "json")
    """
)


@pytest.fixture(scope="module")
def verdicts_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three outputs ACRO fails (a small cell, a dominated sum, a regression on 8 rows) and
    five it passes (counts, a sum and a mean, two regressions)."""
    work = tmp_path_factory.mktemp("acro-verdicts")
    (work / "session.py").write_text(VERDICTS_SESSION)
    done = subprocess.run(
        [str(acro_environment()), "session.py"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return work / "acro_out"


def test_the_verdict_on_each_output_is_acros_unless_a_stricter_rule_is_named(
    verdicts_folder: Path,
) -> None:
    report = check_paths([verdicts_folder], Context(UK))
    ours = {item.path.rsplit("/", 1)[1]: item for item in report.items}
    acros = {uid: o.status for uid, o in outputs_of(verdicts_folder).items()}
    assert {uid: acros[uid] for uid in sorted(acros) if uid.startswith("output_")} == {
        "output_0": Status.FAIL,
        "output_1": Status.FAIL,
        "output_2": Status.FAIL,
        **{f"output_{k}": Status.PASS for k in range(3, 8)},
    }
    for uid in (f"output_{k}" for k in range(8)):
        item = ours[uid]
        if item.status is acros[uid]:
            continue
        # Stricter, and named: the counts of output_3 differ from output_0's by one unit.
        assert (uid, item.status) == ("output_3", Status.REVIEW)
        [child] = item.children
        [finding] = [r for r in child.rules if r.status is Status.REVIEW]
        assert finding.rule == "differencing"
        assert "output_0_0.csv" in finding.summary


def test_acros_bookkeeping_is_the_folders_evidence_not_an_item(verdicts_folder: Path) -> None:
    report = check_paths([verdicts_folder], Context(UK))
    paths = [item.path for item in report.items]
    assert not [p for p in paths if p.endswith(("results.json", "config.json"))]
    assert not [p for p in paths if "/checksums/" in p]
    sums = next(i for i in report.items if i.path.endswith("output_4"))
    assert sums.status is Status.PASS
    assert "answered by ACRO's records" in " ".join(sums.children[0].notes)
