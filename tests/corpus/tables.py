"""The corpus's table analyses: what a researcher computes with plain pandas, each written
in every format a table leaves a workspace in.

Each analysis is a function of the cohort returning a pandas object, with the code a
researcher would have typed (shown in the notebook rendering). Sound analyses follow the
usual rules (small groups merged, counts of 11 and more); disclosive ones each hold one
known leak, described in ``leak`` by the rule family that should catch it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from scipy import stats

Frame = pd.DataFrame | pd.Series


@dataclass(frozen=True)
class Analysis:
    name: str
    code: str
    compute: Callable[[pd.DataFrame], Frame]
    leak: str | None = None  # the rule family that should catch it; None when sound
    why: str = ""


def _pct(counts: pd.Series) -> pd.DataFrame:
    total = counts.sum()
    return pd.DataFrame(
        {"n": counts, "pct": (100 * counts / total).round(1), "cum_n": counts.cumsum()}
    )


def _table_one(df: pd.DataFrame) -> pd.DataFrame:
    rows: list[tuple[str, dict[str, str]]] = []
    groups = {str(d): g for d, g in df.groupby("drug")}
    rows.append(("N", {d: str(len(g)) for d, g in groups.items()}))
    rows.append(
        (
            "Age, mean (SD)",
            {d: f"{g.age.mean():.1f} ({g.age.std():.1f})" for d, g in groups.items()},
        )
    )
    rows.append(("Sex, n (%)", dict.fromkeys(groups, "")))
    for sex in ("F", "M"):
        rows.append(
            (
                f"    {sex}",
                {
                    d: f"{(g.sex == sex).sum()} ({100 * (g.sex == sex).mean():.1f})"
                    for d, g in groups.items()
                },
            )
        )
    rows.append(("ECOG, n (%)", dict.fromkeys(groups, "")))
    for level in range(4):
        rows.append(
            (
                f"    {level}",
                {
                    d: f"{(g.ecog == level).sum()} ({100 * (g.ecog == level).mean():.1f})"
                    for d, g in groups.items()
                },
            )
        )
    rows.append(
        (
            "CRP (mg/L), median [IQR]",
            {
                d: f"{g.crp.median():.1f} [{g.crp.quantile(0.25):.1f}-{g.crp.quantile(0.75):.1f}]"
                for d, g in groups.items()
            },
        )
    )
    return pd.DataFrame(dict(rows)).T


def _tests(df: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    for variable in ("sex", "ecog", "stage", "drug"):
        table = pd.crosstab(df[variable], df.died)
        chi2, p, dof, _ = stats.chi2_contingency(table)
        rows[variable] = {"chi2": round(chi2, 3), "dof": dof, "p_value": round(p, 4)}
    rows["age"] = {
        "t": round(stats.ttest_ind(df.age[df.died], df.age[~df.died]).statistic, 3),
        "p_value": round(stats.ttest_ind(df.age[df.died], df.age[~df.died]).pvalue, 4),
    }
    return pd.DataFrame(rows).T


def _merged_departements(df: pd.DataFrame) -> pd.Series:
    sizes = df.departement.map(df.departement.value_counts())
    return df.departement.mask(sizes < 100, "autres").value_counts().sort_index()


def _recoverable(df: pd.DataFrame) -> pd.DataFrame:
    old = df[df.age >= 80]
    table = pd.crosstab(old.stage, old.ecog, margins=True, margins_name="Total")
    return table.astype(object).mask(table < 11, "<11")


def _cross_tables(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    old = df[df.age >= 80]
    table = pd.crosstab(old.stage, old.ecog)
    return table.astype(object).mask(
        table < 11, "<11"
    ), old.stage.value_counts().sort_index().to_frame()


SOUND: tuple[Analysis, ...] = (
    Analysis(
        "sex_by_drug", "pd.crosstab(df.sex, df.drug)", lambda df: pd.crosstab(df.sex, df.drug)
    ),
    Analysis(
        "ecog_counts",
        "df.ecog.value_counts().sort_index()",
        lambda df: df.ecog.value_counts().sort_index(),
    ),
    Analysis(
        "year_by_sex", "pd.crosstab(df.year, df.sex)", lambda df: pd.crosstab(df.year, df.sex)
    ),
    Analysis(
        "departements",
        "dep = df.departement.mask(sizes < 100, 'autres')\ndep.value_counts().sort_index()",
        _merged_departements,
    ),
    Analysis(
        "drug_quarter_long",
        "df.groupby(['drug', 'quarter']).size().reset_index(name='n')",
        lambda df: df.groupby(["drug", "quarter"]).size().reset_index(name="n"),
    ),
    Analysis(
        "death_rates",
        "g = df.groupby('drug')\n"
        "rates = pd.DataFrame({'deaths': g.died.sum(), 'person_years': g.time.sum() / 365.25})\n"
        "rates['rate_per_100py'] = 100 * rates.deaths / rates.person_years",
        lambda df: (
            df.groupby("drug")
            .agg(
                deaths=("died", "sum"), person_years=("time", lambda t: round(t.sum() / 365.25, 1))
            )
            .assign(rate_per_100py=lambda r: (100 * r.deaths / r.person_years).round(2))
        ),
    ),
    Analysis(
        "response_pct",
        "counts = df.response.value_counts().sort_index()\n"
        "pd.DataFrame({'n': counts, 'pct': 100 * counts / counts.sum(), 'cum_n': counts.cumsum()})",
        lambda df: _pct(df.response.value_counts().sort_index()),
    ),
    Analysis(
        "age_by_drug",
        "df.groupby('drug').age.agg(['count', 'mean', 'std', 'median'])",
        lambda df: df.groupby("drug").age.agg(["count", "mean", "std", "median"]).round(2),
    ),
    Analysis(
        "age_band_by_sex",
        "pd.crosstab(df.age_band, df.sex)",
        lambda df: pd.crosstab(df.age_band, df.sex),
    ),
    Analysis(
        "dose_by_response",
        "pd.crosstab(df.dose_level, df.response)",
        lambda df: pd.crosstab(df.dose_level, df.response),
    ),
    Analysis(
        "describe_no_extremes",
        "df[['age', 'crp']].describe().drop(['min', 'max'])",
        lambda df: df[["age", "crp"]].describe().drop(["min", "max"]).round(2),
    ),
    Analysis("table_one", "table_one(df, by='drug')", _table_one),
    Analysis("univariate_tests", "univariate_tests(df, outcome='died')", _tests),
    Analysis(
        "grade_groups",
        "pd.cut(df.grade_max, [-1, 0, 2, 5], labels=['0', '1-2', '3-5'])"
        ".value_counts().sort_index()",
        lambda df: (
            pd.cut(df.grade_max, [-1, 0, 2, 5], labels=["0", "1-2", "3-5"])
            .value_counts()
            .sort_index()
        ),
    ),
    Analysis(
        "stage_by_ecog",
        "pd.crosstab(df.stage, df.ecog, margins=True)",
        lambda df: pd.crosstab(df.stage, df.ecog, margins=True),
    ),
)

DISCLOSIVE: tuple[Analysis, ...] = (
    Analysis(
        "sex_by_departement",
        "pd.crosstab(df.departement, df.sex)",
        lambda df: pd.crosstab(df.departement, df.sex),
        "threshold",
        "département 48 holds 3 patients",
    ),
    Analysis(
        "grade_counts",
        "df.grade_max.value_counts().sort_index()",
        lambda df: df.grade_max.value_counts().sort_index(),
        "threshold",
        "grade 5 seen twice",
    ),
    Analysis(
        "departement_pct",
        "counts = df.departement.value_counts().sort_index()\n"
        "pd.DataFrame({'n': counts, 'pct': 100 * counts / counts.sum(), 'cum_n': counts.cumsum()})",
        lambda df: _pct(df.departement.value_counts().sort_index()),
        "threshold",
        "3 patients in département 48, beside a percentage column",
    ),
    Analysis(
        "drug_departement_long",
        "df.groupby(['departement', 'drug']).size().reset_index(name='n')",
        lambda df: df.groupby(["departement", "drug"]).size().reset_index(name="n"),
        "threshold",
        "long format: 48 x drug holds 1-2 patients",
    ),
    Analysis(
        "cost_mean_by_departement",
        "df.groupby('departement').cost.agg(['count', 'mean'])",
        lambda df: df.groupby("departement").cost.agg(["count", "mean"]).round(1),
        "threshold",
        "a mean over 3 patients, its count shown",
    ),
    Analysis(
        "cost_total_by_departement",
        "df.groupby('departement')[['cost']].sum()",
        lambda df: df.groupby("departement")[["cost"]].sum(),
        "magnitude",
        "whole-euro totals; one patient makes 48's total",
    ),
    Analysis(
        "listing_head",
        "df[['patient', 'age', 'sex', 'departement', 'start']].head(10)",
        lambda df: df[["patient", "age", "sex", "departement", "start"]].head(10),
        "listing",
        "row-level data with pseudonyms",
    ),
    Analysis(
        "describe_extremes",
        "df[['age', 'cost']].describe()",
        lambda df: df[["age", "cost"]].describe().round(2),
        "extremes",
        "min and max are single patients' values",
    ),
    Analysis(
        "recoverable_suppression",
        "t = pd.crosstab(old.stage, old.ecog, margins=True)\nt.mask(t < 11, '<11')",
        _recoverable,
        "suppression",
        "one hidden cell per row, margins shown",
    ),
    Analysis(
        "time_by_grade",
        "df.groupby('grade_max').time.agg(['count', 'median'])",
        lambda df: df.groupby("grade_max").time.agg(["count", "median"]),
        "threshold",
        "a median over 2 patients",
    ),
    Analysis(
        "grade_by_died",
        "pd.crosstab(df.grade_max, df.died)",
        lambda df: pd.crosstab(df.grade_max, df.died),
        "threshold",
        "grade 5: 2 patients, both in one column",
    ),
    Analysis(
        "age_band_by_departement",
        "pd.crosstab(df.departement, df.age_band)",
        lambda df: pd.crosstab(df.departement, df.age_band),
        "threshold",
        "small cells in 48 and beyond",
    ),
    Analysis(
        "departement_by_year",
        "df.pivot_table(index='departement', columns='year', values='patient', aggfunc='count')",
        lambda df: df.pivot_table(
            index="departement", columns="year", values="patient", aggfunc="count", fill_value=0
        ),
        "threshold",
        "48 in one year",
    ),
    Analysis(
        "death_rate_by_departement",
        "g = df.groupby('departement').died\n"
        "pd.DataFrame({'n': g.size(), 'deaths': g.sum(), 'pct_died': 100 * g.mean()})",
        lambda df: pd.DataFrame(
            {
                "n": df.groupby("departement").size(),
                "deaths": df.groupby("departement").died.sum(),
                "pct_died": (100 * df.groupby("departement").died.mean()).round(1),
            }
        ),
        "threshold",
        "deaths counted in small groups",
    ),
    Analysis(
        "ecog_by_grade_old",
        "pd.crosstab(old.grade_max, old.ecog)",
        lambda df: pd.crosstab(df[df.age >= 80].grade_max, df[df.age >= 80].ecog),
        "threshold",
        "small cells among patients aged 80 and over",
    ),
)


# --- renderings ---------------------------------------------------------------------------


def _frame(obj: Frame) -> pd.DataFrame:
    return obj.to_frame() if isinstance(obj, pd.Series) else obj


def _latex(obj: Frame) -> str:
    return _frame(obj).to_latex()


RENDERINGS: dict[str, Callable[[Frame], str]] = {
    "csv": lambda obj: obj.to_csv(),
    "tsv": lambda obj: obj.to_csv(sep="\t"),
    "txt": lambda obj: f"{obj}\n",
    "md": lambda obj: obj.to_markdown() + "\n",
    "html": lambda obj: _frame(obj).to_html() + "\n",
    "tex": _latex,
    "json": lambda obj: obj.to_json() + "\n",
}


def notebook(cells: list[dict[str, Any]]) -> bytes:
    document = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode()


def markdown_cell(text: str, number: int) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": f"md-{number}", "metadata": {}, "source": text}


def code_cell(source: str, outputs: list[dict[str, Any]], number: int) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": number,
        "id": f"code-{number}",
        "metadata": {},
        "outputs": outputs,
        "source": source,
    }


def shown(obj: Frame, number: int) -> dict[str, Any]:
    """What Jupyter stores for a pandas object as a cell's last expression."""
    data: dict[str, Any] = {"text/plain": repr(obj)}
    if isinstance(obj, pd.DataFrame):
        data["text/html"] = obj.to_html()
    return {
        "output_type": "execute_result",
        "execution_count": number,
        "data": data,
        "metadata": {},
    }


def printed(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


def table_notebook(analysis: Analysis, obj: Frame) -> bytes:
    setup = "import pandas as pd\ndf = pd.read_parquet('/data/cohort/v1/cohort.parquet')"
    return notebook(
        [
            markdown_cell(f"## {analysis.name.replace('_', ' ').capitalize()}", 1),
            code_cell(setup, [], 1),
            code_cell(analysis.code, [shown(obj, 2)], 2),
        ]
    )


def renderings(analysis: Analysis, cohort: pd.DataFrame) -> dict[str, bytes]:
    """``{suffix: bytes}`` for every format; numbers as pandas prints them."""
    obj = analysis.compute(cohort)
    if isinstance(obj, pd.DataFrame):
        obj = obj.apply(lambda c: c.round(2) if c.dtype.kind == "f" else c)
    out = {suffix: render(obj).encode() for suffix, render in RENDERINGS.items()}
    out["ipynb"] = table_notebook(analysis, obj)
    return out


def cross_tables(cohort: pd.DataFrame) -> dict[str, dict[str, bytes]]:
    """Two tables of one request: a suppressed table and the margins that undo it."""
    hidden, totals = _cross_tables(cohort)
    return {
        suffix: {
            f"stage_by_ecog_suppressed.{suffix}": RENDERINGS[suffix](hidden).encode(),
            f"stage_totals.{suffix}": RENDERINGS[suffix](totals).encode(),
        }
        for suffix in ("csv", "txt", "md", "html", "json")
    }
