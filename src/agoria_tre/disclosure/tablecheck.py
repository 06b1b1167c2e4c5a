"""Every rule on one table: laid out (:mod:`.layout`) without evidence, or with its evidence
sidecar's per-cell records."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from agoria_tre.disclosure import evidence as ev
from agoria_tre.disclosure.context import Context
from agoria_tre.disclosure.forms import variants
from agoria_tre.disclosure.layout import Measure, layout
from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.readers.table import Table
from agoria_tre.disclosure.report import RuleResult, flagged, passed
from agoria_tre.disclosure.rules import statistics, tables
from agoria_tre.disclosure.rules.identifier_tables import scan_table
from agoria_tre.disclosure.rules.identifiers import scan_text
from agoria_tre.disclosure.rules.measured import measured
from agoria_tre.disclosure.rules.secondary import secondary
from agoria_tre.disclosure.status import Status


def identifier_rules(found: list[RuleResult]) -> list[RuleResult]:
    return found or [passed("identifiers", "no direct identifier, full date or pseudonym found")]


_PHONE_HEADER = re.compile(
    r"(?<![a-z])(t[ée]l|t[ée]l[ée]phone|phone|portable|mobile|gsm)(?![a-z])", re.IGNORECASE
)


_PHONE_DIGITS = re.compile(r"(?:\+?33|0)?[1-9]\d{8}(?:\.0+)?")


def _phone_columns(table: Table) -> list[RuleResult]:
    """Phone numbers that a spreadsheet turned into numbers (leading zero lost) in a column
    named for them."""
    cells = [
        (i, j)
        for j, name in enumerate(table.header)
        if _PHONE_HEADER.search(name)
        for i, row in enumerate(table.cells)
        if _PHONE_DIGITS.fullmatch(row[j].replace(" ", ""))
    ]
    if not cells:
        return []
    return [
        flagged(
            "identifier.phone",
            Status.FAIL,
            f"{len(cells)} phone numbers in a column named for them (their leading zero lost)",
            cells,
        )
    ]


def check_table(
    table: Table, ctx: Context, *, where: str, evidence: ev.Evidence | None = None
) -> list[RuleResult]:
    """Every rule on one table. Without evidence, what each cell measures is decided once
    (:func:`~agoria_tre.disclosure.layout.layout`) and the rules read it; with evidence, its
    per-cell records decide."""
    policy = ctx.policy
    lay = layout(table) if evidence is None else None
    written = table  # as read: a listing's row index is evidence of records (row_level)
    if lay is not None:
        table = lay.table
    names = [
        *table.label_names,
        *table.header,
        *(label for row in table.row_labels for label in row),
    ]
    results: list[RuleResult] = []
    results += identifier_rules(
        scan_table(
            table.header,
            table.label_names,
            table.row_labels,
            table.cells,
            pseudonyms=ctx.pseudonyms,
        )
    )
    results += _phone_columns(table)
    variant = variants("\n".join(" ; ".join(row) for row in table.cells))
    if variant:  # identifiers printed as floats, spaced by tabs…: no cell positions, a verdict
        results += scan_text(variant, where=where, pseudonyms=ctx.pseudonyms)
    results += statistics.row_level(written)
    results += statistics.implied_counts(table, policy)
    results += statistics.cumulative_columns(table, policy)
    if evidence is not None:
        results += statistics.extremes_and_quantiles(
            [*table.header, *(row[0] for row in table.row_labels if row), evidence.statistic],
            where=where,
        )
    results += _label_counts(names, policy, where=where)
    unparsed = table.unparsed
    if lay is not None:  # "54.8 (19.9)" is a statistic's form, not an unreadable count
        unparsed = unparsed & ~lay.mask(
            Measure.STATISTIC, Measure.QUANTILE, Measure.MODEL, Measure.TEST
        )
    if unparsed.any():
        i, j = (int(x) for x in np.argwhere(unparsed)[0])
        results.append(
            flagged(
                "table.unparsed",
                Status.REVIEW,
                # Where, never what: the cell may hold an identifier (the identifiers rule
                # masks it; a quote here would print it).
                f"{int(unparsed.sum())} cells hold numbers the checker cannot read (the first"
                f" in data row {i + 1}, value column {j + 1}): check them by eye",
                [(int(a), int(b)) for a, b in np.argwhere(unparsed)],
            )
        )
    if evidence is not None and evidence.kind == "survival":
        if evidence.units is None or evidence.units.shape != table.shape:
            return [*results, inconsistent(where, "'units' does not match the table's shape")]
        survival = statistics.survival_columns(table, policy, units=evidence.units, asserted=True)
        if not survival:
            return [
                *results,
                inconsistent(
                    where, "a survival sidecar on a table without at-risk or events columns"
                ),
            ]
        return results + survival
    if evidence is not None and "normalised" in evidence.statistic:
        results.append(
            flagged(
                "evidence.statistic",
                Status.REVIEW,
                "proportions cannot be cross-checked against unit counts",
                asserted=True,
            )
        )
    if evidence is not None:
        return results + _from_evidence(table, evidence, policy, where=where)
    lay = lay or layout(table)  # laid out above: evidence is None
    # Kaplan-Meier columns get their own rule, on top of what every table gets.
    results += statistics.survival_columns(table, policy)
    if not (~np.isnan(table.values)).any() and not unparsed.any():
        if any(c.isdigit() for row in table.cells for c in "".join(row)):
            if not lay.mask(Measure.COUNT, Measure.MAGNITUDE).any():
                return [*results, *measured(lay, policy)]
            return [
                *results,
                flagged("table.values", Status.REVIEW, "numbers in a form the checker cannot read"),
            ]
        return [*results, passed("table.values", "no numbers: nothing to count")]
    results += measured(lay, policy)
    if lay.only_counts:
        if lay.assumed:
            results.append(
                passed(
                    "table.assumed_frequency",
                    "checked as a frequency table of units: assumed, no header names another"
                    " measure and no evidence was supplied",
                )
            )
        results += tables.zeros_and_class_disclosure(
            table.values,
            policy,
            margin_rows=table.margin_rows,
            margin_columns=table.margin_columns,
        )
        results += secondary(table, policy)
    return results


# pandas' cut/qcut bins, "(17.999, 43.0]" (a researcher's "[0, 30)" intervals are not these)
_INTERVAL = re.compile(r"^\s*\(\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]\s*$")


_FRACTION_LABEL = re.compile(r"^\s*(0?\.\d+|[01]\.\d*|0|1)\s*$")


def labels_as_statistics(table: Table, where: str) -> list[RuleResult]:
    """What labels show by their form: bins from ``pd.cut``/``pd.qcut`` (``(17.999, 43.0]``:
    the outer edges are the data's minimum and maximum) and a series indexed by quantile
    levels (``quantile([0, 1])``: 0.0 and 1.0 are the minimum and maximum)."""
    results: list[RuleResult] = []
    for labels in ([row[-1] for row in table.row_labels if row], list(table.header)):
        if sum(1 for label in labels if _INTERVAL.match(label)) >= 2:
            results.append(
                flagged(
                    "histogram.edges",
                    Status.REVIEW,
                    f"{where} has interval labels (pd.cut/qcut bins): unless the researcher"
                    " chose them, the outer edges are the data's minimum and maximum",
                )
            )
            break
    levels = [row[-1] for row in table.row_labels if row]
    decimals = any("." in cell for row in table.cells for cell in row)
    if len(levels) >= 2 and decimals and all(_FRACTION_LABEL.match(x) for x in levels):
        values = [float(x) for x in levels]
        if values == sorted(values) and len(set(values)) == len(values):
            if values[0] == 0.0 or values[-1] == 1.0:
                results.append(
                    flagged(
                        "statistic.extremes",
                        Status.FAIL,
                        f"{where} is indexed by quantile levels 0 or 1: the minimum or maximum"
                        " (a single individual's value)",
                    )
                )
            else:
                results.append(
                    flagged(
                        "statistic.quantiles",
                        Status.REVIEW,
                        f"{where} is indexed by quantile levels: quantiles can be one"
                        " individual's value",
                    )
                )
    return results


_LABEL_COUNT = re.compile(r"\b[nN]\s*=\s*(\d+)")


def _label_counts(names: Sequence[str], policy: Policy, *, where: str) -> list[RuleResult]:
    """Counts written into labels and headers ("Women (n=7)") face the threshold too."""
    small = sorted(
        {
            name
            for name in names
            for match in _LABEL_COUNT.finditer(name)
            if 0 < int(match.group(1)) < policy.threshold
        }
    )
    if not small:
        return []
    return [
        flagged(
            "threshold.labels",
            Status.FAIL,
            f"{where}: a label shows a count under {policy.threshold}: {small[0][:40]!r}",
        )
    ]


def plot_evidence(raw: bytes, policy: Policy, *, where: str) -> list[RuleResult]:
    """A plot's sidecar (a histogram's bins): the counts behind the picture face the rules."""
    try:
        evidence = ev.parse_evidence(raw)
    except ev.EvidenceError as exc:
        return [inconsistent(where, f"the sidecar is unusable: {exc}")]
    results: list[RuleResult] = []
    if evidence.units is not None:
        results.append(tables.threshold(evidence.units, policy, what="bin", asserted=True))
    if evidence.kind == "histogram" and evidence.histogram is not None:
        if evidence.histogram.get("bounded") is True:
            results.append(
                passed(
                    "histogram.edges", "the researcher bounded the outer bin edges", asserted=True
                )
            )
        else:
            results.append(
                flagged(
                    "histogram.edges",
                    Status.REVIEW,
                    "the outer bin edges are the data's extremes (minimum and maximum)",
                    asserted=True,
                )
            )
    return results


def inconsistent(where: str, problem: str) -> RuleResult:
    return flagged(
        "evidence.consistency",
        Status.FAIL,
        f"researcher-asserted evidence does not match {where}: {problem}",
        asserted=True,
    )


def model_evidence(
    text: str, evidence: ev.Evidence, policy: Policy, *, where: str
) -> list[RuleResult]:
    """A model's sidecar: its residual degrees of freedom, which the summary must agree with."""
    model = evidence.model or {}
    dof = model.get("df_resid")
    if not isinstance(dof, int | float) or isinstance(dof, bool):
        return [inconsistent(where, "the model evidence has no residual degrees of freedom")]
    printed = statistics.printed_dof(text)
    if printed is not None and printed != int(dof):
        return [
            inconsistent(
                where,
                f"the summary prints {printed} residual degrees of freedom,"
                f" the evidence {int(dof)}",
            )
        ]
    if dof < policy.min_dof:
        return [
            flagged(
                "model.dof",
                Status.FAIL,
                f"{where}: a model with {int(dof)} residual degrees of freedom, fewer than"
                f" {policy.min_dof}",
                asserted=True,
            )
        ]
    return [
        passed(
            "model.dof",
            f"{where}: {int(dof)} residual degrees of freedom, at least {policy.min_dof}",
            asserted=True,
        )
    ]


def _from_evidence(
    table: Table, evidence: ev.Evidence, policy: Policy, *, where: str
) -> list[RuleResult]:
    problems = ev.cross_check(evidence, table)
    if problems:
        return [
            flagged(
                "evidence.consistency",
                Status.FAIL,
                f"researcher-asserted evidence does not match {where}: {problems[0]}",
                asserted=True,
            )
        ]
    results: list[RuleResult] = []
    statistic = evidence.statistic.split(",")[0].strip()
    if evidence.kind == "magnitude" and statistic not in ev.CHECKED_STATISTICS:
        results.append(
            flagged(
                "evidence.statistic",
                Status.REVIEW,
                f"the evidence cannot confirm the {statistic!r} values shown:"
                " only counts, sums and means are cross-checked",
                asserted=True,
            )
        )
    # Hidden cells are not published: the secondary suppression rule covers them. An empty
    # cell with no units is no suppression, though: it shows a zero.
    hidden = table.suppressed
    if evidence.units is not None:
        hidden = hidden & ~(table.empty & (evidence.units == 0))
    units = None if evidence.units is None else np.where(hidden, np.nan, evidence.units)
    if units is not None:
        results.append(tables.threshold(units, policy, asserted=True))
        if evidence.kind == "frequency":
            results += tables.zeros_and_class_disclosure(
                units,
                policy,
                margin_rows=table.margin_rows,
                margin_columns=table.margin_columns,
                asserted=True,
            )
    if evidence.top is not None and evidence.top.shape[2] < policy.dominance_n:
        return [
            *results,
            inconsistent(
                where,
                f"the evidence lists {evidence.top.shape[2]}"
                " contributions per cell; the policy's dominance"
                f" rule needs {policy.dominance_n}",
            ),
        ]
    if evidence.kind == "magnitude" and evidence.totals is not None and evidence.top is not None:
        negative = (
            evidence.negative
            if evidence.negative is not None
            else np.zeros(table.shape, dtype=bool)
        )
        results.append(tables.negative_values(negative, policy, asserted=True))
        safe_total = np.where(negative | hidden, np.nan, evidence.totals)
        results.append(tables.dominance(safe_total, evidence.top, policy, asserted=True))
        results.append(tables.p_percent(safe_total, evidence.top, policy, asserted=True))
    if evidence.missing is not None:
        results.append(tables.missing_values(evidence.missing, policy, asserted=True))
    results += secondary(table, policy)
    if evidence.kind == "histogram" and evidence.histogram is not None:
        bounded = bool(evidence.histogram.get("bounded"))
        results.append(
            passed("histogram.edges", "the researcher bounded the outer bin edges", asserted=True)
            if bounded
            else flagged(
                "histogram.edges",
                Status.REVIEW,
                "the outer bin edges are the data's extremes (minimum and maximum)",
                asserted=True,
            )
        )
    return results
