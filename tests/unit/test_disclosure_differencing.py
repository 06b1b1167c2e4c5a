"""Differencing: counts of two tables matched on their labels, at and around the threshold; at
scale, every table of a request against every other, those of notebooks and of magnitudes
included."""

from __future__ import annotations

import dataclasses
import gc
import time
import weakref
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agoria_tre.disclosure.checker import check_paths
from agoria_tre.disclosure.policy import Policy, load_profile
from agoria_tre.disclosure.readers.table import Table, parse_csv
from agoria_tre.disclosure.report import RuleResult
from agoria_tre.disclosure.rules import differencing
from agoria_tre.disclosure.rules.differencing import (
    check_all_differencing,
    check_differencing,
    load_released,
)
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import FR as CONTEXT
from tests.unit.disclosure_support import notebook_of, rules, stream

FR = load_profile("fr")
UK = load_profile("uk")

COHORT = """sex,drug A,drug B,drug C
F,120,64,35
M,98,71,40
"""


def table(text: str) -> Table:
    parsed = parse_csv(text.encode(), FR.limits, name="t.csv")
    assert isinstance(parsed, Table), parsed
    return parsed


def check(mine: Table, *others: tuple[str, Table], policy: Policy = FR) -> RuleResult:
    return check_differencing(mine, "mine.csv", list(others), policy)


def test_one_cell_two_units_apart_is_reviewed_at_that_cell() -> None:
    other = table(COHORT.replace("F,120,", "F,118,"))
    result = check(table(COHORT), ("cohort_v2.csv", other))
    assert result.rule == "differencing"
    assert result.status is Status.REVIEW
    assert result.cells == ((0, 0),)
    assert result.summary == (
        "cell (F, drug A) differs from table 'cohort_v2.csv' by 2 units: subtracting the two"
        f" isolates fewer than {FR.threshold} units"
    )
    assert not result.asserted


@pytest.mark.parametrize(
    ("gap", "policy", "expected"),
    [(11, FR, Status.PASS), (10, FR, Status.REVIEW), (10, UK, Status.PASS),
     (9, UK, Status.REVIEW), (1, UK, Status.REVIEW), (0, FR, Status.PASS)],
)  # fmt: skip
def test_at_and_around_the_threshold(gap: int, policy: Policy, expected: Status) -> None:
    other = table(COHORT.replace("M,98,71,", f"M,98,{71 + gap},"))
    result = check(table(COHORT), ("v2.csv", other), policy=policy)
    assert result.status is expected
    assert result.cells == (((1, 1),) if expected is Status.REVIEW else ())
    if expected is Status.PASS:
        assert result.summary == (
            f"compared with 1 table: no difference isolates fewer than {policy.threshold} units"
        )
    else:
        assert f"by {gap} unit" in result.summary
        assert f"fewer than {policy.threshold} units" in result.summary


def test_summary_takes_the_threshold_from_the_policy() -> None:
    strict = dataclasses.replace(FR, threshold=25)
    other = table(COHORT.replace("F,120,", "F,100,"))
    result = check(table(COHORT), ("v2.csv", other), policy=strict)
    assert result.status is Status.REVIEW
    assert "by 20 units" in result.summary
    assert "fewer than 25 units" in result.summary


def test_cells_are_matched_on_labels_not_positions() -> None:
    # Rows and columns in another order, one more column: the same cells still match.
    other = table("sex,drug C,drug D,drug A,drug B\nM,40,12,98,75\nF,35,30,120,64\n")
    result = check(table(COHORT), ("reordered.csv", other))
    assert result.status is Status.REVIEW
    assert result.cells == ((1, 1),)  # (M, drug B): 71 here, 75 there
    assert result.summary.startswith("cell (M, drug B) differs from table 'reordered.csv' by 4")


def test_labels_match_whatever_their_case_and_spacing() -> None:
    other = table("Sex,Drug A,drug  B,drug C\nf,120,64,35\nm,98,71,43\n")
    assert check(table(COHORT), ("v2.csv", other)).cells == ((1, 2),)


def test_tables_over_other_variables_are_not_compared_cell_by_cell() -> None:
    # Same category texts, but the rows are regions, not sexes: no cell is compared. The
    # grand totals are (2 units apart: the units missing from one of the variables).
    other = table(COHORT.replace("sex,", "region,").replace("F,120,", "F,118,"))
    result = check(table(COHORT), ("regions.csv", other))
    assert result.status is Status.REVIEW
    assert result.cells == ()
    assert result.summary == (
        "the sum of all its cells is 428 here and 426 in table 'regions.csv': 2 units counted"
        f" in one and not the other, fewer than {FR.threshold}"
    )


def test_grand_totals_of_different_variables() -> None:
    by_sex = table("sex,n\nF,146\nM,154\n")
    by_age = table("age,n\n<50,120\n50+,177\n")  # 3 patients without an age
    result = check(by_sex, ("by_age.csv", by_age))
    assert result.status is Status.REVIEW
    assert "is 300 here and 297 in table 'by_age.csv': 3 units" in result.summary


def test_suppressed_cells_are_never_compared() -> None:
    mine = table(COHORT.replace("F,120,", "F,*,").replace("M,98,71,40", "M,98,71,<11"))
    other = table(COHORT.replace("F,120,", "F,118,").replace("M,98,71,40", "M,98,71,4"))
    result = check(mine, ("v2.csv", other))
    assert result.status is Status.PASS
    # And no total is computed from a row or column with a hidden cell: only the cells and
    # sums over published cells were compared.
    assert result.summary.startswith("compared with 1 table")


def test_one_way_table_against_a_two_way_margin_column() -> None:
    one_way = table("sex,n\nF,146\nM,154\n")
    two_way = table(
        "sex,drug A,drug B,All\nF,80,65,145\nM,80,70,150\nAll,160,135,295\n"
    )  # drug C left out: 1 woman and 4 men
    result = check(one_way, ("by_drug.csv", two_way))
    assert result.status is Status.REVIEW
    assert result.cells == ((0, 0), (1, 0))
    assert result.summary.startswith(
        "cell (F, n) is 146 here and total (F, All) is 145 in table 'by_drug.csv': 1 unit"
        f" counted in one and not the other, fewer than {FR.threshold}"
    )
    # And the other way round: the margin column's cells are flagged, with the total.
    back = check(two_way, ("by_sex.csv", one_way))
    assert back.status is Status.REVIEW
    assert back.cells == ((0, 2), (1, 2), (2, 2))


def test_one_way_table_against_a_two_way_margin_row() -> None:
    by_drug = table("drug,n\ndrug A,160\ndrug B,138\n")
    two_way = table("sex,drug A,drug B,Total\nF,80,65,145\nM,80,70,150\nTotal,160,135,295\n")
    result = check(by_drug, ("cross.csv", two_way))
    assert result.status is Status.REVIEW
    assert result.cells == ((1, 0),)
    assert "total (Total, drug B) is 135 in table 'cross.csv': 3 units" in result.summary


def test_one_way_table_against_the_sums_of_a_table_without_margins() -> None:
    one_way = table("sex,n\nF,226\nM,209\n")
    result = check(one_way, ("cohort.csv", table(COHORT)))  # F: 219, M: 209
    assert result.status is Status.REVIEW
    assert result.cells == ((0, 0),)
    assert "the sum of row (F) is 219 in table 'cohort.csv': 7 units" in result.summary


def test_row_categories_subset_against_superset_totals() -> None:
    superset = table(
        "sex,drug A,drug B,Total\nF,80,65,145\nM,80,70,150\nU,*,*,7\nTotal,164,138,302\n"
    )
    subset = table("sex,drug A,drug B,Total\nF,80,65,145\nM,80,70,150\nTotal,160,135,295\n")
    result = check(superset, ("known_sex.csv", subset))
    assert result.status is Status.REVIEW
    assert result.cells == ((3, 0), (3, 1), (3, 2))  # the totals row: 4, 3 and 7 units apart
    assert result.summary.startswith(
        "total (Total, drug A) is 164 here and 160 in table 'known_sex.csv': 4 units"
    )


def test_row_categories_subset_without_margins_against_superset_totals() -> None:
    subset = table("sex,drug A,drug B\nF,80,65\nM,80,70\n")
    superset = table("sex,drug A,drug B\nF,80,65\nM,80,70\nU,4,3\nAll,164,138\n")
    result = check(subset, ("all_sexes.csv", superset))
    assert result.status is Status.REVIEW
    assert result.cells == ()  # a sum of several cells names no single cell
    assert result.summary.startswith(
        "the sum of column drug A is 160 here and total (All, drug A) is 164 in table"
        " 'all_sexes.csv': 4 units"
    )


def test_column_categories_subset_against_superset_totals() -> None:
    mine = table("sex,drug A,drug B,All\nF,80,65,145\nM,80,70,150\nAll,160,135,295\n")
    wider = table("sex,drug A,drug B,drug C,All\nF,80,65,1,146\nM,80,70,4,154\nAll,160,135,5,300\n")
    result = check(mine, ("all_drugs.csv", wider))
    assert result.status is Status.REVIEW
    assert result.cells == ((0, 2), (1, 2), (2, 2))
    assert result.summary.startswith(
        "total (F, All) is 145 here and 146 in table 'all_drugs.csv': 1 unit counted"
    )


def test_sums_over_the_same_cells_add_nothing_to_the_cells() -> None:
    # +20 and -15: no cell isolates a small group, and the row sums (5 apart) are sums over
    # the same matched cells, so they are not compared again.
    other = table(COHORT.replace("F,120,64,", "F,140,49,"))
    assert check(table(COHORT), ("v2.csv", other)).status is Status.PASS


def test_all_and_total_are_the_same_margin() -> None:
    mine = table("sex,n\nF,146\nM,154\nAll,300\n")
    other = table("sex,n\nF,146\nM,154\nTotal,296\n")
    result = check(mine, ("v2.csv", other))
    assert (result.status, result.cells) == (Status.REVIEW, ((2, 0),))
    assert "total (All, n) is 300 here and total (Total, n) is 296" in result.summary


def test_nothing_to_compare() -> None:
    mine = table(COHORT)
    assert check(mine).summary == "no other table shares its labels"
    means = table("sex,mean age\nF,51.5\nM,49.25\n")
    assert check(mine, ("means.csv", means)) == RuleResult(
        "differencing", Status.PASS, "no other table shares its labels"
    )
    assert check(means, ("cohort.csv", mine)).summary == (
        "not a table of counts: differencing compares counts only"
    )
    # The table itself, passed among the others, is skipped.
    assert check(mine, ("mine.csv", table(COHORT.replace("120", "118")))).summary == (
        "no other table shares its labels"
    )


def test_first_difference_is_named_and_the_rest_counted() -> None:
    v2 = table(COHORT.replace("F,120,", "F,118,"))
    v3 = table(COHORT.replace("M,98,71,40", "M,95,71,37"))
    result = check(table(COHORT), ("v2.csv", v2), ("v3.csv", v3))
    assert result.cells == ((0, 0), (1, 0), (1, 2))
    assert "table 'v2.csv' by 2 units" in result.summary
    assert result.summary.endswith("(and 2 more such differences, with 2 tables)")


def test_fifty_tables_of_a_thousand_cells() -> None:
    rng = np.random.default_rng(7)
    base = rng.integers(50, 5000, size=(100, 10))
    header = tuple(f"item {j}" for j in range(10))
    labels = tuple((f"area {i}",) for i in range(100))
    tables = []
    for k in range(50):
        values = base + 11 * k  # every cell 11 units apart or more from the other versions
        if k == 17:
            values = values.copy()
            values[42, 3] = base[42, 3] + 11 * 16 + 4  # 4 units from version 16
        cells = tuple(tuple(str(v) for v in row) for row in values)
        tables.append((f"v{k}.csv", Table(("area",), header, labels, cells)))
    started = time.perf_counter()
    results = [check_differencing(t, name, tables, FR) for name, t in tables]
    elapsed = time.perf_counter() - started
    flagged = {name: r.cells for (name, _), r in zip(tables, results, strict=True) if r.cells}
    assert flagged == {"v16.csv": ((42, 3),), "v17.csv": ((42, 3),)}
    assert results[0].summary == (
        f"compared with 49 tables: no difference isolates fewer than {FR.threshold} units"
    )
    assert elapsed < 30, elapsed  # well under a second on a laptop; generous for CI


def test_indexes_do_not_keep_tables_alive() -> None:
    mine, other = table(COHORT), table(COHORT.replace("F,120,", "F,118,"))
    assert check(mine, ("v2.csv", other)).status is Status.REVIEW
    gone = weakref.ref(other)
    del other
    gc.collect()
    assert gone() is None
    assert check(mine).summary == "no other table shares its labels"


def test_released_tables_are_read_from_directories(tmp_path: Path) -> None:
    released = tmp_path / "release-2026-03"
    (released / "tables").mkdir(parents=True)
    (released / "tables" / "cohort.csv").write_text(COHORT.replace("F,120,", "F,117,"))
    (released / "means.csv").write_text("sex,mean age\nF,51.5\nM,49.25\n")
    (released / "broken.csv").write_text("sex,n\nF,1,2\n")
    (released / "notes.txt").write_text("not a table")
    (released / "link.csv").symlink_to(released / "tables" / "cohort.csv")
    tables, notes = load_released([released], FR.limits)
    assert [name for name, _ in tables] == ["released:release-2026-03/tables/cohort.csv"]
    assert notes == [
        "released:release-2026-03/broken.csv not compared: not a readable table: row 2 has"
        " 3 fields, the header has 2 (a truncated or hand-edited file?)"
    ]
    result = check(table(COHORT), *tables)
    assert result.summary.startswith(
        "cell (F, drug A) differs from table 'released:release-2026-03/tables/cohort.csv' by 3"
    )


# --- at scale: every table of a request against every other --------------------------------------


def grid_table(values: np.ndarray, prefix: str = "r", column: str = "c") -> Table:
    header = tuple(f"{column}{j}" for j in range(values.shape[1]))
    labels = tuple((f"{prefix}{i}",) for i in range(values.shape[0]))
    cells = tuple(tuple(str(v) for v in row) for row in values)
    return Table(("g",), header, labels, cells)


def test_batch_differencing_agrees_with_one_table_at_a_time() -> None:
    rng = np.random.default_rng(3)
    base = rng.integers(50, 500, size=(6, 4))
    tables = []
    for k in range(6):
        values = base + 11 * k
        if k == 4:
            values = values.copy()
            values[2, 1] = base[2, 1] + 11 * 3 + 2
        tables.append((f"v{k}.csv", grid_table(values)))
    tables.append(("other.csv", grid_table(base, prefix="x", column="y")))  # no shared labels
    batch = check_all_differencing(tables, tables, FR)
    single = [check_differencing(t, name, tables, FR) for name, t in tables]
    assert batch == single
    assert [r.status for r in batch].count(Status.REVIEW) == 2
    assert batch[3].cells == ((2, 1),)
    assert batch[-1].status is Status.PASS  # only its grand total meets the others


def test_too_many_comparisons_are_reviewed_not_silenced() -> None:
    tables = [(f"t{k}.csv", grid_table(np.full((4, 5), 100 + 20 * k))) for k in range(6)]
    results = check_all_differencing(tables, tables, FR, max_comparisons=320)
    statuses = [r.status for r in results]
    assert statuses[0] is Status.PASS  # within the budget: compared
    assert Status.REVIEW in statuses
    reviewed = [r for r in results if r.status is Status.REVIEW]
    assert all("too many cells to compare automatically" in r.summary for r in reviewed)


def test_a_large_table_alone_is_indexed_and_passes() -> None:
    values = np.arange(300 * 200).reshape(300, 200) + 20
    result = check_differencing(grid_table(values), "big.csv", [], FR)
    assert result.summary == "no other table shares its labels"
    index = differencing._index(grid_table(values[:3, :3]))
    assert index.families is not None
    assert index.families["cell"].values.size == 9


def test_folder_of_many_tables_keeps_finding_differences(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    base = rng.integers(100, 900, size=(10, 8))
    header = "g," + ",".join(f"c{j}" for j in range(8))
    for k in range(30):
        values = base + 15 * k
        if k == 29:
            values = values.copy()
            values[9, 7] = base[9, 7] + 15 * 28 + 3
        body = "\n".join(f"r{i}," + ",".join(map(str, row)) for i, row in enumerate(values))
        (tmp_path / f"t{k:02d}.csv").write_text(header + "\n" + body + "\n")
    report = check_paths([tmp_path], CONTEXT)
    reviewed = {
        item.path: r.cells
        for item in report.items
        for r in item.rules
        if r.rule == "differencing" and r.status is Status.REVIEW
    }
    assert {Path(p).name: c for p, c in reviewed.items()} == {
        "t28.csv": ((9, 7),),
        "t29.csv": ((9, 7),),
    }


# --- the tables of a folder: files, notebooks, magnitudes ----------------------------------------


def test_magnitude_tables_are_compared_on_their_unit_counts(tmp_path: Path) -> None:
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
    report = check_paths([tmp_path], CONTEXT)
    by_name = {Path(i.path).name: i for i in report.items}
    result = rules(by_name["all.csv"])["differencing"]
    assert (result.status, result.cells) == (Status.REVIEW, ((0, 0),))
    assert "3 units" in result.summary
    assert "fewer.csv" in result.summary


def test_tables_printed_as_text_in_a_notebook_are_compared_with_each_other(
    tmp_path: Path,
) -> None:
    def printed(cases: int) -> dict[str, Any]:
        frame = pd.DataFrame(
            {"drug A": [cases, 98], "drug B": [64, 71]}, index=pd.Index(["F", "M"], name="sex")
        )
        return stream(frame.to_string() + "\n")

    cell = {"cell_type": "code", "source": "print(t)", "outputs": [printed(120), printed(118)]}
    (tmp_path / "n.ipynb").write_bytes(notebook_of([cell]))
    report = check_paths([tmp_path], CONTEXT)
    (item,) = report.items
    assert item.status is Status.REVIEW
    found = [
        r for c in item.children for t in c.children for r in t.rules if r.rule == "differencing"
    ]
    assert found
    assert found[0].status is Status.REVIEW
    assert "by 2 units" in found[0].summary


def test_notebook_tables_take_part_in_differencing(tmp_path: Path) -> None:
    (tmp_path / "by_sex.csv").write_text("sex,n\nF,120\nM,130\n")
    html = (
        "<table><thead><tr><th>sex</th><th>n</th></tr></thead><tbody>"
        "<tr><th>F</th><td>117</td></tr><tr><th>M</th><td>130</td></tr></tbody></table>"
    )
    output = {"output_type": "execute_result", "metadata": {}, "data": {"text/html": html}}
    (tmp_path / "a.ipynb").write_bytes(
        notebook_of([{"cell_type": "code", "source": "t", "outputs": [output]}])
    )
    report = check_paths([tmp_path], CONTEXT)
    notebook_item = next(i for i in report.items if i.path.endswith("a.ipynb"))
    table = notebook_item.children[0].children[0]
    assert rules(table)["differencing"].status is Status.REVIEW
    assert "by_sex.csv" in rules(table)["differencing"].summary
