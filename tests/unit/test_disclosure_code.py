"""What a notebook code cell shows, read from its syntax tree (disclosure/readers/code.py), and
the rules on an output read with the code that printed it (disclosure/rules/code.py): counts
(``threshold.text``), extremes and quantiles, individuals' values listed (``row_level``), and
the comments and strings of a cell read as prose."""

from __future__ import annotations

from typing import Any

import pytest

from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.readers.code import Computes, Shown, prose, shown
from agoria_tre.disclosure.rules.code import code_output_rules, shown_numbers
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import (
    check,
    flagged_rules,
    found,
    hints_of,
    notebook,
    stream,
)

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


@pytest.mark.parametrize("source", ['pattern = "\\d+"\nlen(df)', "x = 1if y else 2\nlen(df)"])
def test_a_cell_python_warns_about_is_read_all_the_same(source: str) -> None:
    """An invalid escape or a number run into a keyword: Python warns, the cell still runs, and
    the warning (an error under this suite's filters) is the cell's, not the checker's."""
    [found] = shown(source)
    assert found.computes == {COUNT}


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


# --- whole notebooks: counts printed by code --------------------------------------------------


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


def test_printed_labelled_counts_in_a_notebook_fail() -> None:
    source = "print('Deaths in Corse:', df.loc[df.region == 'Corse', 'death'].sum())"
    item = check("n.ipynb", notebook((source, stream("Deaths in Corse: 2\n"))))
    assert found(item)["threshold.text"] is Status.FAIL
    unlabelled = "print('Corse:', (df.region == 'Corse').sum())"
    item = check("n.ipynb", notebook((unlabelled, stream("Corse: 3\n"))))
    assert found(item)["threshold.text"] is Status.FAIL
    pair = "(df.region == 'Corse').sum(), (df.diag == 'J18').sum()"
    item = check("n.ipynb", notebook((pair, "(np.int64(3), np.int64(17))")))
    assert found(item)["threshold.text"] is Status.FAIL
    named = "n_corse = (df.region == 'Corse').sum()\nprint(n_corse)"
    assert found(check("n.ipynb", notebook((named, stream("3\n")))))["threshold.text"] is (
        Status.FAIL
    )


def test_value_counts_listed_face_the_threshold() -> None:
    item = check("n.ipynb", notebook(("df.region.value_counts().tolist()", "[123, 106, 68, 3]")))
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
        ("print('Deaths:', df.death.sum())", stream("Deaths: 118\n")),
        ("print(len(df), 'rows,', df.shape[1], 'columns')", stream("1245 rows, 5 columns\n")),
        ("print(df.shape)", stream("(1245, 5)\n")),
        ("df.region.value_counts().tolist()", "[412, 388, 301, 144]"),
        ("n = len(df)\nprint(df.age.mean())", stream("56.2\n")),
    ],
)
def test_printed_large_counts_and_shapes_pass(source: str, output: Any) -> None:
    item = check("n.ipynb", notebook((source, output)))
    assert "threshold.text" not in flagged_rules(item), source


# --- whole notebooks: extremes, quantiles and values listed ---------------------------------


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


SERIES = "241    23220.0\n75     23179.0\n10     22569.0\nName: cost, dtype: float64"


@pytest.mark.parametrize(
    ("source", "output", "rule"),
    [
        ("df.cost.sort_values(ascending=False).head(10)", SERIES, "statistic.extremes"),
        ("df.cost.nlargest(10)", SERIES, "statistic.extremes"),
        ("df.los.sort_values().tail(10).tolist()", "[21.4, 25.3, 30.5]", "statistic.extremes"),
        ("sorted(df.cost)[-5:]", "[18395.0, 22569.0, 23220.0]", "statistic.extremes"),
        ("print(df.age.sort_values().values[-5:])", stream("[94 94 94 94 94]\n"), None),
        (
            "df.sort_values('cost', ascending=False).head(10)[['region', 'cost']]",
            "      region     cost\n0        IDF  23220.0\n1  Normandie  23179.0",
            "statistic.extremes",
        ),
        ("df.groupby('pid').cost.sum().nlargest(5)", SERIES, "statistic.extremes"),
        ("df.age.agg(['min', 'max']).tolist()", "[18, 94]", "statistic.extremes"),
        ("df.age.describe()[['min', 'max']].values", "array([18., 94.])", "statistic.extremes"),
        (
            "df.groupby('region').age.agg(['min', 'max']).values",
            "array([[18, 94],\n       [24, 91]])",
            "statistic.extremes",
        ),
        (
            "df.groupby('region').age.agg(['first', 'last'])",
            "           first  last\nregion\nBretagne      24    30\nCorse         39    24",
            "statistic.extremes",
        ),
        ("df.age.agg(np.ptp)", "np.int64(76)", "statistic.extremes"),
        ("pd.pivot_table(df, index='region', values='age', aggfunc='max')", "a 94", None),
        ("df.loc[df.region == 'Corse', 'age'].tolist()", "[39, 91, 24]", "row_level"),
        ("df.loc[df.region == 'Corse', 'cost'].values", "array([1502., 4861.])", "row_level"),
        ("list(df.loc[df.diag == 'J18', 'age'])", "[48, 76, 72, 47]", "row_level"),
        ("df.age.unique()", "array([24, 92, 55, 48])", "row_level"),
        (
            "df.loc[df.death == 1].groupby('region').age.apply(list)",
            "region\nBretagne    [27, 58, 53]\nIDF    [67, 78, 94]\nName: age, dtype: object",
            "row_level",
        ),
        ("print(df.loc[df.region == 'Corse', 'age'].tolist())", stream("[39, 91, 24]\n"), None),
    ],
)
def test_largest_values_and_listed_values_fail(source: str, output: Any, rule: str | None) -> None:
    item = check("n.ipynb", notebook((source, output)))
    statuses = found(item)
    if rule is None:
        assert item.status is Status.FAIL, source
    else:
        assert statuses.get(rule) is Status.FAIL, source


@pytest.mark.parametrize(
    ("source", "output"),
    [
        ("df.columns.tolist()", "['age', 'sex', 'los', 'death']"),
        ("df.region.unique()", "array(['Bretagne', 'Corse', 'IDF'], dtype=object)"),
        ("df.year.unique()", "array([2019, 2020, 2021, 2022])"),
        ("df.stage.unique()", "array([1, 2, 3, 4])"),
        ("model.params.values", "array([ 0.52, -1.3 ,  0.04])"),
        ("df.diag.value_counts().head(10)", "diag\nI63    120\nJ18     98\nName: count"),
        (
            "df.groupby('region').size().sort_values(ascending=False).head(3)",
            "region\nBretagne    123\nNormandie    106\nIDF    68\ndtype: int64",
        ),
        ("df.groupby('region').age.mean().round(1).tolist()", "[56.3, 51.3, 59.6]"),
        ("df = df.drop_duplicates('pid', keep='first')\ndf.shape", "(1245, 12)"),
        ("sorted(df.columns)[:5]", "['age', 'cost', 'death']"),
        ("cm = confusion_matrix(y, p)\ncm.tolist()", "[[120, 45], [38, 97]]"),
    ],
)
def test_ordinary_notebook_code_passes(source: str, output: Any) -> None:
    item = check("n.ipynb", notebook((source, output)))
    assert not flagged_rules(item) & {"statistic.extremes", "row_level", "threshold.text"}, source


# --- whole notebooks: comments and strings of code cells are prose ----------------------------


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        (
            "# exclude the 3 Corsican patients (oldest is 94)\ndf = df[df.region != 'Corse']",
            "count",
        ),
        ("# exclude the 3 Corsican patients (oldest is 94)\nx = 1", "extreme"),
        ("df = df[df.age < 94]  # drop the oldest patient (94 y)", "extreme"),
        ("# We excluded the 3 Corsican patients.\nx = 1", "count"),
        ("# oldest patient: maximum age 94\nx = 1", "extreme"),
        ("n_patients = 3  # Corse\nx = 1", "count"),
        ("ax.set_title('Deaths in Corsica: 2')", "count"),
        ("title = f'Age ranged from 18 to 94 ({n} patients)'", "extreme"),
        ("%matplotlib inline\n# Deaths: 2\nx = 1", "count"),
    ],
)
def test_comments_and_strings_of_code_cells_are_prose(source: str, rule: str) -> None:
    item = check("n.ipynb", notebook((source, None)))
    assert rule in hints_of(item), source


def test_a_realistic_analysis_notebook_passes() -> None:
    cells = [
        ("import pandas as pd\nimport numpy as np\n%matplotlib inline", None),
        ("# Step 1: load the extract (version 2)\ndf = pd.read_parquet('cohort.parquet')", None),
        ("df.shape", "(1245, 12)"),
        ("df.columns.tolist()", "['pid', 'age', 'sex', 'region', 'los', 'death']"),
        ("# keep adults aged 18 to 65 (inclusion criteria)\ndf = df[df.age.between(18, 65)]", None),
        ("for i in range(1, 10):\n    pass  # 3 folds, see Figure 2", None),
        ("print('Deaths:', df.death.sum(), 'of', len(df))", stream("Deaths: 118 of 1245\n")),
        ("df.region.value_counts()", "region\nBretagne    412\nIDF    388\nName: count"),
        ("df.groupby('region').age.mean().round(1)", "region\nBretagne    56.3\nIDF    59.6"),
        ("print(f'Mortality: {df.death.mean():.1%}')", stream("Mortality: 9.5%\n")),
        ("model = smf.logit('death ~ age + sex', df).fit(disp=0)\nmodel.params.values", None),
        ("df.sex.unique()", "array(['F', 'M'], dtype=object)"),
        ("plt.title('Deaths by region (n = 1245)')", None),
    ]
    item = check("analysis.ipynb", notebook(*cells, markdown=("# Analysis\nTable 2: Model 3.",)))
    assert not flagged_rules(item) & {"statistic.extremes", "row_level", "threshold.text"}
