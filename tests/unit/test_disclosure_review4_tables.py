"""Third adversarial review, tables: row-level listings, sums and means taken for counts,
suppression markers written as words. Each bypass fails (or reviews) and a near-miss
aggregate table still passes."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agoria_tre.disclosure.checker import Context, check_bytes
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.readers.table import Table, parse_csv
from agoria_tre.disclosure.report import ItemReport, walk
from agoria_tre.disclosure.rules import statistics
from agoria_tre.disclosure.status import Status

FR = Context(load_profile("fr"))


def check(name: str, data: bytes | str) -> ItemReport:
    raw = data.encode() if isinstance(data, str) else data
    return check_bytes(name, raw, FR).report


def rules(item: ItemReport) -> dict[str, Any]:
    return {r.rule: r for r in item.rules}


def statuses(item: ItemReport, rule: str) -> list[Status]:
    """The statuses of ``rule`` in the item and all its children (tables in outputs)."""
    return [r.status for one in walk([item]) for r in one.rules if r.rule == rule]


def table(text: str) -> Table:
    parsed = parse_csv(text.encode(), FR.policy.limits, name="t.csv")
    assert isinstance(parsed, Table)
    return parsed


def row_level(text: str) -> Status:
    return statistics.row_level(table(text))[0].status


def listing() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 95, 300),
            "sex": rng.choice(["M", "F"], 300),
            "weight_kg": rng.integers(45, 110, 300),
            "sbp": rng.integers(100, 180, 300),
            "commune": rng.choice(["Bron", "Villeurbanne", "Lyon", "Caluire"], 300),
        }
    )
    return frame.sample(20, random_state=3)


def notebook_with(html: str, plain: str) -> bytes:
    output = {
        "output_type": "execute_result",
        "execution_count": 1,
        "metadata": {},
        "data": {"text/html": html, "text/plain": plain},
    }
    cell = {
        "cell_type": "code",
        "source": "df",
        "metadata": {},
        "execution_count": 1,
        "outputs": [output],
    }
    return json.dumps(
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}
    ).encode()


# --- finding 1: row-level listings ---------------------------------------------------------

F1 = (
    ",age,sex,weight_kg,sbp,commune\n130,94,M,71,158,Bron\n291,78,F,72,161,Villeurbanne\n"
    "77,66,F,58,142,Lyon\n"
)


def test_sampled_pandas_index_listing_fails() -> None:
    item = check("F1_rowlevel.csv", F1)
    assert rules(item)["row_level"].status is Status.FAIL
    assert "pandas index" in rules(item)["row_level"].summary
    assert item.status is Status.FAIL


REPRODUCERS = {
    "F1_rowlevel.csv": F1,
    "F1b_rowlevel_fr.csv": "identifiant,age,sbp\nA81F2,54,132\nB77Q1,61,145\nC19Z8,72,128\n",
    "F5_summean.csv": (
        "hospital,sum,mean\nBron,488796,7188\nClinique Saint-Joseph,48213,48213\n"
        "HCL Sud,363179,5858\n"
    ),
    "F6_marker.csv": "sex,A,B,Total\nF,masqué,30,35\nM,20,40,60\nTotal,25,70,95\n",
    "F6b_nc.csv": (
        "region,deces,admissions\nAin,NC,120\nAllier,NC,130\nCantal,3,150\nDrome,45,160\n"
    ),
}


@pytest.mark.parametrize("name", sorted(REPRODUCERS))
def test_reproducer_files_fail(name: str) -> None:
    """The review's files, exactly as it wrote them."""
    assert check(name, REPRODUCERS[name]).status is Status.FAIL


def test_filtered_listing_keeps_a_sorted_index_and_fails() -> None:
    text = ",age,weight_kg,sbp\n3,54,71,132\n17,61,80,145\n42,72,66,128\n"
    assert row_level(text) is Status.FAIL


def test_listing_in_every_pandas_form_fails() -> None:
    sample = listing()
    forms = {
        "to_csv.csv": sample.to_csv(),
        "to_csv_noindex.csv": sample.to_csv(index=False),
        "head.csv": listing().sort_index().reset_index(drop=True).head(15).to_csv(),
        "numeric.csv": sample[["age", "weight_kg", "sbp"]].to_csv(),
        "numeric_print.txt": str(sample[["age", "weight_kg", "sbp"]]),
        "records.json": sample.to_json(orient="records"),
        "split.json": sample.to_json(orient="split"),
        "table.json": sample.to_json(orient="table"),
    }
    for name, text in forms.items():
        item = check(name, text)
        assert Status.FAIL in statuses(item, "row_level"), name
    html = check("nb.ipynb", notebook_with(sample.to_html(), str(sample)))
    assert Status.FAIL in statuses(html, "row_level")
    assert html.status is Status.FAIL


@pytest.mark.parametrize(
    "name",
    [
        "identifiant",
        "num_dossier",
        "numero_patient",
        "numéro_patient",
        "code_patient",
        "patient_ref",
        "patientid",
        "patientId",
        "subject_no",
        "IdPatient",
        "no_sujet",
        "USUBJID",
        "patient_uuid",
    ],
)
def test_identifier_like_columns_in_other_forms_fail(name: str) -> None:
    text = f"{name},age,sbp\nA81F2,54,132\nB77Q1,61,145\nC19Z8,72,128\n"
    item = check("t.csv", text)
    assert rules(item)["row_level"].status is Status.FAIL
    assert "identifies individuals" in rules(item)["row_level"].summary


@pytest.mark.parametrize(
    "name",
    ["nb_patients", "number of patients", "nombre de patients", "patients", "code", "no"],
)
def test_count_and_category_headers_are_not_identifiers(name: str) -> None:
    assert row_level(f"region,{name},other\nAin,25,30\nAllier,40,41\n") is Status.PASS


@pytest.mark.parametrize(
    "text",
    [
        # crosstab with margins, the default pandas one and R's addmargins
        "sex,A,B,All\nF,15,30,45\nM,20,40,60\nAll,35,70,105\n",
        "sex,A,B,Sum\nF,15,30,45\nM,20,40,60\nSum,35,70,105\n",
        # groupby means, reset_index() written with its 0..n-1 index
        ",commune,age,sbp\n0,Bron,54.2,132.1\n1,Lyon,61.3,140.2\n2,Villeurbanne,58.0,128.4\n",
        # groupby means keyed by a year or by age (sorted, distinct keys)
        "year,age,sbp\n2019,54.2,132.1\n2020,55.1,131.0\n2021,56.3,133.4\n",
        "age,weight_kg,sbp\n40,72.1,128.3\n50,75.4,133.0\n60,77.9,139.2\n",
        # value_counts, filtered after reset_index (a sampled index, but a count column)
        ",age,count\n0,54,30\n3,61,15\n7,70,12\n",
        # long formats
        "age,sex,n\n30,F,12\n30,M,14\n40,F,15\n40,M,20\n",
        ",sex,commune,n\n0,F,Bron,12\n1,F,Lyon,30\n2,M,Bron,14\n3,M,Lyon,25\n",
        "year,region,n\n2019,Ain,40\n2019,Allier,35\n2020,Ain,42\n2020,Allier,31\n",
        # describe() without extremes, a regression table, a correlation matrix
        ",age,weight_kg,sbp\ncount,20,20,20\nmean,54.2,71.3,140.1\nstd,12.1,9.2,15.3\n",
        ",coef,std err\nconst,1.2,0.3\nage,0.05,0.01\nweight_kg,0.02,0.004\n",
        ",age,weight_kg,sbp\nage,1.0,0.2,0.3\nweight_kg,0.2,1.0,0.4\nsbp,0.3,0.4,1.0\n",
        # a matrix from numpy (numbered rows and columns)
        ",0,1,2\n0,15,30,45\n1,20,40,60\n",
        # groupby means on an unnamed array of sorted keys
        ",age,sbp\n20,25.2,120.1\n30,34.8,125.2\n40,44.9,130.3\n",
        # groupby mean by commune with a 0..n-1 index, numeric means
        ",commune,age_mean,sbp_mean\n0,Bron,54.2,132.1\n1,Lyon,61.3,140.2\n",
    ],
)
def test_aggregate_tables_are_not_row_level(text: str) -> None:
    assert row_level(text) is Status.PASS


def test_aggregate_near_misses_pass_the_whole_check() -> None:
    assert check("t.csv", "sex,A,B,Total\nF,15,30,45\nM,20,40,60\nTotal,35,70,105\n").status is (
        Status.PASS
    )
    assert check("t.csv", "sex,commune,n\nF,Bron,12\nF,Lyon,30\nM,Bron,14\n").status is (
        Status.PASS
    )
    assert check("t.csv", "region,total\nAin,20\nAllier,30\n").status is Status.PASS


# --- finding 3: sums and means are magnitudes -------------------------------------------

F5 = "hospital,sum,mean\nBron,488796,7188\nClinique Saint-Joseph,48213,48213\nHCL Sud,363179,5858\n"


def test_whole_sums_and_means_are_a_magnitude_table_and_n_1_fails() -> None:
    item = check("F5_summean.csv", F5)
    found = rules(item)
    assert "table.assumed_frequency" not in found
    assert found["magnitude.evidence"].status is Status.REVIEW
    implied = found["statistic.implied_count"]
    assert (implied.status, implied.cells) == (Status.FAIL, ((1, 0),))
    assert "sum = mean" in implied.summary
    assert item.status is Status.FAIL


def test_sum_header_is_a_statistic_not_a_margin() -> None:
    parsed = table(F5)
    assert parsed.margin_columns == ()
    assert parsed.statistic_columns == (0, 1)
    assert not parsed.all_integer()
    margins = table("sex,A,B,Sum\nF,15,30,45\nM,20,40,60\nSum,35,70,105\n")
    assert margins.margin_columns == (2,)
    assert margins.statistic_columns == ()
    assert margins.all_integer()


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


def test_count_beside_statistics_still_faces_the_threshold() -> None:
    item = check("t.csv", "hospital,n,mean\nBron,68,7188\nLyon,4,5858\n")
    assert rules(item)["threshold"].status is Status.FAIL
    assert item.status is Status.FAIL


# --- finding 4: suppression markers written as words ------------------------------------

F6 = "sex,A,B,Total\nF,{m},30,35\nM,20,40,60\nTotal,25,70,95\n"


@pytest.mark.parametrize(
    "marker",
    [
        "masqué",
        "Masqué",
        "[c]",
        "[x]",
        "–",  # noqa: RUF001 (an en dash, as offices print it)
        "…",
        "−",  # noqa: RUF001 (a minus sign)
        "secret",
        "NR",
        "ND",
        "NC",
        "suppressed",
        "•",
        "‡",
        "c",
        "x",
        "s",
        "n/a",
        "protégé",  # any word in a column of numbers hides a number
    ],
)
def test_word_markers_are_hidden_cells_recomputed_from_margins(marker: str) -> None:
    item = check("F6_marker.csv", F6.format(m=marker))
    result = rules(item)["secondary_suppression"]
    assert (result.status, result.cells) == (Status.FAIL, ((0, 0),))
    assert "exactly 5" in result.summary


def test_word_marker_protected_by_other_hidden_cells_passes() -> None:
    text = "sex,A,B,Total\nF,masqué,NC,55\nM,NC,masqué,70\nTotal,45,80,125\n"
    assert rules(check("t.csv", text))["secondary_suppression"].status is Status.PASS


def test_column_of_markers_and_numbers_is_data_not_labels() -> None:
    text = "region,deces,admissions\nAin,NC,120\nAllier,NC,130\nCantal,3,150\nDrome,45,160\n"
    parsed = table(text)
    assert parsed.label_names == ("region",)
    assert parsed.header == ("deces", "admissions")
    assert parsed.suppressed[:, 0].tolist() == [True, True, False, False]
    item = check("F6b_nc.csv", text)
    assert (rules(item)["threshold"].status, rules(item)["threshold"].cells) == (
        Status.FAIL,
        ((2, 0),),
    )
    # an unknown word repeated among numbers is a marker too, not a label column
    unknown = table(text.replace("NC", "protégé"))
    assert unknown.header == ("deces", "admissions")


def test_label_columns_holding_marker_like_words_stay_labels() -> None:
    # "NC" (Nouvelle-Calédonie) as a region, "Total" repeated in a two-level label
    regions = table("region,n\nAin,20\nNC,30\nAllier,40\n")
    assert regions.label_names == ("region",)
    assert check("t.csv", "region,n\nAin,20\nNC,30\nAllier,40\n").status is Status.PASS
    levels = table("year,sex,n\n2019,F,20\n2019,M,30\nTotal,F,20\nTotal,M,30\n")
    assert levels.label_names == ("year", "sex")
