"""Prose and notebook code: counts after labels, verbs and percentages and ranges that
present the data's minimum and maximum are hints for the reviewers (prose never fails on a
guess); the largest values and lists of individual values in notebook outputs fail, read
from the code; comments and strings of code cells are prose."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import check, flagged_rules, found, hints_of


def notebook(*cells: tuple[str, Any], markdown: tuple[str, ...] = ()) -> str:
    built: list[dict[str, Any]] = [
        {"cell_type": "markdown", "source": text, "metadata": {}} for text in markdown
    ]
    for source, output in cells:
        if isinstance(output, dict):
            outputs = [output]
        elif output is None:
            outputs = []
        else:
            outputs = [
                {"output_type": "execute_result", "data": {"text/plain": output}, "metadata": {}}
            ]
        built.append({"cell_type": "code", "source": source, "outputs": outputs, "metadata": {}})
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": built})


def stream(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


# --- finding 1: small counts in ordinary prose ---------------------------------------------

DISCLOSIVE_PROSE = [
    "Patients: 3",
    "Deaths: 3",
    "Corsican patients: 3",
    "Décès : 2",
    "Number of deaths in Corsica: 2",
    "Deaths in Corsica: 2 (66.7%)",
    "Mortality in Corsica: 66.7% (2 of 3)",
    "Among Corsican patients, 2 died.",
    "We excluded 4 patients with missing age.",
    "number of events observed = 4",
    "In the subgroup analysis, Corsican patients: 3; deaths in Corsica: 2 (66.7%).",
    "Patients en Corse : 3",
    "Patients with J18 and death: 2",
    "Readmitted: 4",
    "Deceased: 4",
    "Survivors: 4",
    "Lost to follow-up: 4",
    "Exclusions: age missing (n 4)",
    "Cohort: 300 -> after exclusions 296 (4 excluded)",
    "Events: 4",
    "Positive cases: 4",
    "Test set positives: 4",
    "Sample size: 8",
    "Number of observations: 8",
    "nobs = 8",
    "y_test.sum() = 4",
    "Cases in Corse: 3 (1.0%)",
    "Deaths among Corsican patients: 2/3",
    "Patients from Corse (n): 3",
    "Effectif Corse : 3",
    "n Corse = 3",
    "deaths = 3",
    "Of the 120 patients, 3 had a stroke.",
    "Parmi les patients corses, 2 sont décédés.",
    "Of these, 4 were lost to follow-up.",
    "Mortality: 2 of 3",
    "J18 deaths 1",
    '{"region": "Corse", "deaths": 3}',
]


@pytest.mark.parametrize("text", DISCLOSIVE_PROSE)
def test_small_counts_after_labels_verbs_and_percentages_are_hints(text: str) -> None:
    item = check("results.md", text + "\n")
    assert "count" in hints_of(item), text
    assert item.status is Status.REVIEW


INNOCENT_PROSE = [
    "Table 2: Patients by region",
    "Model 3: adjusted for age and sex",
    "Step 4: exclude patients with missing age",
    "Day 7: 120 patients remained",
    "See page 2 of 3.",
    "Patients: 120",
    "Deaths: 45 (12.3%)",
    "Mean age of patients: 56.2",
    "Age of patients: 3 years",
    "Patients per nurse: 3",
    "Follow-up of patients: 3 years",
    "Patient satisfaction score: 4",
    "Deaths per 1,000: 3",
    "Number of variables: 5",
    "Number of folds: 5",
    "Iterations: 5",
    "Women: 1 (ref)",
    "Deaths: 2019-2022",
    "Cases: 3 March 2020",
    "Figure 2 had the highest rate.",
    "Of the 12 variables, 3 had missing values.",
    "grade 3 patients had more pain",
    "Version 1 was released in 2020.",
    "In 2 of the 5 models, age was significant.",
    "Median follow-up (years): 3",
    "Deaths, n (%): 45 (12.3)",
    "Stage: 3",
    "Time: 12:30",
    "Cox model: 3 covariates",
    "The 3 models had similar AUCs.",
    "Missing values (%): 3",
    "Events per variable: 8",
    "Patients/doctor: 4",
    "Df Model: 3",
    "Fold 3: AUC 0.81",
    "Chapter 2: Patients and methods",
    "Readmission rate: 3.2%",
    "Mortality in Corsica: 8.1% (25 of 310)",
    "Deaths in Brittany: 45 (12.3%); deaths in Normandy: 52 (11.0%).",
]


@pytest.mark.parametrize("text", INNOCENT_PROSE)
def test_numbers_that_are_not_small_counts_are_no_hint(text: str) -> None:
    item = check("results.md", text + "\n")
    assert "count" not in hints_of(item), text


@pytest.mark.parametrize(
    "text",
    [
        "Of 12 studies, 3 were excluded.",  # "excluded" counts units; studies are not ours
        "2 were excluded because of duplicate records.",
    ],
)
def test_a_small_number_beside_a_word_counting_units_is_a_hint_even_when_innocent(
    text: str,
) -> None:
    item = check("results.md", text + "\n")
    assert hints_of(item) == {"count"}
    assert item.status is Status.REVIEW  # never a failure: two people read it


def test_a_realistic_results_section_has_only_a_quantile_hint() -> None:
    text = (
        "## Results\n\n"
        "Table 1: Baseline characteristics. Step 2: multivariable model.\n"
        "Patients: 1,245 (women: 612). Deaths: 118 (9.5%).\n"
        "Mean age was 56.2 years (SD 21.3); median length of stay 6 days [IQR 3-9].\n"
        "Of the 1,245 patients, 118 died within 30 days (9.5%, 95% CI 7.9-11.2).\n"
        "Mortality ranged from 7.1% to 12.4% across regions (Figure 2).\n"
        "Model 3: OR 1.8 (95% CI 1.2-2.6), p = 0.003. Version 2 of the protocol.\n"
        "Patients aged 18 to 65 years were eligible; scores range 0-10.\n"
    )
    item = check("results.md", text)
    assert hints_of(item) == {"quantile"}  # the median length of stay, for the reviewers


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


def test_value_counts_listed_face_the_threshold() -> None:
    item = check("n.ipynb", notebook(("df.region.value_counts().tolist()", "[123, 106, 68, 3]")))
    assert found(item)["threshold.text"] is Status.FAIL


# --- finding 2: minimum and maximum written as a range -------------------------------------

RANGES = [
    "Age, mean (range): 56.2 (18-94)",
    "Patients were aged 18 to 94 years.",
    "Length of stay: median 6.1 days (range 0.2-31.5)",
    "Age: 56.2 years (range 18-94)",
    "Age ranged from 18 to 94 years.",
    "Age (years): mean ± SD 56.2 ± 21.3, range 18\u201394",
    "Age spanned 18 to 94.",
    "Age, median (min-max): 56 (18-94)",
    "Les patients étaient âgés de 18 à 94 ans.",
    "Âge : médiane 56 ans (étendue 18-94)",
    "Length of stay varied from 0.2 to 31.5 days.",
    "Weight ranged between 41.5 and 132.0 kg.",
    "Birth years ranged from 1931 to 2004.",
    "The oldest patient (94 y) was excluded.",
    "oldest patient: maximum age 94",
]


@pytest.mark.parametrize("text", RANGES)
def test_ranges_of_the_data_are_extreme_hints(text: str) -> None:
    item = check("results.md", text + "\n")
    assert "extreme" in hints_of(item), text
    assert item.status is Status.REVIEW


NOT_DATA_RANGES = [
    "Age groups 18-29, 30-44, 45-64 and 65+ were compared.",
    "Patients aged 18 to 65 years were eligible.",
    "Pain was measured on a scale ranging from 0 to 10.",
    "Age, median [IQR]: 56 [41-68]",  # a quantile hint, not an extreme
    "Mortality ranged from 5% to 12% across regions.",
    "The study period ranged from 2015 to 2020.",
    "Odds ratios ranged from 1.2 to 3.4.",
    "Normal range 3.5-5.0 mmol/L",
    "The range of ages was wide.",
    "Mean length of stay ranged from 4.1 to 7.9 days across hospitals.",
    "AUC ranged from 0.71 to 0.78 (95% CI 0.65-0.84).",
    "We report the range in Table 3.",
    "The minimum age 18 was required for inclusion.",
]


@pytest.mark.parametrize("text", NOT_DATA_RANGES)
def test_ranges_that_are_not_the_datas_are_no_extreme_hint(text: str) -> None:
    item = check("results.md", text + "\n")
    assert "extreme" not in hints_of(item), text


@pytest.mark.parametrize(
    "text",
    [
        "The VAS score (range 0-100) improved.",
        "Age range 18-29: 45 patients",
        "Interquartile range: 41-68",  # a quantile's, read as a range: a hint all the same
    ],
)
def test_a_scale_or_a_band_written_as_a_range_is_a_hint(text: str) -> None:
    assert "extreme" in hints_of(check("results.md", text + "\n"))


def test_a_range_in_a_markdown_cell_is_a_hint() -> None:
    item = check("n.ipynb", notebook(("x = 1", None), markdown=("Age ranged from 18 to 94.",)))
    assert hints_of(item) == {"extreme"}
    assert item.status is Status.REVIEW


# --- findings 3 and 4: the largest values, lists of individual values ----------------------

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


# --- finding 5: comments and strings of code cells -----------------------------------------


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
