"""Prose hints (disclosure/prose.py): which passages of prose become hints for the reviewers,
of which kind, over which characters, and what the ``prose.hints`` result says.

Each case names the passages it expects as ``(text[start:end], kind)``, in order of position,
so a hint that moves, widens, changes kind or disappears fails the test. Then the checker on
whole texts: small counts of people, minima, maxima and ranges are hints, never failures, and
what is a table's syntax is no prose."""

from __future__ import annotations

import dataclasses
import json

import pytest

from agoria_tre.disclosure.policy import Policy, load_profile
from agoria_tre.disclosure.prose import hints, prose_rule
from agoria_tre.disclosure.report import walk
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import check, example, hints_of, notebook

FR = load_profile("fr")  # threshold 11: counts from 1 to 10 are small

Passage = tuple[str, str]


def passages(text: str, policy: Policy = FR) -> list[Passage]:
    """Each hint of ``text`` as the passage it spans and its kind."""
    return [(text[h.start : h.end], h.kind) for h in hints(text, policy)]


def case(text: str, *expected: Passage) -> tuple[str, list[Passage]]:
    return text, list(expected)


def count(passage: str) -> Passage:
    return passage, "count"


def extreme(passage: str) -> Passage:
    return passage, "extreme"


def quantile(passage: str) -> Passage:
    return passage, "quantile"


def age(passage: str) -> Passage:
    return passage, "age"


# --- counts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        case("3 patients died.", count("3")),
        case("Among Corsican patients, 2 died.", count("2")),
        case("Parmi les patients corses, 2 sont décédés.", count("2")),
        case("Trois patients sont décédés.", count("Trois")),
        case("Two women were enrolled.", count("Two")),
        case("Deux hommes ont été inclus.", count("Deux")),
        case("Dix enfants ont été hospitalisés.", count("Dix")),
        case("Both patients died.", count("Both")),
        case("Les patients, tous deux fumeurs, sont décédés.", count("deux")),
        case("We excluded 4 with missing age.", count("4")),  # a word counting units
        case("Of the 120 patients, 3 had a stroke.", count("3")),
        case("Patients (3) were transferred.", count("3")),
    ],
)
def test_a_small_number_beside_a_unit_word_is_a_count(text: str, expected: list[Passage]) -> None:
    assert passages(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        case("n = 3", count("3")),
        case("n=3", count("3")),
        case("N = 3", count("3")),
        case("effectif : 3", count("3")),
        case("Deaths: 3", count("3")),
        case("Deaths = 3", count("3")),
        case("Décès : 2", count("2")),
        case("Deaths in Corsica: 2 (66.7%)", count("2")),
        case('{"region": "Corse", "deaths": 3}', count("3")),
        case("Per protocol, deaths: 3", count("3")),  # the label starts after the comma
        # the label is read back to its start, however far the unit word is from the value
        case("Deaths recorded in the small Corsican subgroup: 2", count("2")),
        case("Deaths recorded in the small Corsican subgroup: (2)", count("2")),
    ],
)
def test_a_small_value_after_a_label_of_units_is_a_count(
    text: str, expected: list[Passage]
) -> None:
    assert passages(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Age: 4",  # a label naming no unit, and no unit word near
        "Mean: 3",
        "x: 3",
        ": 3",
        "Patient satisfaction score: 4",  # the label is a rank's name
        "Patient satisfaction score: (4)",
        "Patients per nurse: 3",  # a ratio
        "Patients/doctor: 4",
        "Deaths/month: 3",
        "Deaths per 1,000: 3",
        "Missing patients (%): 3",  # a percentage
    ],
)
def test_a_label_naming_no_units_or_a_rate_makes_its_value_no_count(text: str) -> None:
    assert passages(text) == []


def test_a_value_after_a_label_naming_no_unit_is_still_a_count_beside_a_unit_word() -> None:
    text = "Outcome: 3 patients"
    assert passages(text) == [count("3")]


@pytest.mark.parametrize(
    ("threshold", "text", "hinted"),
    [
        (11, "Deaths: 0", False),
        (11, "Deaths: 1", True),
        (11, "Deaths: 10", True),
        (11, "Deaths: 11", False),
        (11, "Deaths: 120", False),
        (11, "Deaths: 2.5", False),  # not a whole number
        (11, "Eleven deaths", False),  # number words stop at ten
        (5, "Deaths: 4", True),
        (5, "Deaths: 5", False),  # the threshold is the policy's
        (5, "Five deaths", False),
    ],
)
def test_a_count_is_small_from_one_to_the_policys_threshold_minus_one(
    threshold: int, text: str, hinted: bool
) -> None:
    policy = dataclasses.replace(FR, threshold=threshold)
    assert bool(passages(text, policy)) is hinted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        case("2 of 3 patients died.", count("2"), count("3")),
        case("2 sur 3 patients", count("2"), count("3")),
        case("two of three patients died", count("two"), count("three")),
        case("Mortality: 2 of 3", count("2"), count("3")),  # "2 of 3" needs no unit word
        case("Deaths: 2/3", count("2"), count("3")),
        case("Deaths: 2 of many", count("2")),
        case("Deaths: 10 of 12", count("10")),  # a small part is the hint itself
    ],
)
def test_a_small_part_of_a_whole_is_a_count(text: str, expected: list[Passage]) -> None:
    assert passages(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        case("42/45 patients survived.", count("42/45")),
        case("42 of 45 patients survived.", count("42 of 45")),
        case("40 sur 45 patients", count("40 sur 45")),
        case("Survivors: 40 of 50", count("40 of 50")),  # a rest of 10: still small
        case("Survivors: 39 of 50"),  # a rest of 11
        case("45 of 45 patients"),  # no rest
        case("12 of 45 patients survived."),
        case("page 40 of 45"),  # a rank: the page's number, not a part
        case("40 of many"),
        case("Survivors: 40 of"),  # a line cut short
    ],
)
def test_a_large_part_whose_rest_is_small_is_a_count(text: str, expected: list[Passage]) -> None:
    assert passages(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "3-9 patients",
        "3\u20139 patients",  # an en dash
        "patients 9-3",
        "Length of stay: 1-31 days.",
    ],
)
def test_the_bounds_of_a_range_are_no_count(text: str) -> None:
    assert passages(text) == []


def test_a_dash_without_a_digit_on_its_other_side_bounds_no_range() -> None:
    assert passages("Patients in ward B-3") == [count("3")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        case("Patients: 3 March 2020"),
        case("Deaths: 3/03/2020"),
        case("Patients 2019-03-12: 3 deaths", count("3")),
    ],
)
def test_the_numbers_of_a_date_are_no_count(text: str, expected: list[Passage]) -> None:
    assert passages(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1 in 3 patients died.",
        "In 1 in 5 patients, fever came first.",
        "Patients per nurse: 3",
        "Rate per patient: 3",
    ],
)
def test_a_ratio_is_no_count(text: str) -> None:
    assert passages(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "grade 3 patients had more pain",
        "Stage 2 patients",
        "cycle 2 patients",
        "Figure 3 shows the patients",
        "Table 2: patients by region",
        "Step 4: exclude patients with missing age",
        "See page 2 of the patients' file.",
        "Median of grade 3 patients",
    ],
)
def test_a_number_after_a_rank_word_is_a_name_not_a_count(text: str) -> None:
    assert passages(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Patients were followed 3 years.",
        "Patients: 3 weeks",
        "3 (years) patients",
        "patients: 3 mg",
        "Patients: 3%",
        "Women: 1 (ref)",
    ],
)
def test_a_unit_of_measure_after_a_number_makes_it_a_measure(text: str) -> None:
    assert passages(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        case("1 005 patients"),
        case("1\u00a0005 patients"),  # a no-break space
        case("1\u202f005 patients"),  # a narrow no-break space, as French typesetting has it
        case("patients: 3 000"),
        case("Nous avons inclus 1 005 patients, 40 décès."),
        case("1 005 patients, 3 deaths", count("3")),
    ],
)
def test_thousands_grouped_by_spaces_are_one_number(text: str, expected: list[Passage]) -> None:
    assert passages(text) == expected


# --- extremes, quantiles and ages --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        case("The oldest patient was 94.", extreme("oldest patient was 94")),
        case("maximum age 94", extreme("maximum age 94")),
        case("minimale 3", extreme("minimale 3")),
        case("The range was 3-9 patients", extreme("range was 3")),
        case("Age ranged from 18 to 94.", extreme("ranged from 18")),
        case("Age ranged from 18 to 94 across regions.", extreme("ranged from 18")),
        case("Length of stay varied from 0.2 to 31.5 days.", extreme("varied from 0.2")),
        case("L'âge allait de 18 à 94 ans.", extreme("allait de 18")),
        case("Le patient le plus âgé avait 94 ans.", extreme("plus âgé avait 94")),
        case("La plus jeune avait 18 ans.", extreme("plus jeune avait 18")),
        case("Patients aged 18 to 94 years.", extreme("aged 18 to 94")),
        case("Patients aged between 18 and 94", extreme("aged between 18 and 94")),
        case("Les patients âgés de 18 à 94 ans", extreme("âgés de 18 à 94")),
    ],
)
def test_a_minimum_or_maximum_with_a_number_after_it_is_an_extreme(
    text: str, expected: list[Passage]
) -> None:
    assert passages(text) == expected


@pytest.mark.parametrize(
    ("text", "hinted"),
    [
        ("The oldest patient in the cohort was 94.", True),  # the sixth word
        ("The oldest patient in the whole cohort was 94.", False),  # the seventh
        ("Le plus âgé des patients avait 94 ans.", True),
        ("Le plus âgé des patients de la cohorte avait 94 ans.", False),
        ("The maximum was reached.", False),  # no number at all
        ("Le plus âgé des patients", False),
    ],
)
def test_an_extreme_reads_six_words_after_its_word(text: str, hinted: bool) -> None:
    assert bool(passages(text)) is hinted


def test_a_number_naming_a_rank_after_an_extreme_word_is_no_extreme() -> None:
    assert passages("The oldest was grade 3.") == []
    assert passages("The highest rate was in Figure 2.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Mortality ranged from 5% to 12% across regions.",
        "Mean length of stay ranged from 4.1 to 7.9 days across hospitals.",
        "Odds ratios ranged from 1.2 to 3.4.",
        "The study period ranged from 2015 to 2020.",
        "AUC ranged from 0.71 to 0.78.",
        "Pain was measured on a scale ranging from 0 to 10.",
        "Les taux variaient de 5 à 12.",
    ],
)
def test_a_range_verb_after_a_groups_statistic_is_no_extreme(text: str) -> None:
    assert passages(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        case("Median age 56.", quantile("Median age 56")),
        case("médiane 12 jours", quantile("médiane 12")),
        case("The 90th percentile was 12.", quantile("percentile was 12")),
        case("Patients, median: 4", quantile("median: 4")),
        case("IQR 3-9 patients", quantile("IQR 3")),
        case("Median 56; median 56", quantile("Median 56"), quantile("median 56")),
        case("The median was computed."),
        case("Âge : médiane 56 ans (étendue 18-94)", quantile("médiane 56"), extreme("étendue 18")),
        case(
            "Interquartile range: 41-68",
            quantile("Interquartile range: 41"),
            extreme("range: 41"),
        ),
    ],
)
def test_a_median_or_quantile_with_a_number_after_it_is_a_quantile(
    text: str, expected: list[Passage]
) -> None:
    assert passages(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        case("A 71-year-old woman.", age("71-year-old")),
        case("a 71 year old man", age("71 year old")),
        case("A woman of 64 presented.", age("woman of 64")),
        case("Patients aged 64", age("aged 64")),
        case("A woman aged 64 years", age("aged 64 years")),
        case("Une femme âgée de 64 ans.", age("âgée de 64 ans")),
        case("Un homme âgé de 70 ans", age("âgé de 70 ans")),
        case("Patients aged 65 and over had more falls."),  # a band, not an age
        case("Patients aged 65 or older had more falls."),
    ],
)
def test_one_persons_age_is_an_age(text: str, expected: list[Passage]) -> None:
    assert passages(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Patients aged 18 to 65 years were eligible.",
        "The minimum age 18 was required for inclusion.",
        "Normal range 3.5-5.0 mmol/L",
        "Les patients âgés de 18 à 65 ans étaient éligibles.",
        "Le plus âgé devait avoir 90 ans au moins, selon les critères.",
        "A 70-year-old threshold applies.",
        "Cells must reach the threshold; the maximum is 10.",
    ],
)
def test_a_sentence_stating_a_criterion_has_no_extreme_or_age(text: str) -> None:
    assert passages(text) == []


def test_a_criterion_leaves_counts_and_quantiles_for_the_reviewers() -> None:
    text = "3 patients were eligible; the median must be 7."
    assert passages(text) == [count("3"), quantile("median must be 7")]


# --- prose lines and spans -------------------------------------------------------------------


@pytest.mark.parametrize(
    "row",
    [
        "| Deaths | 3 |",
        "Deaths | 3",
        "Deaths\t3",
        "Corse  3 patients  2 deaths",  # two runs of two spaces: a row
        "The oldest\t94",
    ],
)
def test_a_tables_row_among_rows_is_no_prose_but_a_lone_one_is(row: str) -> None:
    assert passages(f"{row}\n{row}\n") == []  # a table's: checked as a table
    assert passages(row) != []  # one line is no table: its count or extreme is a hint


def test_one_run_of_two_spaces_leaves_a_line_prose() -> None:
    assert passages("Deaths were rare.  3 patients died.") == [count("3")]


def test_spans_are_offsets_in_the_whole_text_in_order_of_position() -> None:
    text = (
        "# Results\n"
        "\n"
        "| Region | Deaths |\n"
        "| Corse  | 2      |\n"
        "Of 120 patients, 3 died; the oldest was 94.\n"
        "   \n"
        "A 71-year-old man. Median stay 6 days.\n"
        "Deaths: 2"
    )
    found = hints(text, FR)
    assert [(text[h.start : h.end], h.kind) for h in found] == [
        count("3"),
        extreme("oldest was 94"),
        age("71-year-old"),
        quantile("Median stay 6"),
        count("2"),
    ]
    assert [h.start for h in found] == sorted(h.start for h in found)
    assert found[-1].end == len(text)


# --- the rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Patients: 1,245. Deaths: 118 (9.5%).",
        "| Deaths | 3 |\n| Deaths | 3 |\n",
        "Model 3: adjusted for age and sex",
    ],
)
def test_prose_without_hints_passes(text: str) -> None:
    result = prose_rule(text, FR, where="results.md")
    assert result.rule == "prose.hints"
    assert result.status is Status.PASS
    assert result.summary == "results.md: no small count, extreme, quantile or age in its prose"
    assert result.spans == ()


def test_prose_with_hints_is_for_review_with_each_kind_counted_and_every_span() -> None:
    text = (
        "3 patients died; 2 women. Median age 56, the oldest was 94, a 71-year-old man.\n"
        "Age ranged from 18 to 94."
    )
    result = prose_rule(text, FR, where="results.md")
    assert result.rule == "prose.hints"
    assert result.status is Status.REVIEW
    assert result.summary == (
        "results.md: 2 possible small counts, 2 minima or maxima, 1 median or quantile, "
        "1 person's age in its prose, for the reviewers to read (see the spans)"
    )
    assert [text[a:b] for a, b in result.spans] == [
        "3",
        "2",
        "Median age 56",
        "oldest was 94",
        "71-year-old",
        "ranged from 18",
    ]


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        ("3 patients died.", "x: 1 possible small count in its prose"),
        ("The oldest was 94.", "x: 1 minimum or maximum in its prose"),
        ("Median 56; IQR 41", "x: 2 medians or quantiles in its prose"),
        ("A 71-year-old man and a woman of 64.", "x: 2 persons' ages in its prose"),
    ],
)
def test_the_summary_names_only_the_kinds_found_in_agreement_with_their_number(
    text: str, summary: str
) -> None:
    result = prose_rule(text, FR, where="x")
    assert result.summary == summary + ", for the reviewers to read (see the spans)"


def test_the_checkers_report_of_a_text_carries_the_prose_spans() -> None:
    text = "Results\nOf 120 patients, 3 died.\n"
    item = check("results.md", text)
    assert hints_of(item) == {"count"}
    assert item.status is Status.REVIEW
    spans = [
        span
        for node in walk([item])
        for r in node.rules
        if r.rule == "prose.hints"
        for span in r.spans
    ]
    assert [text[a:b] for a, b in spans] == ["3"]


@pytest.mark.parametrize(
    "text",
    [
        "The oldest patient was 97 and had normal renal function.",
        "The youngest patient was 19, which must be noted.",
        "The maximum length of stay was 212 days; cells with fewer than 11 were suppressed.",
        "In this study, patient ages ranged from 18 to 94 years.",
    ],
)
def test_a_word_near_an_extreme_that_states_no_criterion_keeps_its_hint(text: str) -> None:
    assert "extreme" in {kind for _, kind in passages(text)}


# --- the checker on whole texts: small counts of people -----------------------------------------

SMALL_COUNTS_OF_PEOPLE = [
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


@pytest.mark.parametrize("text", SMALL_COUNTS_OF_PEOPLE)
def test_small_counts_of_people_after_labels_verbs_and_percentages_are_hints(text: str) -> None:
    item = check("results.md", text + "\n")
    assert "count" in hints_of(item), text
    assert item.status is Status.REVIEW


NOT_SMALL_COUNTS_OF_PEOPLE = [
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


@pytest.mark.parametrize("text", NOT_SMALL_COUNTS_OF_PEOPLE)
def test_numbers_that_are_not_small_counts_of_people_are_no_hint(text: str) -> None:
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


def test_json_keys_naming_counts_are_hints() -> None:
    item = check("meta.json", '{"study": "cohort A", "n_patients": 7, "n_deaths": 3}')
    assert "count" in hints_of(item)
    assert item.status is not Status.PASS


def test_a_realistic_results_section_has_only_a_quantile_hint() -> None:
    item = check("results.md", example("prose.hints/review/results_section_with_a_median.md"))
    assert hints_of(item) == {"quantile"}  # the median length of stay, for the reviewers


# --- the checker on whole texts: minima, maxima and ranges ---------------------------------------


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


RANGES_OF_THE_DATA = [
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


@pytest.mark.parametrize("text", RANGES_OF_THE_DATA)
def test_ranges_of_the_data_are_extreme_hints(text: str) -> None:
    item = check("results.md", text + "\n")
    assert "extreme" in hints_of(item), text
    assert item.status is Status.REVIEW


NOT_RANGES_OF_THE_DATA = [
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


@pytest.mark.parametrize("text", NOT_RANGES_OF_THE_DATA)
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


# --- what is not prose -------------------------------------------------------------------------


def test_a_json_tables_syntax_and_latex_rows_are_not_prose() -> None:
    document = json.dumps({"count": {"A": 40, "B": 52}, "median": {"A": 55.5, "B": 61.0}})
    item = check("t.json", document)
    assert [r.status for r in item.rules if r.rule == "prose.hints"] == [Status.PASS]
    latex = (
        "\\begin{tabular}{lr}\nCRP, median [IQR] & 7.0 [4.1-11.9] \\\\\n"
        "N & 512 \\\\\n\\end{tabular}\n"
    )
    item = check("t.tex", latex)
    assert [r.status for r in item.rules if r.rule == "prose.hints"] == [Status.PASS]
    labelled = check("meta.json", '{"study": "A", "n_deaths": 3}')
    assert [r.status for r in labelled.rules if r.rule == "prose.hints"] == [Status.REVIEW]
