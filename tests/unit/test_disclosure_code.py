"""What a notebook code cell shows, read from its syntax tree (disclosure/readers/code.py), and
the rules on an output read with the code that printed it (disclosure/rules/code.py)."""

from __future__ import annotations

import pytest

from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.readers.code import Computes, Shown, prose, shown
from agoria_tre.disclosure.rules.code import code_output_rules, shown_numbers
from agoria_tre.disclosure.status import Status

FR = load_profile("fr")
COUNT, EXTREME, QUANTILE, VALUES, DISTINCT = (
    Computes.COUNT,
    Computes.EXTREME,
    Computes.QUANTILE,
    Computes.VALUES,
    Computes.DISTINCT,
)


def last(source: str) -> Shown:
    """What the cell shows last (its last expression, or its last print)."""
    found = shown(source)
    assert found, source
    return found[-1]


def kinds(source: str) -> set[Computes]:
    return set(last(source).computes)


def verdicts(source: str, output: str) -> dict[str, Status]:
    return {r.rule: r.status for r in code_output_rules(source, output, FR, where="cell 3")}


# --- shown(): what a value is computed as ----------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "len(df)",
        "df.shape[0]",
        "df.died.sum()",
        "df['sex'].value_counts()",
        "df.patient.nunique()",
        "df.age.count()",
        "df.age.size",
        "df.groupby('sex').size()",
        "df.groupby('sex').age.count().sum()",  # a sum of counts is still counts
        "df.sex.value_counts().max()",  # the largest group's count, not one unit's value
        "len(df) * 2",
        "n = len(df)\nn",  # a name assigned earlier
        "n: int = len(df)\nn",
        "deaths = df[df.died == 1]\nlen(deaths)",
        "f'{len(df)} patients'",
    ],
)
def test_counts(source: str) -> None:
    assert kinds(source) == {COUNT}


@pytest.mark.parametrize(
    "source",
    [
        "df.age.max()",
        "df['age'].min()",
        "df.age.idxmax()",
        "max(df.age)",
        "np.max(df.age)",
        "np.ptp(df.age)",
        "df.age.nlargest(3)",
        "df.sort_values('age').head()",
        "df.sort_values('age').tail(2)",
        "df.sort_values('age')[0:3]",
        "df.describe()[['min', 'max']]",
        "df.describe().loc['max']",
        "df.pivot_table(index='sex', values='age', aggfunc='max')",
        "df.groupby('sex').age.agg(['min', 'mean'])",
        "df.groupby('sex').age.agg('first')",
        "df.age.apply('max')",
        "df.groupby('patient').cost.sum().max()",  # groups that are units
        "df.groupby(['stay_id']).los.sum().max()",
        "df.groupby(df.patient).cost.sum().max()",
        "f'oldest: {df.age.max()}'",
    ],
)
def test_extremes_over_individuals(source: str) -> None:
    assert EXTREME in kinds(source)


@pytest.mark.parametrize(
    "source",
    [
        "df.groupby('sex').age.mean().max()",  # the largest of groups' means
        "df.groupby('sex').age.mean().nlargest(1)",
        "df.groupby('sex').age.mean().agg('max')",
        "max(df.groupby('sex').age.mean())",
        "df.age.sort_index().head()",  # the first rows, not the smallest values
        "pd.crosstab(df.sex, df.arm)",
        "df.groupby('sex').age.mean()",
        "df.age.mean()",
        "df.age.describe()",
        "df[0]",
        "df[df.age > 50]",
        "df.age > 50",
        "(lambda d: d)(df)",
        "lambda: 1",
        "3",
        "np.len(df)",
    ],
)
def test_aggregated_groups_and_other_values_show_no_kind(source: str) -> None:
    assert kinds(source) == set()


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("df.age.median()", QUANTILE),
        ("df.age.quantile(0.5)", QUANTILE),
        ("df.age.quantile()", QUANTILE),
        ("df.age.quantile([0.25, 0.75])", QUANTILE),
        ("np.median(df.age)", QUANTILE),
        ("np.percentile(df.age, 50)", QUANTILE),
        ("np.percentile(df.age)", QUANTILE),
        ("np.quantile(df.age, True)", QUANTILE),  # a bool is no level
        ("df.groupby('sex').age.mean().quantile(1)", QUANTILE),  # the largest group's mean
        # quantile(0) and quantile(1) are the minimum and the maximum
        ("df.age.quantile(0)", EXTREME),
        ("df.age.quantile(1.0)", EXTREME),
        ("df.age.quantile([0.25, 1])", EXTREME),
        ("np.percentile(df.age, 100)", EXTREME),
        ("np.quantile(df.age, (0, 0.5))", EXTREME),
        ("np.nanpercentile(df.age, 0)", EXTREME),
    ],
)
def test_quantiles_and_their_edges(source: str, kind: Computes) -> None:
    assert kinds(source) == {kind}


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("df.age.tolist()", VALUES),
        ("df.age.to_numpy()", VALUES),
        ("df.age.values", VALUES),
        ("df.age.array", VALUES),
        ("list(df.age)", VALUES),
        ("np.array(df.age)", VALUES),
        ("sorted(df.age)", VALUES),
        ("df.age.values + 1", VALUES),
        ("df.groupby('sex').age.agg(list)", VALUES),
        ("df.age.unique()", DISTINCT),
        ("df.drop_duplicates()", DISTINCT),
        ("set(df.age)", DISTINCT),
        ("np.unique(df.age)", DISTINCT),
    ],
)
def test_values_and_distinct_values_of_a_column(source: str, kind: Computes) -> None:
    assert kinds(source) == {kind}


@pytest.mark.parametrize(
    "source",
    [
        "df.groupby('sex').age.mean().values",
        "df.groupby('sex').age.mean().tolist()",
        "df.sex.value_counts().unique()",
        "list(df.sex.value_counts())",
        "set(df.groupby('sex').age.mean())",
    ],
)
def test_values_of_groups_are_not_individuals_values(source: str) -> None:
    assert not kinds(source) & {VALUES, DISTINCT}


@pytest.mark.parametrize(
    "source",
    [
        "df.columns",
        "df.dtypes",
        "model.params",
        "model.pvalues",
        "clf.coef_",
        "len(df.columns)",
        "df.columns.tolist()",
        "result.nobs",
    ],
)
def test_metadata_and_model_attributes_show_no_kind(source: str) -> None:
    assert kinds(source) == set()


def test_df_shape_is_a_count_then_a_number_of_columns() -> None:
    found = last("df.shape")
    assert found.computes == {COUNT}
    assert found.parts == (frozenset({COUNT}), frozenset())
    assert kinds("df.shape[1]") == set()
    assert kinds("df.shape[0]") == {COUNT}


def test_print_of_several_values_tells_each_number_apart() -> None:
    found = last("print('n =', len(df), 'mean age', df.age.mean(), df.shape)")
    assert found.computes == {COUNT}
    assert found.names == {"age"}
    assert found.parts == (
        frozenset({COUNT}),
        frozenset(),
        frozenset({COUNT}),
        frozenset(),
    )
    assert last("[len(df), df.age.max()]").parts == (frozenset({COUNT}), frozenset({EXTREME}))


def test_column_names_met_on_the_way() -> None:
    assert last("df['age'].max()").names == {"age"}
    assert last("df[['age', 'sex']]").names == {"age", "sex"}
    assert last("df.cost.sum()").names == {"cost"}


def test_a_loop_over_rows_prints_individuals_values() -> None:
    source = "for row in df.itertuples():\n    print(row)"
    [found] = shown(source)
    assert found.computes == {VALUES}
    assert found.line == "    print(row)"
    assert kinds("for i, row in df.iterrows():\n    display(row.age)") == {VALUES}


def test_a_loop_over_groups_prints_groups_values() -> None:
    source = "for sex, n in df.sex.value_counts().items():\n    print(sex, n)"
    assert kinds(source) == {COUNT}


def test_every_print_in_branches_loops_and_blocks_is_shown() -> None:
    source = (
        "if big:\n    print(len(df))\nelse:\n    print(df.age.max())\n"
        "with open('f') as f:\n    print(df.age.median())\n"
        "try:\n    x = 1\nfinally:\n    print(df.age.tolist())\n"
        "print('done')\n"
        "df.head()\n"
    )
    found = shown(source)
    assert [set(s.computes) for s in found] == [
        {COUNT},
        {EXTREME},
        {QUANTILE},
        {VALUES},
        set(),  # a print of text only
        set(),
    ]
    assert [s.line for s in found] == [
        "    print(len(df))",
        "    print(df.age.max())",
        "    print(df.age.median())",
        "    print(df.age.tolist())",
        "print('done')",
        "df.head()",
    ]


def test_a_print_last_is_shown_once() -> None:
    assert len(shown("x = 1\ndisplay(df.age.max())")) == 1
    assert len(shown("print(len(df))")) == 1


@pytest.mark.parametrize(
    "source",
    [
        "",
        "x = len(df)",  # nothing printed: the last statement is no expression
        "x: int",
        "import numpy as np",
        "df.age.max(",  # a syntax error
        "!pip install lifelines\n%%time",
    ],
)
def test_cells_that_show_nothing(source: str) -> None:
    assert shown(source) == []


def test_magics_are_removed_before_parsing() -> None:
    [found] = shown("%matplotlib inline\n!ls\nlen(df)")
    assert found.computes == {COUNT}
    assert found.line == "len(df)"


def test_fstrings_show_what_they_format() -> None:
    assert kinds("print(f'{len(df)} patients, oldest {df.age.max()}')") == {COUNT, EXTREME}
    assert kinds("f'{x!r}'") == set()


# --- prose() ----------------------------------------------------------------------------------


def test_prose_is_comments_strings_and_counts_written_as_literals() -> None:
    source = (
        "# 12 patients died\n"
        "title = 'Survival of 40 patients'\n"
        "label = rb'13 beds'\n"
        "note = 'no digit'\n"
        "n_patients = 3  # from the register\n"
        "%time len(df)\n"
        "df.age.max()  # oldest\n"
    )
    assert prose(source).splitlines() == [
        "12 patients died",
        "Survival of 40 patients",
        "13 beds",
        "n_patients = 3",
    ]


def test_prose_of_a_cell_that_does_not_tokenize_falls_back_to_quotes_and_comments() -> None:
    source = "x = (1,\n# 7 deaths\ny = 'among 9'\nn = 5\n"
    assert prose(source).splitlines() == ["# 7 deaths", "'among 9'", "n = 5"]


def test_prose_without_digits_is_empty() -> None:
    assert prose("# the oldest patient\nprint('hello')\n") == ""


# --- code_output_rules(): counts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("len(df)", "7"),
        ("df.shape", "(7, 3)"),
        ("df.died.sum()", "np.int64(3)"),
        ("print(len(df), df.shape[1])", "7 30"),
        ("n = len(df)\nprint(f'{n} patients')", "7 patients"),
        ("df.sex.value_counts()", "F    7\nM    40\nName: sex, dtype: int64"),
        ("[len(a), len(b), len(c), len(d)]", "[40,\n 50,\n 60,\n 7]"),  # a list, however long
    ],
)
def test_a_count_under_the_threshold_fails(source: str, output: str) -> None:
    [result] = code_output_rules(source, output, FR, where="cell 3")
    assert (result.rule, result.status) == ("threshold.text", Status.FAIL)
    assert result.summary.startswith("cell 3 shows a count under 11 (from ")


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("len(df)", "70"),
        ("len(df)", "0"),  # zeros are not small counts
        ("df.shape", "(70, 3)"),  # 3 is the number of columns
        ("print(len(df), df.shape[1])", "70 3"),
        ("df.age.mean()", "5.5"),
        ("df.died.sum()", "3.5"),
        ("df.delta.sum()", "-3"),
        ("print('3 groups')", "3 groups"),  # a number the code wrote, not computed
        ("df.columns", "Index(['a', 'b'], dtype='object')"),
        # a long output is checked as a table, not as a bare number
        ("df.sex.value_counts()", "F    7\nM    40\nX    12\nY    30\nName: sex, dtype: int64"),
    ],
)
def test_counts_at_or_over_the_threshold_and_other_numbers_pass(source: str, output: str) -> None:
    assert code_output_rules(source, output, FR, where="cell 3") == []


def test_an_output_without_numbers_needs_no_rule() -> None:
    assert code_output_rules("df.age.max()", "'unknown'", FR, where="cell 3") == []


# --- code_output_rules(): extremes, quantiles, values -----------------------------------------


def test_an_extreme_fails_and_names_its_line() -> None:
    [result] = code_output_rules("x = 1\ndf.age.max()", "97", FR, where="cell 3")
    assert (result.rule, result.status) == ("statistic.extremes", Status.FAIL)
    assert "'df.age.max()'" in result.summary


def test_a_quantile_goes_to_review() -> None:
    assert verdicts("df.age.median()", "54.0") == {"statistic.quantiles": Status.REVIEW}


def test_an_extreme_beside_a_quantile_fails_alone() -> None:
    source = "print(df.age.median(), df.age.quantile(1))"
    assert verdicts(source, "54.0 97.0") == {"statistic.extremes": Status.FAIL}


def test_sorted_values_are_extremes_not_a_listing() -> None:
    assert verdicts("sorted(df.age)[-3:]", "[88, 91, 97]") == {"statistic.extremes": Status.FAIL}


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("df.age.tolist()", "[54, 61, 47]"),
        ("df.age.values", "array([54, 61, 47, 50, 51])"),
        ("df.age.tolist()", "54\n61\n47\n50\n51"),
        ("for row in df.itertuples():\n    print(row)", "Pandas(Index=0, age=54)\n" * 5),
        ("df.age.unique()", "array([54.5, 61. ])"),  # distinct decimals
        ("df.age.unique()", "[54 61 47]"),  # distinct values of a measure
        ("df.code.unique()", "[" + " ".join(str(k) for k in range(20)) + "]"),  # many
    ],
)
def test_a_columns_values_listed_are_row_level(source: str, output: str) -> None:
    assert verdicts(source, output) == {"row_level": Status.FAIL}


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("df.grade.unique()", "[1 2 3]"),  # few codes
        ("df.year.unique()", "[" + " ".join(str(2000 + k) for k in range(20)) + "]"),
        ("df.groupby('sex').age.mean().tolist()", "[54.2, 55.1]"),
    ],
)
def test_distinct_codes_years_and_groups_values_are_not_row_level(source: str, output: str) -> None:
    assert verdicts(source, output) == {}


def test_a_listing_and_distinct_values_are_one_finding() -> None:
    source = "print(df.grade.unique(), df.x.tolist())"
    result = code_output_rules(source, "[1 2] [54, 61]", FR, where="cell 3")
    assert [(r.rule, r.summary) for r in result] == [
        (
            "row_level",
            "cell 3 lists individuals' values (from"
            " 'print(df.grade.unique(), df.x.tolist())'): row-level data",
        )
    ]


# --- shown_numbers() --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "numbers"),
    [
        ("42", ["42"]),
        ("np.int64(7)", ["7"]),
        ("np.float64(54.25)", ["54.25"]),
        ("'12 patients' 5", ["5"]),
        ("F    7\nName: sex, dtype: int64", ["7"]),
        ("Length: 3, dtype: float64", []),
        ("x1 2019-03-04 10:30 1e3 -4", ["2019", "1e3", "-4"]),
        ("1,234", []),
    ],
)
def test_numbers_shown_outside_quotes_and_footers(output: str, numbers: list[str]) -> None:
    assert shown_numbers(output) == numbers


# --- behaviour that looks wrong (see the report) ----------------------------------------------


def test_the_columns_unpacked_from_shape_are_no_count() -> None:
    assert code_output_rules("rows, cols = df.shape\nprint(cols)", "3", FR, where="c") == []


@pytest.mark.parametrize("source", ["sum(df.died)", "np.sum(df.died)", "np.count_nonzero(df.died)"])
def test_a_count_by_function_under_the_threshold_fails(source: str) -> None:
    assert verdicts(source, "3") == {"threshold.text": Status.FAIL}


def test_a_shape_unpacked_into_something_else_than_names_shows_nothing_known() -> None:
    assert code_output_rules("rows, cols[0] = df.shape\nprint(rows)", "3", FR, where="c") != []
    assert code_output_rules("a[0], cols = df.shape\nprint(cols)", "3", FR, where="c") == []
