"""Review 4 (checker): counts in prose, minima and maxima outside table labels, degrees of
freedom outside statsmodels summaries, and differencing at scale (findings 6 to 9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agoria_tre.disclosure.checker import check_paths
from agoria_tre.disclosure.readers.table import Table
from agoria_tre.disclosure.rules import differencing
from agoria_tre.disclosure.rules.differencing import check_all_differencing, check_differencing
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import FR, check, flagged_rules, found, hints_of

POLICY = FR.policy


# --- finding 6: counts in prose -------------------------------------------------------------

DISCLOSIVE_PROSE = [
    "Only 3 patients had a stroke after surgery.",
    "Résultat : n_patients = 7",
    "Nombre de patients (N: 7)",
    "Effectif : 7 patients, dont 3 décès",
    "3/45 patients (6.7%)",
    "42/45 (93.3 %)",  # the 3 others
    "3 out of 45 patients",
    "Nombre de cas : 7",
    "Number of deaths: 3",
    "We observed 4 events among women.",
    "2 nouveaux cas",
    "Effectif total : 8",
]


@pytest.mark.parametrize("text", DISCLOSIVE_PROSE)
def test_small_counts_of_people_in_prose_are_hints(text: str) -> None:
    item = check("notes.md", text + "\n")
    assert item.status is Status.REVIEW
    assert "count" in hints_of(item)


def test_json_keys_naming_counts_are_hints() -> None:
    item = check("meta.json", '{"study": "cohort A", "n_patients": 7, "n_deaths": 3}')
    assert "count" in hints_of(item)
    assert item.status is not Status.PASS


INNOCENT_PROSE = [
    "Figure 3 shows the trend.",
    "version 2 of the protocol",
    "grade 3 patients reported more pain",
    "stage 2 patients were treated first",
    "3 columns were dropped",
    "Data extracted on 2024-03-12 and 12/03/2024.",
    "p = 0.03",
    "1 005 patients were included",
    "120 patients, of whom 45 died",
    "3.5 patients per bed on average",
    "1 in 3 patients",
    "45/120 patients (37.5 %)",
    "Cohort 2 patients had a longer follow-up",
    "n = 12",
    '{"n_patients": 120, "version": 2}',
]


@pytest.mark.parametrize("text", INNOCENT_PROSE)
def test_numbers_that_are_not_small_counts_of_people_are_no_hint(text: str) -> None:
    item = check("notes.md", text + "\n")
    assert "count" not in hints_of(item), text


# --- finding 7: minimum and maximum outside table labels -------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Maximum age: 98",
        "Âge maximal : 98 ans",
        "Le plus âgé avait 98 ans.",
        "The oldest patient was 101.",
        "min age = 18",
    ],
)
def test_extremes_in_prose_are_hints(text: str) -> None:
    item = check("notes.txt", text + "\n")
    assert "extreme" in hints_of(item)
    assert item.status is Status.REVIEW


@pytest.mark.parametrize(
    "text",
    [
        "Cells need a minimum of 11 patients.",
        "minimum cell size: 11",
        "Maximum likelihood estimation was used.",
        "The minimum threshold is 11.",
        "We report the maximum: see table 2",
    ],
)
def test_words_for_extremes_without_a_value_are_no_hint(text: str) -> None:
    item = check("notes.txt", text + "\n")
    assert "extreme" not in hints_of(item), text


def test_series_at_quantile_levels_zero_and_one_fail() -> None:
    text = "0.0    18.0\n1.0    98.0\nName: age, dtype: float64\n"
    assert found(check("q.txt", text))["statistic.extremes"] is Status.FAIL
    frame = "     age   los\n0.0  18.0  1.0\n1.0  98.0  45.0\n"
    assert found(check("q.txt", frame))["statistic.extremes"] is Status.FAIL


def test_series_at_inner_quantile_levels_is_reviewed_and_counts_pass() -> None:
    quartiles = check("q.txt", "x\n0.25  40.5\n0.50  55.0\n0.75  68.0\n")
    assert found(quartiles).get("statistic.quantiles") is Status.REVIEW
    assert "statistic.extremes" not in flagged_rules(quartiles)
    # value_counts of a variable coded 0.0/1.0: counts, not quantiles.
    counts = check("c.txt", "smoker\n0.0    120\n1.0     98\nName: count, dtype: int64\n")
    assert not flagged_rules(counts) & {"statistic.extremes", "statistic.quantiles"}


def test_qcut_interval_labels_are_reviewed_as_edges() -> None:
    text = (
        "age\n(17.999, 43.0]    102\n(43.0, 55.0]      105\n(55.0, 68.0]       99\n"
        "(68.0, 97.0]       96\nName: count, dtype: int64\n"
    )
    assert found(check("qcut.txt", text))["histogram.edges"] is Status.REVIEW
    csv = "age,n\n(17.999; 43.0],102\n"  # one label: no bins
    assert "histogram.edges" not in flagged_rules(check("one.csv", csv))
    bins = 'age band,n\n"(17.999, 43.0]",102\n"(43.0, 97.0]",96\n'
    assert found(check("bins.csv", bins))["histogram.edges"] is Status.REVIEW
    life = 'months,at risk\n"[0, 30)",120\n"[30, 60)",98\n'  # a researcher's intervals
    assert "histogram.edges" not in flagged_rules(check("life.csv", life))


# --- notebooks: the code tells what an output is ---------------------------------------------


def notebook(*cells: tuple[str, Any]) -> str:
    built = []
    for source, output in cells:
        if isinstance(output, dict):
            outputs = [output]
        elif output is None:
            outputs = []
        else:
            outputs = [
                {"output_type": "execute_result", "data": {"text/plain": output}, "metadata": {}}
            ]
        built.append({"cell_type": "code", "source": source, "outputs": outputs})
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": built})


def stream(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("cases = df[df.stroke]\nlen(cases)", "7"),
        ("cases.shape", "(7, 12)"),
        ("df.stroke.sum()", "np.int64(3)"),
        ("df.died.count()", "4"),
        ("df.patient.nunique()", "9"),
        ("df[df.age > 95].size", "5"),
        ("print(len(cases))", stream("7\n")),
    ],
)
def test_notebook_counts_printed_bare_fail(source: str, output: Any) -> None:
    item = check("n.ipynb", notebook((source, output)))
    assert found(item)["threshold.text"] is Status.FAIL


def test_a_printed_sentence_of_a_count_from_unknown_code_is_a_hint() -> None:
    source = "print('Nombre de cas :', n)"  # n's origin is not in the cell
    item = check("n.ipynb", notebook((source, stream("Nombre de cas : 7\n"))))
    assert "count" in hints_of(item)
    assert item.status is Status.REVIEW


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("len(cases)", "120"),
        ("cases.shape", "(120, 3)"),
        ("df.x.mean()", "7.25"),
        ("x = len(cases)\n3 + 4", "7"),  # the output is not the count
        ("df.columns.size", "120"),
    ],
)
def test_notebook_numbers_that_are_not_small_counts_pass(source: str, output: Any) -> None:
    item = check("n.ipynb", notebook((source, output)))
    assert "threshold.text" not in flagged_rules(item)


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("df['age'].max()", "98"),
        ("df[['age', 'los']].max()", "age    98\nlos    45\ndtype: int64"),
        ("df.age.quantile([0, 1])", "0.0    18.0\n1.0    98.0\nName: age, dtype: float64"),
        ("df.age.quantile(1)", "98.0"),
        ("print(df.age.min())", stream("18\n")),
        ("np.max(ages)", "98"),
    ],
)
def test_notebook_extremes_computed_by_code_fail(source: str, output: Any) -> None:
    item = check("n.ipynb", notebook((source, output)))
    assert found(item)["statistic.extremes"] is Status.FAIL


def test_notebook_medians_are_reviewed_and_means_pass() -> None:
    median = check("n.ipynb", notebook(("df.age.median()", "55.0")))
    assert found(median)["statistic.quantiles"] is Status.REVIEW
    quartiles = check(
        "n.ipynb", notebook(("df.age.quantile([0.25, 0.75])", "0.25  40.5\n0.75  68.0"))
    )
    assert "statistic.extremes" not in flagged_rules(quartiles)
    mean = check("n.ipynb", notebook(("df.age.mean()", "54.2"), ("x = df.age.max()", None)))
    assert not flagged_rules(mean) & {"statistic.extremes", "statistic.quantiles"}


def test_pandas_qcut_value_counts_in_a_notebook_is_reviewed() -> None:
    out = "age\n(17.999, 43.0]    102\n(43.0, 97.0]       96\nName: count, dtype: int64"
    item = check("n.ipynb", notebook(("pd.qcut(df.age, 2).value_counts()", out)))
    assert found(item)["histogram.edges"] is Status.REVIEW


# --- finding 8: degrees of freedom outside statsmodels summaries -----------------------------


@pytest.mark.parametrize(
    "text",
    [
        "<F test: F=5.4979, p=0.0546, df_denom=5, df_num=2>",
        "TtestResult(statistic=np.float64(-4.65), pvalue=np.float64(0.0035), df=np.float64(6.0))",
        "Ttest_indResult(statistic=2.1, pvalue=0.07, df=5.73)",
    ],
)
def test_tests_with_few_degrees_of_freedom_fail(text: str) -> None:
    assert found(check("test.txt", text + "\n"))["model.dof"] is Status.FAIL


SUMMARY_COL = """
=======================
                  y
-----------------------
Intercept      0.9945
               (0.4281)
x              0.6224
               (0.4118)
R-squared      0.6874
R-squared Adj. 0.5624
N              {n}
=======================
Standard errors in
parentheses.
"""


def test_summary_col_with_few_observations_fails() -> None:
    assert found(check("m.txt", SUMMARY_COL.format(n=8)))["model.dof"] is Status.FAIL
    assert "model.dof" not in flagged_rules(check("m.txt", SUMMARY_COL.format(n=250)))


@pytest.mark.parametrize(
    "text",
    [
        "<F test: F=5.4979, p=0.0546, df_denom=50, df_num=2>",
        "TtestResult(statistic=1.2, pvalue=0.2, df=120.0)",
        "Chi2ContingencyResult(statistic=3.1, pvalue=0.2, dof=2)",  # a table's dof
        "df = load('cohort.parquet')",
    ],
)
def test_enough_degrees_of_freedom_pass(text: str) -> None:
    assert "model.dof" not in flagged_rules(check("test.txt", text + "\n"))


# --- finding 9: differencing at scale ---------------------------------------------------------


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
    batch = check_all_differencing(tables, tables, POLICY)
    single = [check_differencing(t, name, tables, POLICY) for name, t in tables]
    assert batch == single
    assert [r.status for r in batch].count(Status.REVIEW) == 2
    assert batch[3].cells == ((2, 1),)
    assert batch[-1].status is Status.PASS  # only its grand total meets the others


def test_too_many_comparisons_are_reviewed_not_silenced() -> None:
    tables = [(f"t{k}.csv", grid_table(np.full((4, 5), 100 + 20 * k))) for k in range(6)]
    results = check_all_differencing(tables, tables, POLICY, max_comparisons=320)
    statuses = [r.status for r in results]
    assert statuses[0] is Status.PASS  # within the budget: compared
    assert Status.REVIEW in statuses
    reviewed = [r for r in results if r.status is Status.REVIEW]
    assert all("too many cells to compare automatically" in r.summary for r in reviewed)


def test_a_large_table_alone_is_indexed_and_passes() -> None:
    values = np.arange(300 * 200).reshape(300, 200) + 20
    result = check_differencing(grid_table(values), "big.csv", [], POLICY)
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
    report = check_paths([tmp_path], FR)
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
