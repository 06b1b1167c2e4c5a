"""Statistics of a table (rules/statistics.py): a sum beside a mean publishes a count
(``statistic.implied_count``), a running total's steps are counts (``threshold``), the
quantiles at levels 0 and 1 are the extremes (``statistic.extremes``), and quantile bins show
the data's outer edges (``histogram.edges``)."""

from __future__ import annotations

import numpy as np
import pytest

from agoria_tre.disclosure.rules import statistics
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import (
    check,
    example,
    failed,
    flagged_rules,
    found,
    notebook,
    rules,
    stays,
    summaries,
)


def test_extremes_and_quantiles_by_name() -> None:
    results = statistics.extremes_and_quantiles(["age_max", "médiane", "mean"], where="t.csv")
    assert [(r.rule, r.status) for r in results] == [
        ("statistic.extremes", Status.FAIL),
        ("statistic.quantiles", Status.REVIEW),
    ]


# --- sums and means: magnitudes, and the counts they imply -----------------------------------


def test_whole_sums_and_means_are_a_magnitude_table_and_n_1_fails() -> None:
    item = check(
        "sums.csv", example("statistic.implied_count/fail/sum_equal_to_mean_is_one_patient.csv")
    )
    found = rules(item)
    assert "table.assumed_frequency" not in found
    assert found["magnitude.evidence"].status is Status.REVIEW
    implied = found["statistic.implied_count"]
    assert (implied.status, implied.cells) == (Status.FAIL, ((1, 0),))
    assert "sum = mean" in implied.summary
    assert item.status is Status.FAIL


@pytest.mark.parametrize(
    "header",
    [
        "hospital,total,mean",
        "hospital,somme,moyenne",
        "hospital,cost_sum,cost_mean",
        "hospital,Sum,Average",
        "hospital,sum,median",
        "hospital,sum,std",
    ],
)
def test_statistic_headers_make_a_magnitude_table(header: str) -> None:
    item = check("t.csv", f"{header}\nBron,488796,7188\nLyon,363179,5858\n")
    assert rules(item)["magnitude.evidence"].status is Status.REVIEW
    assert "table.assumed_frequency" not in rules(item)


def test_implied_counts_face_the_threshold() -> None:
    small = check("t.csv", "hospital,sum,mean\nBron,5000,1000\nLyon,363179,5858\n")
    assert rules(small)["statistic.implied_count"].status is Status.FAIL  # 5 patients
    # near miss: every sum ÷ mean is at least 11 units; review, never fail
    fine = check("t.csv", "hospital,sum,mean\nBron,488796,7188\nLyon,363179,5858\n")
    assert rules(fine)["statistic.implied_count"].status is Status.PASS
    assert fine.status is Status.REVIEW


# --- running totals -----------------------------------------------------------------------------

CUMULATIVE = [
    "year,cumulative_patients\n2019,129\n2020,132\n2021,219\n2022,300\n",
    "year,cumul\n2019,129\n2020,132\n2021,219\n2022,300\n",
    "année,nombre cumulé\n2019,129\n2020,132\n2021,219\n2022,300\n",
    "year,cumsum\n2019,129\n2020,132\n2021,219\n2022,300\n",
    "year,running total\n2019,129\n2020,132\n2021,219\n2022,300\n",
    "mois,total à date\njanvier,129\nfévrier,132\nmars,219\navril,300\n",
    "year,n,n_cum\n2019,129,129\n2020,,132\n2021,87,219\n2022,81,300\n",  # hidden, recomputed
]


@pytest.mark.parametrize("text", CUMULATIVE)
def test_cumulative_differences_face_the_threshold(text: str) -> None:
    item = check("cumul.csv", text)
    assert "threshold" in failed(item)
    assert "+3" in summaries(item)


def test_cumulative_fail_names_the_cell() -> None:
    item = check("cumul.csv", CUMULATIVE[0])
    rule = next(r for r in item.rules if r.rule == "threshold" and r.status is Status.FAIL)
    assert rule.cells == ((1, 0),)  # the years label the rows
    assert "2020" in rule.summary


def test_cumulative_from_pandas_in_every_form() -> None:
    df = stays()
    df["year"] = np.repeat([2019, 2020, 2021, 2022], [129, 3, 87, 81])
    cum = df.groupby("year").size().cumsum().to_frame("cumulative_patients")
    assert "threshold" in failed(check("cum.csv", cum.to_csv()))
    assert "threshold" in failed(check("cum.txt", cum.to_string()))


NOT_CUMULATIVE = [
    "year,patients\n2019,129\n2020,132\n2021,219\n2022,300\n",  # yearly counts, not a total
    "year,cumulative_patients\n2019,129\n2020,150\n2021,219\n2022,300\n",  # steps >= 11
    "year,cumulative %\n2019,43\n2020,44\n2021,73\n2022,100\n",
    "year,cumulative_cost\n2019,12000\n2020,12005\n2021,13000\n2022,15000\n",
    "time,cumulative incidence\n1,0.01\n2,0.02\n3,0.05\n",
    "year,cumulative_patients\n2019,129\n2020,129\n2021,219\n2022,300\n",  # no new units
]


@pytest.mark.parametrize("text", NOT_CUMULATIVE)
def test_other_columns_are_not_differenced(text: str) -> None:
    item = check("yearly.csv", text)
    assert "threshold" not in failed(item)


# --- quantiles, and the extremes at levels 0 and 1 --------------------------------------------


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


# --- quantile bins: the outer edges are the data's extremes -----------------------------------


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


def test_pandas_qcut_value_counts_in_a_notebook_is_reviewed() -> None:
    out = "age\n(17.999, 43.0]    102\n(43.0, 97.0]       96\nName: count, dtype: int64"
    item = check("n.ipynb", notebook(("pd.qcut(df.age, 2).value_counts()", out)))
    assert found(item)["histogram.edges"] is Status.REVIEW
