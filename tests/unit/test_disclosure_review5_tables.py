"""Review 5 (tables): running totals, grouped statistics in MultiIndex and printed layouts,
``to_json(orient="index")``, survival headers of statsmodels and lifelines, and record
listings printed as text (findings 6 to 8)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from agoria_tre.disclosure.readers.printouts import find_json_tables
from agoria_tre.disclosure.readers.table import Table, parse_csv
from agoria_tre.disclosure.readers.texttables import find_text_tables
from agoria_tre.disclosure.report import ItemReport, walk
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import FR, check, found


def failed(item: ItemReport) -> set[str]:
    return {rule for rule, status in found(item).items() if status is Status.FAIL}


def summaries(item: ItemReport) -> str:
    return "\n".join(r.summary for node in walk([item]) for r in node.rules)


def frame() -> pd.DataFrame:
    """300 stays in four regions; Corse has 3 (2 women, 1 man)."""
    rng = np.random.default_rng(7)
    regions = ["Bretagne"] * 123 + ["Corse"] * 3 + ["IDF"] * 68 + ["Normandie"] * 106
    sex = ["F", "M"] * 150
    sex[123:126] = ["F", "F", "M"]
    return pd.DataFrame(
        {
            "region": regions,
            "sex": sex,
            "age": rng.integers(18, 95, 300),
            "los": rng.integers(2, 300, 300) / 10,
            "cost": rng.integers(500, 20000, 300).astype(float),
            "death": (rng.random(300) < 0.1).astype(int),
            "diag": rng.choice(["I21", "I63", "J18"], 300, p=[0.5, 0.44, 0.06]),
        }
    )


def large() -> pd.DataFrame:
    """The same layout, every group of 40 or more."""
    df = frame()
    df["region"] = np.repeat(["Bretagne", "Corse", "IDF"], 100)
    df["sex"] = ["F", "M"] * 150
    return df


# --- finding 6: running totals ----------------------------------------------------------------

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
    df = frame()
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


# --- finding 7a: MultiIndex CSV headers -------------------------------------------------------


def test_multiindex_csv_header_is_read_as_joined_names() -> None:
    g = frame().groupby("region")[["age", "los"]].agg(["count", "mean", "max"])
    table = parse_csv(g.to_csv().encode(), FR.policy.limits, name="g.csv")
    assert isinstance(table, Table)
    assert table.label_names == ("region",)
    assert table.header[:3] == ("age / count", "age / mean", "age / max")
    item = check("g.csv", g.to_csv())
    assert {"threshold", "statistic.extremes"} <= failed(item)
    assert any("header rows" in note for note in item.notes)


def test_multiindex_csv_reproducer() -> None:
    text = (
        ",age,age,age\n,count,mean,max\nregion,,,\nBretagne,123,56.3,94\nCorse,3,51.3,91\n"
        "IDF,68,59.6,94\nNormandie,106,52.7,93\n"
    )
    assert {"threshold", "statistic.extremes"} <= failed(check("f7.csv", text))


@pytest.mark.parametrize(
    "make",
    [
        lambda df: df.groupby(["region", "sex"])[["age", "los"]].agg(["count", "mean"]),
        lambda df: pd.pivot_table(
            df, index="region", columns="sex", values="cost", aggfunc=["count", "mean"]
        ),
        lambda df: df.groupby("region")[["age", "los"]].agg(["count", "mean"]).reset_index(),
    ],
)
def test_multiindex_csv_layouts(make) -> None:  # type: ignore[no-untyped-def]
    assert "threshold" in failed(check("m.csv", make(frame()).to_csv()))
    guard = check("m.csv", make(large()).to_csv())
    assert not failed(guard)


def test_single_header_csv_with_a_text_first_row_is_unchanged() -> None:
    text = "group,a,b\nsection,,\nx,12,13\ny,14,15\n"
    table = parse_csv(text.encode(), FR.policy.limits, name="t.csv")
    assert isinstance(table, Table)
    assert table.header == ("a", "b")


# --- finding 7b: count columns of printed tables -----------------------------------------------

PRINTED = [
    lambda df: df.groupby(["region", "sex"])["cost"].agg(["count", "mean", "std"]),
    lambda df: df.groupby(["region", "sex"])["cost"].agg(["count", "mean", "std"]).round(1),
    lambda df: pd.pivot_table(
        df, index="region", columns="sex", values="cost", aggfunc=["count", "mean"]
    ),
    lambda df: pd.pivot_table(
        df, index="region", columns="sex", values="cost", aggfunc=["count", "mean"], margins=True
    ),
    lambda df: df.groupby("region")[["age", "los"]].agg(["count", "mean"]),
]


@pytest.mark.parametrize("make", PRINTED)
def test_printed_count_columns_face_the_threshold(make) -> None:  # type: ignore[no-untyped-def]
    text = make(frame()).to_string()
    assert "threshold" in failed(check("g.txt", text))
    guard = check("g.txt", make(large()).to_string())
    assert not failed(guard), summaries(guard)
    # the means rest on the counts beside them; the variable's unit is not printed
    assert found(guard).get("statistic.units") is Status.PASS


def test_printed_multiindex_header_and_rows() -> None:
    g = frame().groupby(["region", "sex"])["cost"].agg(["count", "mean", "std"])
    (grid,) = find_text_tables(g.to_string())
    assert grid[0] == ["region / sex", "count", "mean", "std"]
    assert [row[0] for row in grid[1:5]] == [
        "Bretagne / F",
        "Bretagne / M",
        "Corse / F",
        "Corse / M",
    ]
    p = pd.pivot_table(
        frame(), index="region", columns="sex", values="cost", aggfunc=["count", "mean"]
    )
    (grid,) = find_text_tables(p.to_string())
    assert grid[0] == ["", "count / F", "count / M", "mean / F", "mean / M"]


def test_printed_crosstab_with_large_counts_passes() -> None:
    df = large()
    text = pd.crosstab(df.region, df.sex).to_string()
    assert not failed(check("ct.txt", text))
    stay = pd.Series(np.where(df.los > 15, "long", "short"), name="stay")
    text = pd.crosstab([df.region, df.sex], stay).to_string()
    (grid,) = find_text_tables(text)
    assert grid[0] == ["region / sex", "long", "short"]
    assert grid[2][0] == "Bretagne / M"
    assert not failed(check("ct.txt", text))


def test_title_above_a_table_is_not_a_header_level() -> None:
    text = (
        "Table 1: admissions\n          n  mean_age\nregion\nBretagne  123  56.3\nIDF  68  59.6\n"
    )
    grids = find_text_tables(text)
    assert grids
    assert grids[0][0][1:] == ["n", "mean_age"]


# --- finding 7c: to_json(orient="index") ---------------------------------------------------------


@pytest.mark.parametrize("indent", [None, 2])
def test_json_orient_index_is_read_by_row(indent: int | None) -> None:
    g = (
        frame()
        .groupby("region")
        .agg(n=("age", "size"), mean_age=("age", "mean"), deaths=("death", "sum"))
    )
    text = g.to_json(orient="index", indent=indent)
    (grid,) = find_json_tables(json.loads(text))
    assert grid[0] == ["", "n", "mean_age", "deaths"]
    assert "threshold" in failed(check("g.json", text))
    # the default orient still reads the same way
    (grid,) = find_json_tables(json.loads(g.to_json()))
    assert grid[0] == ["", "n", "mean_age", "deaths"]


def test_dict_of_rows_printout() -> None:
    text = "{'Bretagne': {'n': 123, 'mean_age': 56.3}, 'Corse': {'n': 3, 'mean_age': 51.3}}"
    assert "threshold" in failed(check("d.txt", text))


def test_json_orient_index_with_large_counts_passes_the_threshold() -> None:
    g = large().groupby("region").agg(n=("age", "size"), mean_age=("age", "mean"))
    item = check("g.json", g.to_json(orient="index"))
    assert not failed(item)


def test_json_crosstab_by_column_is_unchanged() -> None:
    value = {"F": {"Bretagne": 57, "Corse": 2}, "M": {"Bretagne": 66, "Corse": 1}}
    (grid,) = find_json_tables(value)
    assert grid[0] == ["", "F", "M"]


# --- finding 8a: survival headers -----------------------------------------------------------------

SF_SUMMARY = (
    "      Surv prob  Surv prob SE  num at risk  num events\n"
    "Time                                                  \n"
    "7.0    0.990991      0.008968          111         1.0\n"
    "10.0   0.981729      0.012803          107         1.0\n"
    "18.0   0.949592      0.022056           90         2.0\n"
)


def test_statsmodels_survfunc_summary_fails() -> None:
    item = check("sf.txt", SF_SUMMARY)
    assert "survival.events" in failed(item)


@pytest.mark.parametrize(
    ("at_risk", "events"),
    [
        ("num at risk", "num events"),
        ("n.risk", "n.event"),
        ("n_risk", "n_events"),
        ("at_risk", "observed"),
        ("number at risk", "number of events"),
        ("nombre à risque", "décès"),
        ("Nb à risque", "Événements"),
        ("N at risk", "Events"),
    ],
)
def test_survival_header_variants(at_risk: str, events: str) -> None:
    small = f"time,{at_risk},{events}\n30,120,2\n60,100,0\n90,8,12\n"
    item = check("km.csv", small)
    assert {"survival.at_risk", "survival.events"} <= failed(item)
    big = f"time,{at_risk},{events}\n30,320,20\n60,300,0\n90,180,12\n"
    assert not failed(check("km.csv", big))


def test_statsmodels_survfunc_real_output() -> None:
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(4)
    t = rng.integers(1, 60, 120).astype(float)
    e = (rng.random(120) < 0.15).astype(int)
    summary = sm.SurvfuncRight(t, e).summary()
    assert "survival.events" in failed(check("sf.txt", summary.to_string()))
    assert "survival.events" in failed(check("sf.csv", summary.to_csv()))


def test_risk_estimates_and_plain_deaths_are_not_survival_counts() -> None:
    text = "group,risk ratio,% at risk,deaths\nA,0.5,3.2,5\nB,1.4,4.1,20\n"
    rules = found(check("rr.csv", text))
    assert "survival.at_risk" not in rules
    assert "survival.events" not in rules


# --- finding 8b: record listings printed as text ------------------------------------------------

LISTING = (
    "     age sex   los  death\n"
    "3     48   M   5.4      0\n"
    "41    76   M  12.4      0\n"
    "50    72   F   6.7      0\n"
    "68    47   F  23.5      0\n"
    "99    35   M  28.3      0\n"
    "166   94   M  27.3      1\n"
)


def test_text_listing_is_row_level() -> None:
    assert "row_level" in failed(check("list.txt", LISTING))


@pytest.mark.parametrize("reset", [False, True])
def test_pandas_listing_is_row_level(reset: bool) -> None:
    rows = frame().loc[lambda d: d.diag == "J18", ["age", "sex", "los", "death"]]
    if reset:
        rows = rows.reset_index()
    (grid,) = find_text_tables(rows.to_string())
    assert grid[0][1:] == (["index"] if reset else []) + ["age", "sex", "los", "death"]
    assert "row_level" in failed(check("list.txt", rows.to_string()))


def test_printed_aggregate_with_a_text_column_is_not_row_level() -> None:
    df = large()
    g = df.groupby("region").agg(top_sex=("sex", "first"), n=("age", "size"))
    g["mean_age"] = df.groupby("region").age.mean().round(1)
    item = check("agg.txt", g.to_string())
    assert "row_level" not in failed(item)
    assert "threshold" not in failed(item)
