"""Rules about what a table or text *is*: extremes and quantiles, row-level data, survival
tables and model summaries."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from agoria_tre.disclosure.layout import EXTREME_WORDS, INDEX_NAMES, QUANTILE_WORDS
from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.readers.table import (
    STRONG_STATISTIC_WORDS,
    SUM_WORDS,
    Table,
    is_marker,
    number,
    statistic_tokens,
)
from agoria_tre.disclosure.report import RuleResult, flagged, passed
from agoria_tre.disclosure.rules.tables import threshold
from agoria_tre.disclosure.status import Status

_WORDS = re.compile(r"[a-zà-ÿ0-9]+")
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
# Header variants (statsmodels' "num at risk", survival's "n.risk", lifelines' "at_risk",
# "nombre à risque"...), matched on the header lower-cased with "_", "." and "-" as spaces.
_AT_RISK = re.compile(
    r"(?:^|\s)(?:at|à|a|au|aux)\s+(?:risk|risque)s?(?:$|\s)"
    r"|(?:^|\s)(?:n|nb|nbr|no|num|number|nombre|effectif|n°)\s+(?:risk|risque)(?:$|\s)"
    r"|(?:^|\s)(?:atrisk|nrisk|risk\s+set)(?:$|\s)|expos[ée]e?s?\s+au\s+risque"
)
_EVENTS = re.compile(
    r"^(?:(?:n|nb|nbr|no|num|number|nombre|count|total)(?:\s+(?:of|d|de|des))?\s+)?"
    r"(?:events?|nevents?|[ée]v[ée]nements?|[ée]v[èe]nements?)$"
)
# Words that are event counts beside a number at risk (lifelines' "observed", "deaths").
_WEAK_EVENTS = re.compile(
    r"^(?:(?:n|nb|nbr|no|num|number|nombre)(?:\s+(?:of|d|de|des))?\s+)?"
    r"(?:observed|deaths?|d[ée]c[èe]s|died|failures?|dead|morts?|d[ée]c[ée]d[ée]s)$"
)
_NOT_COUNT = re.compile(r"%|\b(?:pct|percent|percentage|prop|proportion|rate|taux|prob|se)\b")


def _header_key(name: str) -> str:
    return " ".join(re.sub(r"[_.\-/]+", " ", name.strip().lower()).split())


def _at_risk(name: str) -> bool:
    key = _header_key(name)
    return name.strip().lower() in AT_RISK_WORDS or (
        _AT_RISK.search(key) is not None and _NOT_COUNT.search(key) is None
    )


def _events(name: str, *, weak: bool) -> bool:
    key = _header_key(name)
    return (
        name.strip().lower() in EVENT_WORDS
        or _EVENTS.fullmatch(key) is not None
        or (weak and _WEAK_EVENTS.fullmatch(key) is not None)
    )


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


# Words that alone name an identifier column ("identifiant", "patient_uuid", "NIR"…).
ID_TOKENS = {
    "id",
    "ids",
    "identifiant",
    "identifiants",
    "identifier",
    "ident",
    "pseudonym",
    "pseudonyme",
    "nir",
    "ipp",
    "nip",
    "nda",
    "mrn",
    "uuid",
    "guid",
    "matricule",
    "ssn",
    "usubjid",
    "subjid",
}
# A person (or their file) and a word for a code or number: "num_dossier", "code_patient",
# "patient_ref", "subject_no", "numero_patient"; glued too: "patientid", "subjectno".
_PERSON = (
    r"patient|subject|subj|sujet|person|personne|individu|participant|pat|dossier|record"
    r"|client|beneficiaire|bénéficiaire|assure|assuré|enfant|child|mother|mere|mère"
)
_CODE = (
    r"id|ident|identifiant|identifier|num|no|nr|numero|numéro|number|code|ref|reference"
    r"|référence|key|cle|clé"
)
_GLUED_ID = re.compile(rf"(?:{_PERSON})(?:{_CODE})|(?:{_CODE})(?:{_PERSON})")
_PERSON_WORDS = set(_PERSON.split("|"))
_CODE_WORDS = set(_CODE.split("|"))
# Attributes measured on a person: as columns of a table whose rows are not groups, each row
# is one person.
MEASURE_WORDS = {
    "age",
    "âge",
    "ages",
    "weight",
    "poids",
    "height",
    "bmi",
    "imc",
    "sbp",
    "dbp",
    "pas",
    "pad",
    "systolic",
    "systolique",
    "diastolic",
    "diastolique",
    "pulse",
    "creatinine",
    "créatinine",
    "creat",
    "hba1c",
    "glycemia",
    "glycémie",
    "glycemie",
    "cholesterol",
    "cholestérol",
    "ldl",
    "hdl",
    "temperature",
    "température",
    "income",
    "revenu",
    "salary",
    "salaire",
    "dob",
    "birth",
    "birthdate",
    "naissance",
    "ddn",
    "kg",
    "cm",
    "mmhg",
}
# ... unless they name a grouping of that attribute ("age_group", "tranche_age").
GROUPING_WORDS = {"group", "groupe", "groups", "class", "classe", "band", "tranche", "bin", "cat"}
# Columns of counts or statistics: the rows are groups, whatever the other columns say.
AGGREGATE_WORDS = (
    {
        "n",
        "nb",
        "nbr",
        "count",
        "counts",
        "effectif",
        "effectifs",
        "nombre",
        "freq",
        "frequency",
        "fréquence",
        "frequence",
        "size",
        "total",
        "totals",
        "pct",
        "percent",
        "percentage",
        "pourcentage",
        "proportion",
        "prop",
        "rate",
        "taux",
        "ratio",
        "share",
        "part",
        "min",
        "max",
        "q1",
        "q3",
        "iqr",
        "coef",
        "se",
    }
    | STRONG_STATISTIC_WORDS
    | SUM_WORDS
)


def _identifying(name: str) -> bool:
    words = statistic_tokens(name) | _words(name)
    compact = re.sub(r"[^a-zà-ÿ0-9]", "", name.lower())
    return (
        name.strip().lower() in IDENTIFIER_WORDS
        or bool(words & ID_TOKENS)
        or _GLUED_ID.fullmatch(compact) is not None
        or (
            bool(words & _PERSON_WORDS)
            and bool(words & _CODE_WORDS)
            and not words & {"of", "de", "des", "du", "d", "per", "par"}
        )
    )


@lru_cache(maxsize=65536)
def _kind(text: str) -> str:
    """'number', 'hidden' (empty or a marker) or 'text'."""
    if number(text) is not None:
        return "number"
    if text == "" or is_marker(text):
        return "hidden"
    return "text"


def _fractional(cells: list[str]) -> bool:
    """Whether a column of numbers holds a value that is not whole (a mean, not a count)."""
    return any((v := number(c)) is not None and v != int(v) for c in cells)


def _row_numbers(name: str, cells: list[str]) -> list[int] | None:
    """A pandas index written out: an unnamed column of distinct whole numbers >= 0."""
    if name.strip().lower() not in INDEX_NAMES:
        return None
    values = [number(c) for c in cells]
    if any(v is None or v < 0 or v != int(v) for v in values):
        return None
    ints = [int(v) for v in values if v is not None]
    return ints if len(set(ints)) == len(ints) else None


def _records(table: Table) -> str | None:
    """Why the rows look like individual records, or None.

    - an unnamed index of row numbers that is not 0..n-1 (a sample or a filter of a larger
      frame) over person measures (age, weight…), or over text values that repeat, or over
      several measures without any text;
    - no label column (or only a 0..n-1 index), no count or statistic column, and two or
      more columns of person measures, unless a text column or a leading sorted column of
      distinct values keys the rows as groups.
    """
    rows = table.shape[0]
    if rows < 2 or (table.header and all(number(h) is not None for h in table.header)):
        return None
    columns = [
        (name, [labels[k] for labels in table.row_labels])
        for k, name in enumerate(table.label_names)
    ] + [(name, [row[j] for row in table.cells]) for j, name in enumerate(table.header)]
    indexes: list[list[int]] = []
    while len(columns) - len(indexes) > 2:  # up to two leading index columns (to_json)
        found = _row_numbers(*columns[len(indexes)])
        if found is None:
            break
        indexes.append(found)
    rest = columns[len(indexes) :]
    text_labels = len(table.label_names) > len(indexes)  # leading text columns: the groups
    kinds = [[_kind(c) for c in cells] for _, cells in rest]
    text = [k for k, col in enumerate(kinds) if col.count("text") * 2 >= len(col) > 0]
    numeric = [
        k for k, col in enumerate(kinds) if k not in text and col.count("number") * 2 >= len(col)
    ]
    words = [statistic_tokens(name) | _words(name) for name, _ in rest]
    aggregate = any(w & AGGREGATE_WORDS for w in words) or any("%" in n for n, _ in rest)
    if aggregate:
        return None
    measures = [
        rest[k][0] for k in numeric if words[k] & MEASURE_WORDS and not words[k] & GROUPING_WORDS
    ]
    keys = [tuple(rest[k][1][i].strip().lower() for k in text) for i in range(rows)]
    repeated = bool(text) and len(set(keys)) < rows
    sampled = [
        ints
        for ints in indexes
        if set(ints) != set(range(rows)) and set(ints) != set(range(1, rows + 1))
    ]
    if sampled and not text_labels:
        ints = sampled[0]
        unsorted = any(b < a for a, b in pairwise(ints))
        if not unsorted and all(_fractional(rest[k][1]) for k in numeric if rest[k][0] in measures):
            measures = []  # sorted keys over means (groupby on an unnamed array): groups
        if measures or repeated or (not text and len(numeric) >= 2 and unsorted):
            what = (
                f"columns of person measures ({', '.join(measures[:3])})"
                if measures
                else "text values that repeat"
                if repeated
                else f"{len(numeric)} columns of measures"
            )
            return (
                f"an unnamed column of row numbers taken from a larger frame (a pandas index)"
                f" over {what}"
            )
    if indexes and not text_labels and measures and repeated:  # df[['age', 'sex']].head(20)
        return (
            f"a column of row numbers (a pandas index) over person measures"
            f" ({', '.join(measures[:3])}) and text values that repeat"
        )
    if text_labels or len(measures) < 2 or (text and not repeated):
        return None
    first = [number(c) for c in rest[0][1]]
    first_is_key = (0 in numeric and rest[0][0] not in measures) or (
        all(v is not None for v in first)
        and all(a < b for a, b in pairwise(v for v in first if v is not None))
    )
    if first_is_key:  # a leading non-measure, or distinct sorted values: groupby's keys
        return None
    return (
        f"{len(measures)} columns of person measures ({', '.join(measures[:3])}) in rows"
        " that are not groups (no label column" + (", text values repeat)" if text else ")")
    )


def row_level(table: Table) -> list[RuleResult]:
    """Tables of individual records: an identifier-like column, rows that repeat their
    labels, rows of 0/1 indicators, or rows that look like one person each."""
    names = [*table.label_names, *table.header]
    identifying = [n for n in names if _identifying(n)]
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
    why = _records(table)
    if why is not None:
        return [flagged("row_level", Status.FAIL, f"looks like row-level data: {why}")]
    return [passed("row_level", "aggregated: no identifying column, no record-like rows")]


def _pairs(table: Table) -> list[tuple[int, int]]:
    """(sum column, mean column) pairs of the same variable: ``sum``/``mean``,
    ``cost_sum``/``cost_mean``, ``somme``/``moyenne``."""
    sums: dict[frozenset[str], int] = {}
    means: dict[frozenset[str], int] = {}
    totals = SUM_WORDS | {"total", "totals", "totaux"}
    for j, name in enumerate(table.header):
        words = statistic_tokens(name)
        rest = frozenset(words - totals - STRONG_STATISTIC_WORDS - {"of", "de", "du", "des"})
        if words & totals and j not in table.margin_columns:
            sums.setdefault(rest, j)
        elif words & {"mean", "moyenne", "moyen", "average", "avg", "moy"}:
            means.setdefault(rest, j)
    pairs = [(sums[key], means[key]) for key in sums if key in means]
    if not pairs and len(sums) == 1 and len(means) == 1:
        pairs = [(next(iter(sums.values())), next(iter(means.values())))]
    return pairs


def implied_counts(table: Table, policy: Policy) -> list[RuleResult]:
    """A sum beside a mean of the same cells publishes their count (sum / mean): it faces
    the threshold; sum == mean says the cell is one unit."""
    pairs = _pairs(table)
    if not pairs:
        return []
    values = table.values
    implied = np.full(table.shape, np.nan)
    for s, m in pairs:
        total, mean = values[:, s], values[:, m]
        with np.errstate(divide="ignore", invalid="ignore"):
            n = np.where((mean != 0) & ~np.isnan(mean) & ~np.isnan(total), total / mean, np.nan)
        whole = ~np.isnan(n) & (np.abs(n - np.round(n)) <= 0.05)
        implied[whole, s] = np.round(n[whole])
    result = threshold(implied, policy)
    if result.status is Status.PASS:
        return [
            passed(
                "statistic.implied_count",
                f"sum ÷ mean gives at least {policy.threshold} units in every row",
            )
        ]
    ones = [(i, j) for i, j in result.cells if implied[i, j] == 1]
    detail = f", {len(ones)} with sum = mean: one unit's own value" if ones else ""
    return [
        flagged(
            "statistic.implied_count",
            Status.FAIL,
            f"sum ÷ mean publishes the count of {len(result.cells)} cells: fewer than"
            f" {policy.threshold} units{detail}",
            list(result.cells),
        )
    ]


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
    whole = [
        bool(np.all(col[~np.isnan(col)] == np.round(col[~np.isnan(col)]))) for col in table.values.T
    ]
    at_risk = [whole[j] and _at_risk(name) for j, name in enumerate(table.header)]
    results = []
    for j, name in enumerate(table.header):
        column = counts[:, j : j + 1].copy()
        if at_risk[j]:
            what = "step's number at risk"
        elif whole[j] and _events(name, weak=any(at_risk)):
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


# Running totals: "cumulative_patients", "cumul", "cumsum", "n_cum", "running total",
# "total à date"; their successive differences are the counts of each step.
_CUMULATIVE = re.compile(
    r"(?:^|\s)(?:cum|cums|cumsum|cumfreq|cumn|cumul\w*|cumulative\w*|cumulated)(?:$|\s)"
    r"|running\s+(?:total|sum|count)|total\s+(?:à|a)\s+date|(?:^|\s)ytd(?:$|\s)"
    r"|year\s+to\s+date|depuis\s+le\s+d[ée]but"
)
# Cumulated magnitudes and proportions: their differences are not counts of units.
_NOT_UNITS = re.compile(
    r"%|\b(?:pct|percent|percentage|prop|proportion|rate|taux|prob|probability|incidence"
    r"|hazard|risk|risque|survival|survie|cost|costs|co[uû]t|co[uû]ts|montant|amount|euros?"
    r"|eur|dose|doses|days?|jours?|los|dms|time|temps|duration|dur[ée]e|hours?|heures?"
    r"|weight|poids|volume|mean|moyenne|avg|average|median|std|sd)\b"
)


def cumulative_columns(table: Table, policy: Policy) -> list[RuleResult]:
    """A running total (``groupby().size().cumsum()``) publishes each step's count as the
    difference of successive cells: those differences face the threshold."""
    results: list[RuleResult] = []
    margins = set(table.margin_rows)
    rows = [i for i in range(table.shape[0]) if i not in margins]
    for j, name in enumerate(table.header):
        key = _header_key(name)
        if _CUMULATIVE.search(key) is None or _NOT_UNITS.search(key) is not None:
            continue
        column = table.values[rows, j]
        shown = [(i, float(v)) for i, v in zip(rows, column, strict=True) if not np.isnan(v)]
        values = [v for _, v in shown]
        if len(shown) < 2 or any(v < 0 or v != round(v) for v in values):
            continue
        if any(b < a for a, b in pairwise(values)):
            continue  # not a running total
        steps = np.full(table.shape, np.nan)
        for (_, a), (i, b) in pairwise(shown):
            if b > a:
                steps[i, j] = b - a
        result = threshold(steps, policy, what="step of a running total")
        if result.status is not Status.FAIL:
            continue
        where = []
        for i, _ in result.cells[:3]:
            label = " / ".join(x for x in table.row_labels[i] if x) if table.label_names else ""
            if not label and j > 0:
                label = f"{table.header[0] or 'row'} {table.cells[i][0]}"
            where.append(f"{label or f'row {i + 1}'}: +{int(steps[i, j])}")
        results.append(
            flagged(
                "threshold",
                Status.FAIL,
                f"cumulative column {name!r}: successive differences reveal counts under"
                f" {policy.threshold} ({'; '.join(where)})",
                list(result.cells),
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
