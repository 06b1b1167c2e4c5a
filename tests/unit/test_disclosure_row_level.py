"""Row-level data (``row_level``, rules/statistics.py): a table of individual records fails, in
whatever form pandas wrote it, and an aggregate table that merely looks like one passes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.readers.table import Table, parse_csv
from agoria_tre.disclosure.readers.texttables import find_text_tables
from agoria_tre.disclosure.rules import statistics
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import (
    check,
    failed,
    notebook,
    rules,
    stays,
    stays_in_large_groups,
)

LIMITS = load_profile("fr").limits


def table(text: str) -> Table:
    parsed = parse_csv(text.encode(), LIMITS, name="t.csv")
    assert isinstance(parsed, Table)
    return parsed


def row_level(text: str) -> Status:
    return statistics.row_level(table(text))[0].status


def listing() -> pd.DataFrame:
    """20 synthetic patients sampled out of 300, each row one patient."""
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


# --- listings fail --------------------------------------------------------------------------


def test_row_level_listings_fail() -> None:
    listing = table("sex,age,weight\nF,54,61.2\nM,61,80.1\nF,47,58.0\n")
    assert [(r.rule, r.status) for r in statistics.row_level(listing)] == [
        ("row_level", Status.FAIL)
    ]
    assert "repeat another row's labels" in statistics.row_level(listing)[0].summary
    indicators = table("case,event\n" + "".join(f"c{i},{i % 2}\n" for i in range(25)))
    assert statistics.row_level(indicators)[0].status is Status.FAIL
    aggregate = table("sex,n\nF,54\nM,61\n")
    assert statistics.row_level(aggregate)[0].status is Status.PASS


def test_a_listing_with_a_sampled_pandas_index_fails_naming_the_index() -> None:
    text = (
        ",age,sex,weight_kg,sbp,commune\n130,94,M,71,158,Bron\n291,78,F,72,161,Villeurbanne\n"
        "77,66,F,58,142,Lyon\n"
    )
    item = check("sampled_listing.csv", text)
    assert rules(item)["row_level"].status is Status.FAIL
    assert "pandas index" in rules(item)["row_level"].summary
    assert item.status is Status.FAIL


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
        assert "row_level" in failed(item), name
    output = {
        "output_type": "execute_result",
        "execution_count": 1,
        "metadata": {},
        "data": {"text/html": sample.to_html(), "text/plain": str(sample)},
    }
    html = check("nb.ipynb", notebook(("df", output)))
    assert "row_level" in failed(html)
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


# --- listings printed as text ---------------------------------------------------------------


def test_a_listing_printed_as_text_is_row_level() -> None:
    text = (
        "     age sex   los  death\n3     48   M   5.4      0\n41    76   M  12.4      0\n"
        "50    72   F   6.7      0\n68    47   F  23.5      0\n99    35   M  28.3      0\n"
        "166   94   M  27.3      1\n"
    )
    assert "row_level" in failed(check("list.txt", text))


@pytest.mark.parametrize("reset", [False, True])
def test_a_listing_printed_by_pandas_is_row_level(reset: bool) -> None:
    rows = stays().loc[lambda d: d.diag == "J18", ["age", "sex", "los", "death"]]
    if reset:
        rows = rows.reset_index()
    (grid,) = find_text_tables(rows.to_string())
    assert grid[0][1:] == (["index"] if reset else []) + ["age", "sex", "los", "death"]
    assert "row_level" in failed(check("list.txt", rows.to_string()))


def test_a_printed_aggregate_with_a_text_column_is_not_row_level() -> None:
    df = stays_in_large_groups()
    g = df.groupby("region").agg(top_sex=("sex", "first"), n=("age", "size"))
    g["mean_age"] = df.groupby("region").age.mean().round(1)
    item = check("agg.txt", g.to_string())
    assert "row_level" not in failed(item)
    assert "threshold" not in failed(item)


# --- aggregate tables pass ------------------------------------------------------------------


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
