"""The rules on a table whose cells' measures are decided (disclosure/rules/measured.py):
counts face the threshold, extremes fail, statistics rest on a count the table shows or go to
review, magnitudes need evidence, percentages need their counts."""

from __future__ import annotations

import pytest

from agoria_tre.disclosure.layout import Layout, layout
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.readers.table import Table, parse_csv
from agoria_tre.disclosure.report import RuleResult
from agoria_tre.disclosure.rules.measured import (
    counts,
    extremes,
    magnitudes,
    measured,
    over_units,
    percentages,
)
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import check, rules

FR = load_profile("fr")


def laid(text: str) -> Layout:
    parsed = parse_csv(text.encode(), FR.limits, name="t.csv")
    assert isinstance(parsed, Table), parsed
    return layout(parsed)


def verdicts(results: list[RuleResult]) -> dict[str, Status]:
    return {r.rule: r.status for r in results}


# --- counts ----------------------------------------------------------------------------------


def test_small_counts_of_a_frequency_table_fail_cell_by_cell() -> None:
    [result] = counts(laid("sex,A,B\nF,3,30\nM,20,40\n"), FR)
    assert (result.rule, result.status, result.cells) == ("threshold", Status.FAIL, ((0, 0),))
    assert result.summary == "1 cell with fewer than 11 units"


def test_only_the_counts_beside_other_measures_face_the_threshold() -> None:
    lay = laid("sex,n,pct,mean age\nF,3,10,4\nM,27,90,5\n")
    [result] = counts(lay, FR)
    # the percentage 10 and the means 4 and 5 are not counts
    assert (result.status, result.cells) == (Status.FAIL, ((0, 0),))
    assert result.summary.startswith("1 count ")


def test_counts_at_the_threshold_pass() -> None:
    [result] = counts(laid("sex,n\nF,11\nM,40\n"), FR)
    assert (result.status, result.summary) == (Status.PASS, "every cell counts at least 11 units")


def test_a_table_without_counts_has_no_threshold_rule() -> None:
    assert counts(laid("sex,mean age\nF,54.2\nM,55.0\n"), FR) == []


# --- extremes --------------------------------------------------------------------------------


def test_minimum_and_maximum_columns_fail() -> None:
    [result] = extremes(laid("sex,min age,max age,mean age\nF,18,90,50.5\nM,20,88,51.5\n"))
    assert (result.rule, result.status) == ("statistic.extremes", Status.FAIL)
    assert result.cells == ((0, 0), (0, 1), (1, 0), (1, 1))
    assert result.summary.endswith("a single unit's value: 'min age', 'max age'")


def test_minimum_and_maximum_rows_of_describe_fail() -> None:
    text = ",age\ncount,30\nmean,48.7\nstd,8.2\nmin,26.7\n50%,48.7\nmax,63.7\n"
    [result] = extremes(laid(text))
    assert result.cells == ((3, 0), (5, 0))
    assert result.summary.endswith(": 'min', 'max'")


@pytest.mark.parametrize(
    ("text", "cells"),
    [
        # a histogram whose outer bin shows the youngest and oldest values
        ("age band,n\nmin 18.0 to 33.8,12\n33.8 to 49.6,40\n49.6 to max 97,15\n", ((0, 0), (2, 0))),
        # a header that prints the maximum
        ("sex,max = 97,n\nF,3,40\nM,5,30\n", ((0, 0), (1, 0))),
    ],
)
def test_a_label_showing_an_extreme_value_fails_its_cells(
    text: str, cells: tuple[tuple[int, int], ...]
) -> None:
    [result] = extremes(laid(text))
    assert (result.status, result.cells) == (Status.FAIL, cells)


@pytest.mark.parametrize(
    "text",
    [
        "level,n\nminimum,40\nmaximum,30\n",  # the words, without a value
        "band,n\n18 to 33.8,12\n33.8 to 49.6,40\n",  # values, without the words
        "sex,n,mean age\nF,40,54.2\n",
    ],
)
def test_no_extreme_shown_no_extreme_rule(text: str) -> None:
    assert extremes(laid(text)) == []


def test_more_than_three_names_are_cut_short() -> None:
    [result] = extremes(laid("sex,min a,min b,min c,min d\nF,1,2,3,4\n"))
    assert result.summary.endswith(": 'min a', 'min b', 'min c' …")
    assert result.summary.startswith("4 cells show")


# --- statistics over a count of units ---------------------------------------------------------


def test_statistics_beside_a_shown_count_pass() -> None:
    results = over_units(laid("sex,n,mean age,median age,coef\nF,40,50.2,51,0.3\n"), FR)
    assert verdicts(results) == {
        "statistic.quantiles": Status.PASS,
        "statistic.units": Status.PASS,
        "model.units": Status.PASS,
    }
    assert results[0].summary == "every quantile rests on a count of units the table shows"


def test_statistics_without_a_count_go_to_review() -> None:
    results = over_units(laid("sex,mean age,sd,median age,coef\nF,50.2,3.1,51,0.3\n"), FR)
    assert verdicts(results) == {
        "statistic.quantiles": Status.REVIEW,
        "statistic.units": Status.REVIEW,
        "model.units": Status.REVIEW,
    }
    quantiles, units, model = results
    assert quantiles.cells == ((0, 2),)
    assert units.cells == ((0, 0), (0, 1))
    assert model.cells == ((0, 3),)
    assert units.summary == (
        "2 cells ('mean age', 'sd') rest on a number of units the table does not show:"
        " check it is at least 11"
    )


def test_describe_statistics_rest_on_its_count_row() -> None:
    text = ",age\ncount,30\nmean,48.7\nstd,8.2\n25%,41.0\n50%,48.7\n75%,55.1\n"
    assert verdicts(over_units(laid(text), FR)) == {
        "statistic.quantiles": Status.PASS,
        "statistic.units": Status.PASS,
    }


def test_a_statistic_over_a_hidden_count_goes_to_review() -> None:
    [result] = over_units(laid("sex,n,mean age\nF,*,50.2\nM,40,48.0\n"), FR)
    assert (result.rule, result.status, result.cells) == (
        "statistic.units",
        Status.REVIEW,
        ((0, 1),),
    )


def test_empty_statistic_cells_are_not_statistics_shown() -> None:
    assert over_units(laid("sex,n,mean age\nF,40,\nM,30,\n"), FR) == []


def test_tests_and_exposures_need_no_count() -> None:
    lay = laid("term,chi2,p,person years\nage,3.2,0.07,1200.5\n")
    assert over_units(lay, FR) == []
    assert magnitudes(lay) == []
    assert counts(lay, FR) == []


# --- magnitudes --------------------------------------------------------------------------------


def test_sums_need_evidence_of_their_contributors() -> None:
    [result] = magnitudes(laid("sex,sum\nF,1200\nM,1300\n"))
    assert (result.rule, result.status, result.cells) == (
        "magnitude.evidence",
        Status.REVIEW,
        ((0, 0), (1, 0)),
    )
    assert result.summary.startswith("2 magnitude cells, 'sum', without evidence")


def test_means_of_a_variable_in_euros_are_magnitudes() -> None:
    [result] = magnitudes(laid("sex,total cost,mean cost,mean los\nF,12000,1200.5,3.5\n"))
    assert result.cells == ((0, 0), (0, 1), (0, 2))
    assert result.summary.startswith("3 magnitude cells (in days, euros), 'total cost'")


def test_a_unit_named_in_a_row_label_makes_its_table_magnitudes() -> None:
    [result] = magnitudes(laid('variable,A,B\nN,40,30\n"Cost, mean",1200.5,1300.0\n'))
    assert result.cells == ((1, 0), (1, 1))
    assert "(in euros)" in result.summary


def test_means_of_a_variable_without_a_unit_are_no_magnitudes() -> None:
    assert magnitudes(laid("sex,n,mean age\nF,40,54.2\n")) == []


# --- percentages ------------------------------------------------------------------------------


def test_percentages_without_counts_go_to_review() -> None:
    [result] = percentages(laid("sex,pct\nF,10\nM,90\n"))
    assert (result.rule, result.status, result.cells) == (
        "percent.denominator",
        Status.REVIEW,
        ((0, 0), (1, 0)),
    )
    assert result.summary.startswith("percentages ('pct') without the counts")


@pytest.mark.parametrize(
    "text",
    [
        "sex,n,pct\nF,30,10\nM,270,90\n",  # beside counts
        "sex,cumsum,pct\nF,30,10\nM,300,100\n",  # beside a running total
        "sex,n\nF,30\nM,270\n",  # no percentage
    ],
)
def test_percentages_beside_their_counts_pass(text: str) -> None:
    assert percentages(laid(text)) == []


# --- every rule --------------------------------------------------------------------------------


def test_measured_gives_every_rule_in_reading_order() -> None:
    lay = laid("sex,n,min age,median age,total cost,pct\nF,3,18,50,1200,10\nM,30,20,52,1300,90\n")
    assert [(r.rule, r.status) for r in measured(lay, FR)] == [
        ("threshold", Status.FAIL),
        ("statistic.extremes", Status.FAIL),
        ("statistic.quantiles", Status.PASS),
        ("magnitude.evidence", Status.REVIEW),
    ]


def test_a_sound_frequency_table_passes_every_rule() -> None:
    results = measured(laid("sex,A,B\nF,12,30\nM,20,40\n"), FR)
    assert [(r.rule, r.status) for r in results] == [("threshold", Status.PASS)]


def test_a_running_total_along_the_rows_has_its_first_cell_counted() -> None:
    lay = laid('stat,2019,2020\n"Deaths, n",5,40\n"Deaths, n (cumulative)",5,45\n')
    assert lay.along_rows
    [result] = counts(lay, FR)
    assert (1, 0) in result.cells  # the running total's first value, 5


def test_a_running_total_down_a_column_has_its_first_cell_counted() -> None:
    [result] = counts(laid("year,cumulative n\n2019,4\n2020,60\n2021,90\n"), FR)
    assert result.cells == ((0, 0),)  # 4: the first of the running total


# --- whole files -------------------------------------------------------------------------------


def test_bare_integer_table_is_assumed_frequency_and_says_so() -> None:
    item = check("t.csv", "sex,A,B\nF,12,30\nM,9,40\n")
    results = rules(item)
    assert results["table.assumed_frequency"].summary.startswith(
        "checked as a frequency table of units: assumed"
    )
    assert (results["threshold"].status, results["threshold"].cells) == (Status.FAIL, ((1, 0),))
    assert item.status is Status.FAIL
    assert item.sha256 is not None


@pytest.mark.parametrize(
    ("text", "cells"),
    [
        # describe() of age and cost: only the cost column is in euros
        ("stat,age,cost\ncount,120,120\nmean,54.5,1200.5\nstd,10.5,300.5\n", ((1, 1), (2, 1))),
        # means of age beside means of cost
        ("sex,n,mean age,mean cost\nF,40,54.5,1200.5\nM,50,55.5,1300.5\n", ((0, 2), (1, 2))),
        # a Table 1: rows naming their variables
        (
            'variable,F,M\nN,120,130\n"Age, mean (SD)",54.8 (19.9),55.1 (18.0)\n'
            '"Cost, mean",1200.5,1300.0\n',
            ((2, 0), (2, 1)),
        ),
    ],
)
def test_only_the_statistics_of_a_variable_in_a_unit_are_magnitudes(
    text: str, cells: tuple[tuple[int, int], ...]
) -> None:
    [result] = magnitudes(laid(text))
    assert (result.rule, result.cells) == ("magnitude.evidence", cells)
    assert "(in euros)" in result.summary


def test_a_label_columns_name_gives_the_unit_of_every_cell() -> None:
    lay = laid("cost band,mean,std\nlow,120.5,10.5\nhigh,1200.5,300.5\n")
    assert set(lay.cell_units.flat) == {"euros"}
    [result] = magnitudes(lay)
    assert len(result.cells) == 4


def test_bare_magnitude_table_goes_to_review() -> None:
    item = check("t.csv", "sex,mean dose\nF,12.5\nM,13.25\n")
    assert rules(item)["magnitude.evidence"].status is Status.REVIEW
    assert "without evidence of their contributors" in rules(item)["magnitude.evidence"].summary
    assert item.status is Status.REVIEW


def test_minimum_and_maximum_fail_quantiles_review() -> None:
    item = check("t.csv", "group,min age,median age\nA,18,54\nB,21,60\n")
    assert rules(item)["statistic.extremes"].status is Status.FAIL
    assert rules(item)["statistic.quantiles"].status is Status.REVIEW


def test_a_count_column_in_a_table_of_measures_faces_the_threshold() -> None:
    item = check("t.csv", "group,mean age,count\nA,54.2,3\nB,61.5,45\n")
    assert rules(item)["threshold"].cells == ((0, 1),)
    assert item.status is Status.FAIL


def test_count_beside_statistics_still_faces_the_threshold() -> None:
    item = check("t.csv", "hospital,n,mean\nBron,68,7188\nLyon,4,5858\n")
    assert rules(item)["threshold"].status is Status.FAIL
    assert item.status is Status.FAIL
