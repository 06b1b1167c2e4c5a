"""What each cell of a table measures (disclosure/layout.py), decided from headers, labels and
the shapes of values: numeric label columns, measures along columns or along rows, the unit
of a magnitude, the counts of units behind statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agoria_tre.disclosure.layout import Layout, Measure, layout, measure_of, unit_of, words_of
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.readers.table import Table, parse_csv

LIMITS = load_profile("fr").limits
C, P, S, Q, E, X, M, G = (
    Measure.COUNT,
    Measure.PERCENT,
    Measure.STATISTIC,
    Measure.QUANTILE,
    Measure.EXTREME,
    Measure.EXPOSURE,
    Measure.MAGNITUDE,
    Measure.MODEL,
)


def table(text: str) -> Table:
    parsed = parse_csv(text.encode(), LIMITS, name="t.csv")
    assert isinstance(parsed, Table), parsed
    return parsed


def laid(text: str) -> Layout:
    return layout(table(text))


# --- header words, measures and units ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("meanAge", {"mean", "age"}),
        ("n_patients", {"n", "patients"}),
        ("age.mean", {"age", "mean"}),
        ("n (%)", {"n", "%"}),
        ("Coût Total", {"coût", "total"}),
        ("", set()),
    ],
)
def test_words_of_a_header_are_lower_cased_split_and_keep_the_percent_sign(
    name: str, words: set[str]
) -> None:
    assert words_of(name) == frozenset(words)


@pytest.mark.parametrize(
    ("name", "measure"),
    [
        # "n (%)": the cells read "259 (50.6)", a count first
        ("n (%)", C),
        ("n, %", C),
        ("Effectif (%)", C),
        # whole headers that statsmodels and scipy print
        ("OR", G),
        ("aHR", G),
        ("β", G),
        ("t", Measure.TEST),
        ("z", Measure.TEST),
        ("P>|t|", Measure.TEST),
        ("Pr(>|z|)", Measure.TEST),
        ("p-value", Measure.TEST),
        # extremes before anything else they may also say
        ("min age", E),
        ("Maximum", E),
        ("range", E),
        ("grade_max", E),
        # quantiles: by word, or a percentage-shaped header
        ("median", Q),
        ("Médiane", Q),
        ("q1", Q),
        ("25%", Q),
        ("97.5 %", Q),
        # model figures, unless they also name a count
        ("coef", G),
        ("lower ci", G),
        ("hazard ratio n", C),
        # running totals, and running percentages
        ("cumsum", Measure.CUMULATIVE),
        ("cum n", Measure.CUMULATIVE),
        ("cum %", P),
        ("cum pct", P),
        ("mean", S),
        ("taux", S),
        ("sd", S),
        ("pct", P),
        ("%", P),
        ("proportion", P),
        ("person years", X),
        ("personnes années", X),
        ("PY", X),
        ("chi2", Measure.TEST),
        ("auc", Measure.TEST),
        ("n df", C),
        ("sum", M),
        ("somme", M),
        ("cost", M),
        ("los", M),
        ("dose", M),
        ("montant €", M),
        ("n", C),
        ("patients", C),
        ("events", C),
        ("Total", C),
        ("Grand total", C),
        ("All", C),
        # categories: no measure
        ("F", None),
        ("Cardiovex", None),
        ("2024", None),
        ("25", None),
        ("mg/L", None),
        ("age", None),
    ],
)
def test_measure_of_a_header(name: str, measure: Measure | None) -> None:
    assert measure_of(name) == measure


@pytest.mark.parametrize(
    ("name", "unit"),
    [
        ("prix €", "euros"),
        ("€", "euros"),
        ("total cost", "euros"),
        ("Montant", "euros"),
        ("salaire", "euros"),
        ("los", "days"),
        ("durée de séjour", "days"),
        ("dose", "mg"),
        ("mg/L", None),  # a concentration, not a quantity given
        ("age", None),
        ("n", None),
    ],
)
def test_unit_of_a_magnitude_header(name: str, unit: str | None) -> None:
    assert unit_of(name) == unit


# --- numeric label columns -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("ecog,n\n0,40\n1,30\n2,12\n", ("ecog",)),
        ("grade_max,n\n3,40\n4,30\n", ("grade_max",)),  # a variable's name, not a maximum
        ("dep,n\n06,40\n13,30\n", ("dep",)),
        ("year,n\n2020,40\n2020,30\n", ("year",)),  # a grouping word: repeats allowed
        (",n\n0,40\n1,30\n2,20\n", ("",)),  # a pandas row index from 0
        ("index,n\n1,40\n2,30\n", ("index",)),  # ... or from 1
        ("x,n\n2019,40\n2021,30\n", ("x",)),  # distinct years under any header
        ("year,region,n\n2020,Nord,40\n2021,Sud,30\n", ("year", "region")),  # then text
    ],
)
def test_leading_numeric_label_columns_move_into_the_labels(
    text: str, labels: tuple[str, ...]
) -> None:
    lay = laid(text)
    assert lay.table.label_names == labels
    assert lay.table.header == ("n",)
    assert lay.measures == (C,)
    parsed = table(text)
    assert lay.table.row_labels == tuple(
        (*row_labels, *row[: len(labels) - len(parsed.label_names)])
        for row_labels, row in zip(parsed.row_labels, parsed.cells, strict=True)
    )
    assert lay.table.cells == tuple((row[-1],) for row in parsed.cells)


@pytest.mark.parametrize(
    "text",
    [
        ",n\n0,40\n2,30\n",  # unnamed, but not a row index
        "x,n\n2020,40\n2020,30\n",  # years repeated under a header that names no group
        "x,n\n1800,40\n2020,30\n",  # not years
        "x,n\n1.5,40\n2.5,30\n",  # not whole
        "x,n\n-1,40\n2,30\n",  # negative
        "n,pct\n40,50\n30,50\n",  # a measure's header
        "grade sum,n\n3,40\n4,30\n",  # a grouping word, but summed
        "ecog\n0\n1\n2\n",  # the last column is always data
    ],
)
def test_numeric_columns_that_are_data_stay_data(text: str) -> None:
    parsed = table(text)
    assert laid(text).table == parsed


def test_a_table_without_rows_keeps_its_columns() -> None:
    empty = Table(label_names=(), header=("ecog", "n"), row_labels=(), cells=())
    lay = layout(empty)
    assert lay.table == empty
    assert not lay.along_rows
    assert lay.grid.shape == (0, 2)
    assert lay.units_behind.shape == (0, 2)


# --- measures along the columns --------------------------------------------------------------


def test_unnamed_columns_of_whole_numbers_are_assumed_counts() -> None:
    lay = laid("sex,A,B,Total\nF,12,*,30\nM,9,40,49\n")
    assert lay.measures == (C, C, C)
    assert lay.assumed
    assert lay.only_counts


@pytest.mark.parametrize(
    ("text", "measure"),
    [
        ("sex,A\nF,1.5\nM,2\n", M),  # decimals
        ("sex,A\nF,-3\nM,4\n", M),  # negative
        ("sex,A\nF,*\nM,12\n", C),  # a hidden cell says nothing against a count
    ],
)
def test_an_unnamed_column_is_a_count_only_when_its_numbers_are_whole_and_positive(
    text: str, measure: Measure
) -> None:
    lay = laid(text)
    assert lay.measures == (measure,)
    assert lay.assumed


def test_named_columns_are_not_assumed() -> None:
    lay = laid("sex,n,pct,mean age\nF,40,50,54.2\nM,40,50,55.0\n")
    assert lay.measures == (C, P, S)
    assert not lay.assumed
    assert not lay.only_counts


@pytest.mark.parametrize(
    ("text", "measures"),
    [
        ("hospital,total,mean\nA,12000,1200.5\nB,9000,900.0\n", (M, S)),
        ("hospital,Total,median\nA,12000,1200.5\nB,9000,900.0\n", (M, Q)),
        ("hospital,n,total,mean\nA,10,12000,1200.5\nB,10,9000,900.0\n", (C, M, S)),
        ("hospital,A,total\nX,12,40\nY,30,60\n", (C, C)),  # beside counts, a margin
    ],
)
def test_a_total_beside_a_mean_is_the_variables_sum(
    text: str, measures: tuple[Measure, ...]
) -> None:
    assert laid(text).measures == measures


def test_grid_and_mask_follow_the_columns() -> None:
    lay = laid("sex,n,mean age\nF,40,54.2\nM,30,55.0\n")
    assert lay.grid.tolist() == [[C, S], [C, S]]
    assert lay.mask(Measure.COUNT).tolist() == [[True, False], [True, False]]
    assert lay.mask(Measure.COUNT, Measure.STATISTIC).all()
    assert not lay.mask(Measure.EXTREME).any()


def test_units_behind_each_cell_are_its_rows_first_count() -> None:
    lay = laid("sex,n,events,mean age\nF,40,3,54.2\nM,30,5,55.0\n")
    assert lay.units_behind.tolist() == [[40.0] * 3, [30.0] * 3]


@pytest.mark.parametrize(
    "text",
    [
        "drug,age mean,age count,bmi mean,bmi count\nA,50.5,40,25.5,12\nB,51.5,45,26.5,44\n",
        "drug,count age,mean age,count bmi,mean bmi\nA,40,50.5,12,25.5\nB,45,51.5,44,26.5\n",
    ],
)
def test_a_statistic_rests_on_the_count_of_its_own_variable(text: str) -> None:
    """pandas' ``agg(["mean", "count"])`` over two variables, in either order."""
    lay = laid(text)
    by_header = dict(zip(lay.table.header, lay.units_behind.T.tolist(), strict=True))
    assert by_header["age mean" if "age mean" in by_header else "mean age"] == [40.0, 45.0]
    assert by_header["bmi mean" if "bmi mean" in by_header else "mean bmi"] == [12.0, 44.0]


def test_a_statistic_of_no_counted_variable_rests_on_the_first_count() -> None:
    lay = laid("drug,age count,bmi count,mean weight\nA,40,12,70.5\nB,45,44,71.5\n")
    assert lay.units_behind[:, 2].tolist() == [40.0, 45.0]


def test_no_count_means_no_units_behind() -> None:
    lay = laid("sex,mean age,median age\nF,54.2,54\nM,55.0,56\n")
    assert np.isnan(lay.units_behind).all()
    assert lay.units_behind.shape == (2, 2)


def test_a_layout_without_measures_is_no_frequency_table() -> None:
    empty = Table(label_names=("sex",), header=(), row_labels=(("F",),), cells=((),))
    lay = Layout(empty, along_rows=False, measures=(), units=(), assumed=True)
    assert not lay.only_counts


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("sex,n,mean cost\nF,40,1200.5\n", "euros"),  # a header
        ("los band,n\nshort,40\nlong,30\n", "days"),  # a label column's name
        ("variable,A,B\nN,40,30\nDose mean,1.5,2.5\n", "mg"),  # a row label
        ("sex,n,mean age\nF,40,54.2\n", None),
    ],
)
def test_the_unit_a_table_names_anywhere(text: str, unit: str | None) -> None:
    assert laid(text).unit == unit


def test_units_per_column() -> None:
    lay = laid("sex,n,total cost,mean los\nF,40,1200.5,3.5\n")
    assert lay.units == (None, "euros", "days")


# --- measures along the rows ------------------------------------------------------------------


def describe_csv() -> str:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"age": rng.normal(50, 10, 30).round(1), "weight": rng.normal(70, 9, 30)})
    return str(frame.describe().round(2).to_csv())


def test_describe_reads_its_measures_along_the_rows() -> None:
    lay = laid(describe_csv())
    assert lay.along_rows
    assert lay.table.header == ("age", "weight")
    assert [labels[0] for labels in lay.table.row_labels] == [
        "count",
        "mean",
        "std",
        "min",
        "25%",
        "50%",
        "75%",
        "max",
    ]
    assert lay.measures == (C, S, S, E, Q, Q, Q, E)
    assert not lay.assumed
    assert lay.grid[:, 0].tolist() == list(lay.measures)
    assert lay.grid[:, 1].tolist() == list(lay.measures)
    # every cell rests on its column's count
    assert (lay.units_behind == 30.0).all()


def test_a_table_one_reads_sections_along_the_rows() -> None:
    text = (
        "variable,Treated,Control\n"
        "N,120,130\n"
        '"Age, mean (SD)",54.8 (19.9),55.1 (18.0)\n'
        '"Sex, n (%)",,\n'
        "F,60 (50.0),70 (53.8)\n"
        "M,60 (50.0),60 (46.2)\n"
        '"Cost, mean",1200.5,1300.0\n'
    )
    lay = laid(text)
    assert lay.along_rows
    # "F" and "M" take the measure of the section above them
    assert lay.measures == (C, S, C, C, C, S)
    assert lay.units == (None, None, None, None, None, "euros")
    assert lay.unit == "euros"
    assert lay.units_behind[:, 0].tolist() == [120.0] * 6
    assert lay.units_behind[:, 1].tolist() == [130.0] * 6


def test_rows_before_any_section_are_filled_from_their_numbers() -> None:
    lay = laid("variable,A,B\nfirst,1.5,2.5\nsecond,3,4\nn,40,30\nmean,1.2,3.4\n")
    assert lay.along_rows
    assert lay.measures == (M, C, C, S)


@pytest.mark.parametrize(
    "text",
    [
        "sex,A,B\nn,40,30\nF,20,10\nM,20,20\n",  # one row names a measure: groups
        "stat,n,mean\nmean,40,1.5\nsd,30,2.5\n",  # the headers name the measures
        "n,pct\n40,50\n30,50\n",  # no label column
    ],
)
def test_rows_that_are_groups_leave_the_measures_to_the_columns(text: str) -> None:
    assert not laid(text).along_rows


# --- behaviour that looks wrong (see the report) ----------------------------------------------


def test_counts_under_a_grouping_word_stay_data() -> None:
    lay = laid("sex,group A,group B\nF,3,40\nM,5,30\n")
    assert lay.table.header == ("group A", "group B")
