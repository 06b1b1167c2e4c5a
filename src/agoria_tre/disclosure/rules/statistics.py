"""Rules about what a table or text *is*: extremes and quantiles, row-level data, survival
tables and model summaries."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.readers.table import Table
from agoria_tre.disclosure.report import RuleResult, flagged, passed
from agoria_tre.disclosure.rules.tables import threshold
from agoria_tre.disclosure.status import Status

_WORDS = re.compile(r"[a-zà-ÿ0-9]+")
EXTREME_WORDS = {"min", "max", "minimum", "maximum", "amin", "amax", "range", "étendue"}
QUANTILE_WORDS = {
    "median",
    "médiane",
    "mediane",
    "quantile",
    "quantiles",
    "percentile",
    "percentiles",
    "quartile",
    "quartiles",
    "q1",
    "q3",
    "p5",
    "p10",
    "p25",
    "p50",
    "p75",
    "p90",
    "p95",
    "iqr",
    "decile",
    "décile",
}
IDENTIFIER_WORDS = {
    "id",
    "patient",
    "patient_id",
    "pseudonym",
    "pseudonyme",
    "nir",
    "ipp",
    "nom",
    "prenom",
    "prénom",
    "name",
    "subject",
    "subject_id",
    "person",
    "person_id",
    "num_patient",
}
AT_RISK_WORDS = {
    "at risk",
    "at_risk",
    "n_risk",
    "n.risk",
    "number at risk",
    "n at risk",
    "à risque",
    "exposés au risque",
    "effectif à risque",
}
EVENT_WORDS = {"events", "n_event", "n.event", "n events", "événements", "evenements"}


def _words(text: str) -> set[str]:
    return set(_WORDS.findall(text.lower().replace("_", " ")))


def extremes_and_quantiles(names: Iterable[str], *, where: str) -> list[RuleResult]:
    """Minimum and maximum are single individuals' values; quantiles can be."""
    extreme: list[str] = []
    quantile: list[str] = []
    for name in names:
        words = _words(name) | {name.strip().lower()}
        if words & EXTREME_WORDS:
            extreme.append(name)
        elif words & QUANTILE_WORDS or re.search(r"\b(?:25|50|75)\s?%", name):
            quantile.append(name)
    results = []
    if extreme:
        results.append(
            flagged(
                "statistic.extremes",
                Status.FAIL,
                f"{where} shows a minimum or maximum (a single individual's"
                f" value): {', '.join(sorted(set(extreme))[:3])}",
            )
        )
    if quantile:
        results.append(
            flagged(
                "statistic.quantiles",
                Status.REVIEW,
                f"{where} shows medians or other quantiles, which can be one"
                f" individual's value: {', '.join(sorted(set(quantile))[:3])}",
            )
        )
    return results


def row_level(table: Table) -> list[RuleResult]:
    """Tables of individual records: an identifier-like column, or rows of 0/1 indicators."""
    names = [*table.label_names, *table.header]
    identifying = [
        n
        for n in names
        if n.strip().lower() in IDENTIFIER_WORDS
        or _words(n) & {"id", "pseudonym", "pseudonyme", "nir", "ipp"}
    ]
    if identifying:
        return [
            flagged(
                "row_level",
                Status.FAIL,
                f"looks like row-level data: column {identifying[0]!r} identifies individuals",
            )
        ]
    values = table.values[~np.isnan(table.values)]
    rows = table.shape[0]
    if table.label_names and len(set(table.row_labels)) < rows:
        repeated = rows - len(set(table.row_labels))
        return [
            flagged(
                "row_level",
                Status.FAIL,
                f"looks like row-level data: {repeated} rows repeat another row's labels, as"
                " a listing of individual records does",
            )
        ]
    if rows >= 20 and values.size and np.isin(values, (0.0, 1.0)).all():
        return [
            flagged(
                "row_level",
                Status.FAIL,
                f"looks like row-level data: {rows} rows holding only 0 and 1",
            )
        ]
    return [passed("row_level", "aggregated: no identifying column, no record-like rows")]


def survival_columns(
    table: Table,
    policy: Policy,
    *,
    units: NDArray[np.float64] | None = None,
    asserted: bool = False,
) -> list[RuleResult]:
    """Kaplan-Meier tables: the threshold applies to the numbers at risk and the events
    at each step (a zero event count is a step without events, not a small group).

    ``units`` (from an evidence sidecar) are distinct units per cell; the smaller of what
    the table shows and what the evidence counts is checked.
    """
    counts = table.values if units is None else np.fmin(table.values, units)
    results = []
    for j, name in enumerate(table.header):
        key = name.strip().lower()
        column = counts[:, j : j + 1].copy()
        if key in AT_RISK_WORDS:
            what = "step's number at risk"
        elif key in EVENT_WORDS:
            what = "step's event count"
            column[column == 0] = np.nan
        else:
            continue
        result = threshold(column, policy, what=what)
        cells = tuple((i, j) for i, _ in result.cells)
        results.append(
            RuleResult(
                f"survival.{('at_risk' if 'risk' in what else 'events')}",
                result.status,
                result.summary,
                cells,
                asserted,
            )
        )
    return results


_NOBS = re.compile(r"No\.\s+Observations:\s+(\d+)")
_DF_RESID = re.compile(r"Df Residuals:\s+(\d+)")
_MODEL = re.compile(
    r"(OLS|WLS|GLS|Logit|Probit|GLM|Generalized Linear Model|MNLogit|Poisson|QuantReg)"
    r"\s+Regression Results|Dep\. Variable:|Dependent Variable:|Results: [A-Z]"
    r"|Mixed Linear Model Regression Results|No\. Observations:"
)


def printed_dof(text: str) -> int | None:
    """The residual degrees of freedom a model summary prints, if exactly one."""
    found = {int(v) for v in _DF_RESID.findall(text)}
    return found.pop() if len(found) == 1 else None


def model_summary(text: str, policy: Policy, *, where: str) -> list[RuleResult]:
    """statsmodels summaries (OLS, Logit, Probit, GLM...): residual degrees of freedom."""
    if not _MODEL.search(text):
        return []
    results: list[RuleResult] = []
    small = [int(n) for n in _NOBS.findall(text) if int(n) <= policy.min_dof]
    if small and not _DF_RESID.search(text):  # mixed models print no residual dof
        results.append(
            flagged(
                "model.dof",
                Status.FAIL,
                f"{where}: a model fitted on {min(small)} observations, so fewer"
                f" than {policy.min_dof} residual degrees of freedom",
            )
        )
    for dof_text in _DF_RESID.findall(text) or [None]:
        if dof_text is None:
            nobs = _NOBS.search(text)
            results.append(
                flagged(
                    "model.dof",
                    Status.REVIEW,
                    f"{where} is a model summary without residual degrees of"
                    f" freedom{' (No. Observations ' + nobs.group(1) + ')' if nobs else ''}",
                )
            )
            continue
        dof = int(dof_text)
        if dof < policy.min_dof:
            results.append(
                flagged(
                    "model.dof",
                    Status.FAIL,
                    f"{where}: a model with {dof} residual degrees of freedom,"
                    f" fewer than {policy.min_dof}",
                )
            )
        else:
            results.append(
                passed(
                    "model.dof",
                    f"{where}: {dof} residual degrees of freedom, at least {policy.min_dof}",
                )
            )
    return results
