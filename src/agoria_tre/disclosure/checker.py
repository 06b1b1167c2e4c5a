"""The checker: from untrusted files to one report.

Each file is sniffed (by content, not only its name), rewritten into its canonical form, and
only that form is checked; the report records the canonical form's SHA-256. Evidence
sidecars beside tables feed the check and are never items of their own.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np

from agoria_tre.disclosure import evidence as ev
from agoria_tre.disclosure import files
from agoria_tre.disclosure.layout import Measure, layout
from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.prose import prose_rule
from agoria_tre.disclosure.readers.acro import (
    BOOKKEEPING,
    AcroOutput,
    is_acro_folder,
    read_acro_folder,
)
from agoria_tre.disclosure.readers.code import prose as code_prose
from agoria_tre.disclosure.readers.html import MalformedHtml, grid_of, read_html_tables
from agoria_tre.disclosure.readers.image import canonical_image
from agoria_tre.disclosure.readers.models import ModelSummary, find_models, outside
from agoria_tre.disclosure.readers.notebook import Output, load_json, read_notebook
from agoria_tre.disclosure.readers.table import TABLE_SUFFIXES, Table, parse_csv, table_from_grid
from agoria_tre.disclosure.readers.texttables import find_json_tables, find_text_tables
from agoria_tre.disclosure.report import ItemReport, Report, RuleResult, flagged, passed, walk
from agoria_tre.disclosure.rules import statistics, tables
from agoria_tre.disclosure.rules.code import code_output_rules
from agoria_tre.disclosure.rules.differencing import check_all_differencing
from agoria_tre.disclosure.rules.identifiers import scan_table, scan_text
from agoria_tre.disclosure.rules.measured import measured
from agoria_tre.disclosure.rules.secondary import across, secondary
from agoria_tre.disclosure.status import Status

TEXT_SUFFIXES = (".txt", ".md", ".log", ".json", ".tex")
HTML_SUFFIXES = (".html", ".htm")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
NOTEBOOK_SUFFIXES = (".ipynb",)


@dataclass(frozen=True)
class Context:
    """What a check runs with: the policy, the project's pseudonyms, and the count tables
    already released (or in open requests) that new tables are compared with."""

    policy: Policy
    pseudonyms: frozenset[str] = frozenset()
    released: tuple[tuple[str, Table], ...] = ()
    # A whole check's time budget: files not reached when it runs out fail, named, never
    # pass unread (split the request, or raise it for a large one).
    budget_seconds: float = 600.0


@dataclass(frozen=True)
class Checked:
    """An item's report and the canonical bytes that were checked (None when refused).

    ``table`` is the parsed table when the item is a table of counts, for differencing.
    """

    report: ItemReport
    canonical: bytes | None
    table: Table | None = None
    inner_tables: tuple[tuple[ItemReport, Table], ...] = ()  # tables inside a notebook
    magnitude: tuple[Table, ev.Evidence] | None = None  # a magnitude table and its evidence


def _hash(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


def _identifier_rules(found: list[RuleResult]) -> list[RuleResult]:
    return found or [passed("identifiers", "no direct identifier, full date or pseudonym found")]


# --- tables ----------------------------------------------------------------------------


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
    if lay is not None:
        table = lay.table
    names = [
        *table.label_names,
        *table.header,
        *(label for row in table.row_labels for label in row),
    ]
    results: list[RuleResult] = []
    results += _identifier_rules(
        scan_table(
            table.header,
            table.label_names,
            table.row_labels,
            table.cells,
            pseudonyms=ctx.pseudonyms,
        )
    )
    results += _phone_columns(table)
    variant = _variants("\n".join(" ; ".join(row) for row in table.cells))
    if variant:  # identifiers printed as floats, spaced by tabs…: no cell positions, a verdict
        results += scan_text(variant, where=where, pseudonyms=ctx.pseudonyms)
    results += statistics.row_level(table)
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
            return [*results, _inconsistent(where, "'units' does not match the table's shape")]
        survival = statistics.survival_columns(table, policy, units=evidence.units, asserted=True)
        if not survival:
            return [
                *results,
                _inconsistent(
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


def _labels_as_statistics(table: Table, where: str) -> list[RuleResult]:
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


_LEVEL_LINE = re.compile(
    r"^[ \t]*([01](?:\.\d*)?|0?\.\d+)((?:[ \t]+-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)+)[ \t]*$", re.M
)


def _quantile_series(text: str, *, where: str) -> list[RuleResult]:
    """A printed series or frame indexed by quantile levels (``df.age.quantile([0, 1])``:
    ``0.0 18.0`` / ``1.0 98.0``): levels 0 and 1 are the minimum and the maximum."""
    runs: list[list[tuple[float, list[str]]]] = []
    last_end = -2
    for match in _LEVEL_LINE.finditer(text):
        line = (float(match.group(1)), match.group(2).split())
        if runs and text.count("\n", last_end, match.start()) == 1:
            runs[-1].append(line)
        else:
            runs.append([line])
        last_end = match.end()
    extreme = quantile = False
    for run in runs:
        levels = [level for level, _ in run]
        values = [v for _, row in run for v in row]
        if len(run) < 2 or levels != sorted(set(levels)) or not any("." in v for v in values):
            continue
        if all(0.0 <= float(v) <= 1.0 for v in values):
            continue  # proportions indexed by a 0/1 variable
        if levels[0] == 0.0 or levels[-1] == 1.0:
            extreme = True
        else:
            quantile = True
    results = []
    if extreme:
        results.append(
            flagged(
                "statistic.extremes",
                Status.FAIL,
                f"{where} shows values at quantile levels 0 or 1: the minimum or maximum"
                " (a single individual's value)",
            )
        )
    elif quantile:
        results.append(
            flagged(
                "statistic.quantiles",
                Status.REVIEW,
                f"{where} shows values at quantile levels: quantiles can be one individual's value",
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


def _plot_evidence(raw: bytes, policy: Policy, *, where: str) -> list[RuleResult]:
    """A plot's sidecar (a histogram's bins): the counts behind the picture face the rules."""
    try:
        evidence = ev.parse_evidence(raw)
    except ev.EvidenceError as exc:
        return [_inconsistent(where, f"the sidecar is unusable: {exc}")]
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


def _inconsistent(where: str, problem: str) -> RuleResult:
    return flagged(
        "evidence.consistency",
        Status.FAIL,
        f"researcher-asserted evidence does not match {where}: {problem}",
        asserted=True,
    )


def _model_evidence(
    text: str, evidence: ev.Evidence, policy: Policy, *, where: str
) -> list[RuleResult]:
    """A model's sidecar: its residual degrees of freedom, which the summary must agree with."""
    model = evidence.model or {}
    dof = model.get("df_resid")
    if not isinstance(dof, int | float) or isinstance(dof, bool):
        return [_inconsistent(where, "the model evidence has no residual degrees of freedom")]
    printed = statistics.printed_dof(text)
    if printed is not None and printed != int(dof):
        return [
            _inconsistent(
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
            _inconsistent(
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


# --- items -----------------------------------------------------------------------------


def _kind_of(name: str) -> str:
    """The kind a file claims by its name. Each reader then checks the content agrees:
    a PNG named ``.csv`` is refused as a table, not quietly accepted as an image."""
    lower = name.lower()
    if lower.endswith(IMAGE_SUFFIXES) or lower.endswith(".svg"):
        return "image"
    if lower.endswith(TABLE_SUFFIXES):
        return "table"
    if lower.endswith(NOTEBOOK_SUFFIXES):
        return "notebook"
    if lower.endswith(TEXT_SUFFIXES):
        return "text"
    if lower.endswith(HTML_SUFFIXES):
        return "html"
    return "other"


def _decode_text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return None


_TAG = re.compile(r"<[^>]*>")


def _decoded_forms(text: str) -> str:
    """What a reader sees of markup: HTML without tags and with entities decoded
    (``jean&#64;chu.fr``, ``jean<span></span>@chu.fr``)."""
    if "<" not in text and "&" not in text:
        return ""
    return html.unescape(_TAG.sub("", text))


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_FLOAT_ID = re.compile(r"\b(\d{13,15})\.0+\b")
_WIDE_GAPS = re.compile(r"(?<=\d)(?:[ \t]{2,}|\t|/)(?=\d)")


_FIELD_COMMA = re.compile(r"(?<=\d{9}),(?=\d)")
_SCIENTIFIC = re.compile(r"\b\d\.\d{12,}[eE]\+\d{2}\b")


def _expand(match: re.Match[str]) -> str:
    try:
        return str(int(Decimal(match.group())))
    except (InvalidOperation, ValueError, OverflowError):
        return match.group()


def _variants(text: str) -> str:
    """Other readings of the same text: without terminal colour codes, identifiers printed
    as floats (``185057800608491.0``, ``1.850578006084910000e+14``), digits spaced by tabs,
    double spaces or slashes."""
    variant = _ANSI.sub("", text)
    variant = _SCIENTIFIC.sub(_expand, variant)
    variant = _WIDE_GAPS.sub(" ", _FLOAT_ID.sub(r"\1", variant))
    variant = _FIELD_COMMA.sub(", ", variant)  # "185057800608491,3": a field, not a decimal
    return variant if variant != text else ""


# --- review 5: counts stated after a label, by a verb, or as "N of M" ------------------------


# --- review 5: the range of the data (its minimum and maximum) in prose ----------------------


# Degrees of freedom printed by tests and models other than statsmodels' summaries.
_TEST_DOF = re.compile(
    r"\b(?:df_denom|df_resid|df_resids|dfree|df)\s*[=:]\s*"
    r"(?:np\.(?:float|int)\d*\(|array\()?\s*(\d+(?:\.\d+)?)\b"
    r"|\bDf Residuals:\s*(\d+)\b"
    r"|\bDF Resid(?:uals|\.)?\s*:?\s*(\d+)\b",
)
_SUMMARY_COL_N = re.compile(r"^\s*(?:N|No\. observations|Observations)\s{2,}(\d+)\s*$", re.M)
_SUMMARY_COL = re.compile(r"R-squared|Standard errors in|Pseudo R-squ|^=+\s*$", re.M)


def _test_dof(text: str, policy: Policy, *, where: str) -> list[RuleResult]:
    """``<F test: F=…, df_denom=5>``, scipy's ``TtestResult(…, df=6.0)``, ``summary_col``'s
    ``N  8``: few degrees of freedom, or few observations, describe few individuals."""
    dofs = [float(next(g for g in m.groups() if g)) for m in _TEST_DOF.finditer(text)]
    small = [d for d in dofs if d < policy.min_dof]
    if _SUMMARY_COL.search(text):
        small += [
            float(n)
            for n in _SUMMARY_COL_N.findall(text)
            if int(n) < policy.threshold or int(n) <= policy.min_dof
        ]
    if not small:
        return []
    return [
        flagged(
            "model.dof",
            Status.FAIL,
            f"{where}: a test or model with {min(small):g} degrees of freedom or"
            f" observations, fewer than {policy.min_dof}",
        )
    ]


def _model_rules(summary: ModelSummary, policy: Policy, where: str) -> list[RuleResult]:
    """A printed model: its residual degrees of freedom (and, for a survival model, its
    events) face the policy."""
    name = f"{where}: the {summary.family} summary"
    results: list[RuleResult] = []
    if summary.df_resid is not None:
        ok = summary.df_resid >= policy.min_dof
        results.append(
            flagged(
                "model.dof",
                Status.PASS if ok else Status.FAIL,
                f"{name} has {summary.df_resid} residual degrees of freedom,"
                f" {'at least' if ok else 'fewer than'} {policy.min_dof}",
            )
        )
    elif summary.nobs is not None and summary.nobs <= policy.min_dof:
        results.append(
            flagged(
                "model.dof",
                Status.FAIL,
                f"{name} is fitted on {summary.nobs} observations, so fewer than"
                f" {policy.min_dof} residual degrees of freedom",
            )
        )
    else:
        results.append(
            flagged(
                "model.dof",
                Status.REVIEW,
                f"{name} prints no residual degrees of freedom"
                + (f" ({summary.nobs} observations)" if summary.nobs is not None else ""),
            )
        )
    if summary.events is not None:
        results.append(
            tables.threshold(
                np.array([[summary.events]], dtype=float), policy, what="count of events"
            )
        )
    return results


def check_text(text: str, ctx: Context, *, where: str) -> list[RuleResult]:
    """Identifiers and model summaries in a text, as written and as a browser renders it;
    numbers in the prose outside the model summaries."""
    scanned = text + "\n" + _decoded_forms(text) + "\n" + _variants(text)
    results = _identifier_rules(scan_text(scanned, where=where, pseudonyms=ctx.pseudonyms))
    text = text.replace("\r\n", "\n")
    summaries = find_models(text)
    if summaries:
        for summary in summaries:
            results += _model_rules(summary, ctx.policy, where)
        text = outside(text, summaries)
    models = statistics.model_summary(text, ctx.policy, where=where)
    results += models
    if not any(r.status is Status.FAIL for r in results if r.rule == "model.dof"):
        results += _test_dof(text, ctx.policy, where=where)
    results.append(prose_rule(text, ctx.policy, where=where))
    results += _quantile_series(text, where=where)
    return results


@dataclass(frozen=True)
class FoundTable:
    """A table found inside an item: its grid (header row first), or None when merged or
    ragged cells keep it from being read cell by cell."""

    grid: list[list[str]] | None
    label_columns: int = 1
    too_large: bool = False


def _html_tables(html: str, ctx: Context) -> list[FoundTable] | str:
    """The tables of an HTML fragment, or why they cannot be read."""
    try:
        found = read_html_tables(html, max_cells=ctx.policy.limits.max_cells)
    except MalformedHtml as exc:
        return str(exc)
    return [
        FoundTable(
            None if t.merged_body_cells else grid_of(t),
            label_columns=t.label_columns,
            too_large=t.too_large,
        )
        for t in found
    ]


def text_tables(
    text: str, ctx: Context, *, where: str, collect: list[tuple[ItemReport, Table]] | None = None
) -> list[ItemReport]:
    """Tables printed in a text (Markdown, ``print(df)``, HTML), each checked as a table;
    where a limit stopped the search, an item for review says what was not read."""
    cut: list[str] = []
    text = text.replace("\r\n", "\n")
    text = outside(text, find_models(text))  # a model summary is not a table of counts
    found = [FoundTable(grid) for grid in find_text_tables(_ANSI.sub("", text), cut)]
    unread = [_unread(where, cut)] if cut else []
    html: list[FoundTable] | str = _html_tables(text, ctx) if _HTML_TABLE.search(text) else []
    if isinstance(html, str):
        return [
            *_tables_checked(found, ctx, where=where, collect=collect),
            _unrepaired(where, html),
            *unread,
        ]
    return [*_tables_checked(found + html, ctx, where=where, collect=collect), *unread]


def _unread(where: str, cut: list[str]) -> ItemReport:
    """What a limit kept the checker from reading: never passed, shown to a reviewer."""
    return ItemReport(
        f"{where} / unread",
        "text",
        [flagged("file.limits", Status.REVIEW, f"{where}: {'; '.join(cut)}: read the rest")],
    )


def _unrepaired(where: str, why: str) -> ItemReport:
    return ItemReport(
        f"{where} / HTML",
        "table",
        [
            flagged(
                "table.structure",
                Status.REVIEW,
                f"{where}: HTML a browser would repair ({why}): its tables"
                " cannot be checked cell by cell",
            )
        ],
    )


_HTML_TABLE = re.compile(r"<table", re.IGNORECASE)
MAX_TABLES_PER_ITEM = 200
MAX_TABLES_PER_NOTEBOOK = 2_000
MAX_TABLES_COMPARED = 400  # differencing compares every pair


def _limit(label: str, summary: str) -> ItemReport:
    return ItemReport(label, "table", [flagged("file.limits", Status.FAIL, summary)])


def _tables_checked(
    found: list[FoundTable],
    ctx: Context,
    *,
    where: str,
    collect: list[tuple[ItemReport, Table]] | None = None,
) -> list[ItemReport]:
    """Check each table found in an item; ``collect`` gathers them for differencing and
    counts them against the notebook's cap."""
    if len(found) > MAX_TABLES_PER_ITEM:
        return [
            _limit(f"{where} / tables", f"{where} holds more than {MAX_TABLES_PER_ITEM} tables")
        ]
    if collect is not None and len(found) + len(collect) > MAX_TABLES_PER_NOTEBOOK:
        return [
            _limit(
                f"{where} / tables",
                f"the notebook holds more than {MAX_TABLES_PER_NOTEBOOK} tables",
            )
        ]
    max_cells, max_rows = ctx.policy.limits.max_cells, ctx.policy.limits.max_rows
    checked = []
    for number, one in enumerate(found, start=1):
        label = f"{where} / table {number}"
        if one.too_large or (one.grid and sum(len(row) for row in one.grid) > max_cells):
            checked.append(_limit(label, f"{label} has more than {max_cells:,} cells"))
            continue
        if one.grid and len(one.grid) - 1 > max_rows:  # the header row, then the data
            checked.append(_limit(label, f"{label} has more than {max_rows:,} rows"))
            continue
        if one.grid is None:
            checked.append(
                ItemReport(
                    label,
                    "table",
                    [
                        flagged(
                            "table.structure",
                            Status.REVIEW,
                            f"{label} has merged or ragged cells: it cannot be checked cell by"
                            " cell",
                        )
                    ],
                )
            )
            continue
        table = table_from_grid(one.grid, label_columns=one.label_columns)
        child = ItemReport(
            label,
            "table",
            [*check_table(table, ctx, where=label), *_labels_as_statistics(table, label)],
            sha256=_hash(table.canonical_csv()),
        )
        checked.append(child)
        if collect is not None:
            collect.append((child, table))
    return checked


def _json_strings(value: object) -> Iterator[str]:
    """Every string of a JSON document, decoded (``\\u0040`` is an ``@``), keys included."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _check_output(
    output: Output, ctx: Context, tables_found: list[tuple[ItemReport, Table]]
) -> ItemReport:
    where = output.where
    item = ItemReport(path=where, kind=output.mime)
    if output.mime.startswith("image/"):
        item.sha256 = _hash(output.image)
        item.rules.append(
            output.failure
            or flagged(
                "image.unchecked", Status.REVIEW, "a plot cannot be checked automatically: read it"
            )
        )
        if output.text:
            item.rules += check_text(output.text, ctx, where=where)
        return item
    text = output.text or ""
    item.sha256 = _hash(text.encode())
    item.rules += check_text(text, ctx, where=where)
    if output.mime == "application/json" and output.primary:
        try:
            parsed = json.loads(output.primary)
        except (ValueError, RecursionError):
            parsed = None
        found = [FoundTable(grid) for grid in find_json_tables(parsed)]
        item.children += _tables_checked(found, ctx, where=where, collect=tables_found)
    elif not output.html:
        item.children += text_tables(text, ctx, where=where, collect=tables_found)
    else:  # the plain-text companion kept beside HTML is released too: its tables count
        item.children += text_tables(output.plain, ctx, where=f"{where} (text/plain)")
        html = _html_tables(output.html, ctx)
        if isinstance(html, str):
            item.children.append(_unrepaired(where, html))
        else:
            item.children += _tables_checked(html, ctx, where=where, collect=tables_found)
    return item


def check_bytes(name: str, data: bytes, ctx: Context, *, evidence: bytes | None = None) -> Checked:
    """Check one file's content. Never raises on bad input: refusals are failing rules.

    Every reader validates what it reads; should one still trip on an input nobody foresaw,
    the item fails ("the checker could not read it") instead of the whole check crashing.
    """
    try:
        return _check_bytes(name, data, ctx, evidence=evidence)
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        AssertionError,
        ArithmeticError,
        RecursionError,
        UnicodeError,
        MemoryError,
    ) as exc:
        summary = f"the checker could not read this file ({type(exc).__name__}): not released"
        return Checked(
            ItemReport(name, _kind_of(name), [flagged("file.unreadable", Status.FAIL, summary)]),
            None,
        )


def _check_bytes(name: str, data: bytes, ctx: Context, *, evidence: bytes | None) -> Checked:
    kind = _kind_of(name)
    limits = ctx.policy.limits
    if len(data) > limits.max_bytes:
        return Checked(
            ItemReport(
                name,
                kind,
                [
                    flagged(
                        "file.limits",
                        Status.FAIL,
                        f"the file has {len(data):,} bytes, over the limit of {limits.max_bytes:,}",
                    )
                ],
            ),
            None,
        )
    if kind == "image":
        image = canonical_image(data, limits, name=name)
        item = ItemReport(
            name,
            "image",
            sha256=_hash(image.canonical),
            notes=[f"removed: {what}" for what in image.removed],
        )
        item.rules.append(
            image.failure
            or flagged(
                "image.unchecked", Status.REVIEW, "a plot cannot be checked automatically: read it"
            )
        )
        if evidence is not None and image.failure is None:
            item.rules += _plot_evidence(evidence, ctx.policy, where=name)
        return Checked(item, image.canonical)
    if kind == "table":
        parsed_evidence: ev.Evidence | None = None
        notes: list[str] = []
        if evidence is not None:
            try:
                parsed_evidence = ev.parse_evidence(evidence)
            except ev.EvidenceError as exc:
                rule = flagged(
                    "evidence.consistency",
                    Status.FAIL,
                    f"the evidence sidecar is unusable: {exc}",
                    asserted=True,
                )
                return Checked(ItemReport(name, "table", [rule]), None)
            notes.append("checked against the researcher's evidence sidecar")
        table = parse_csv(
            data,
            limits,
            name=name,
            label_columns=parsed_evidence.label_columns if parsed_evidence else None,
        )
        if isinstance(table, RuleResult):
            return Checked(ItemReport(name, "table", [table]), None)
        canonical = table.canonical_csv()
        rules = check_table(table, ctx, where=name, evidence=parsed_evidence)
        if parsed_evidence is None:  # a sidecar says what the labels are
            rules += _labels_as_statistics(table, name)
        counts = parsed_evidence is None or parsed_evidence.kind == "frequency"
        magnitude = parsed_evidence is not None and parsed_evidence.kind == "magnitude"
        return Checked(
            ItemReport(name, "table", rules, sha256=_hash(canonical), notes=[*table.notes, *notes]),
            canonical,
            table if counts else None,
            magnitude=(table, parsed_evidence) if magnitude and parsed_evidence else None,
        )
    if kind == "notebook":
        notebook = read_notebook(data, limits)
        if isinstance(notebook, RuleResult):
            return Checked(ItemReport(name, "notebook", [notebook]), None)
        item = ItemReport(
            name,
            "notebook",
            sha256=_hash(notebook.canonical),
            notes=[f"dropped: {d}" for d in notebook.dropped[:20]],
        )
        source_tables: list[ItemReport] = []
        for number, cell_type, source in notebook.sources:
            where = f"cell {number} ({cell_type})"
            scanned = source + "\n" + _decoded_forms(source) + "\n" + _variants(source)
            item.rules += scan_text(scanned, where=where, pseudonyms=ctx.pseudonyms)
            if cell_type != "code":  # a Markdown cell can hold a table as well as an output
                source_tables += text_tables(source, ctx, where=where)
                item.rules.append(prose_rule(source, ctx.policy, where=where))
            else:  # comments and strings are prose
                prose = code_prose(source)
                if prose:
                    item.rules.append(prose_rule(prose, ctx.policy, where=where))
        if not item.rules:
            item.rules.append(passed("identifiers", "no identifier in the cells' sources"))
        inner: list[tuple[ItemReport, Table]] = []
        item.children = [_check_output(output, ctx, inner) for output in notebook.outputs]
        code = {number: source for number, cell_type, source in notebook.sources}
        for output, child in zip(notebook.outputs, item.children, strict=True):
            if output.cell in code and not output.mime.startswith("image/"):
                child.rules += code_output_rules(
                    code[output.cell],
                    output.plain or output.text or "",
                    ctx.policy,
                    where=output.where,
                )
        item.children += source_tables
        return Checked(item, notebook.canonical, inner_tables=tuple(inner))
    if kind == "html":
        return _check_html(name, data, ctx)
    if kind == "text":
        decoded = ""
        if name.lower().endswith(".json"):
            value = load_json(data, limits, what="JSON document")
            if isinstance(value, RuleResult):
                return Checked(ItemReport(name, "text", [value]), None)
            decoded = "\n\n".join(_json_strings(value))  # a table in a string is a table
        text = _decode_text(data)
        if text is None:
            return Checked(
                ItemReport(
                    name,
                    "text",
                    [
                        flagged(
                            "file.type",
                            Status.FAIL,
                            "type not allowed: binary content in a text file",
                        )
                    ],
                ),
                None,
            )
        canonical = text.replace("\r\n", "\n").encode("utf-8")
        rules = check_text(text + ("\n" + decoded if decoded else ""), ctx, where=name)
        if evidence is not None:
            try:
                parsed = ev.parse_evidence(evidence)
            except ev.EvidenceError as exc:
                rules.append(_inconsistent(name, f"the sidecar is unusable: {exc}"))
            else:
                if parsed.kind == "model":
                    # The sidecar adds evidence; a failure the printed text shows stays,
                    # unless the sidecar's own verdict already fails.
                    from_evidence = _model_evidence(text, parsed, ctx.policy, where=name)
                    keep_text_failures = all(r.status is not Status.FAIL for r in from_evidence)
                    rules = [
                        r
                        for r in rules
                        if r.rule != "model.dof" or (keep_text_failures and r.status is Status.FAIL)
                    ]
                    rules += from_evidence
        item = ItemReport(name, "text", rules, sha256=_hash(canonical))
        in_text: list[tuple[ItemReport, Table]] = []
        if name.lower().endswith(".json"):  # its values once, and the tables in its strings
            found = [FoundTable(grid) for grid in find_json_tables(value)]
            item.children = _tables_checked(found, ctx, where=name, collect=in_text)
            if decoded:
                item.children += text_tables(decoded, ctx, where=name, collect=in_text)
        else:
            item.children = text_tables(text, ctx, where=name, collect=in_text)
        return Checked(item, canonical, inner_tables=tuple(in_text))
    return Checked(
        ItemReport(
            name,
            "other",
            [
                flagged(
                    "file.type",
                    Status.FAIL,
                    "type not allowed: only tables (CSV/TSV), notebooks, PNG/JPEG images and text"
                    " (txt, md, log, json) may leave",
                )
            ],
        ),
        None,
    )


# --- paths -----------------------------------------------------------------------------


# What a page may hold to be released as written: no script, no frame or embedded object,
# nothing fetched from elsewhere (an image, a style sheet, a font), no event handler.
_ACTIVE = re.compile(
    r"<\s*(?:script|iframe|frame|object|embed|link|meta|base|form|img|svg|math|video|audio"
    r"|source|track|picture|input|button)\b|\son[a-z]+\s*=|javascript:|\burl\s*\(|@import",
    re.IGNORECASE,
)
_TABLE_ELEMENT = re.compile(r"<table\b.*?</table\s*>", re.IGNORECASE | re.DOTALL)


def _check_html(name: str, data: bytes, ctx: Context) -> Checked:
    """An HTML page (``df.to_html()``, a Styler's ``to_html()``): released as written, so
    it may hold no active or fetched content; its tables are checked as tables and the rest
    of its text as text."""
    text = _decode_text(data)
    if text is None:
        return Checked(_refused(name, "html", "file.type", "binary content in an HTML file"), None)
    active = _ACTIVE.search(text)
    if active:
        return Checked(
            _refused(
                name,
                "html",
                "file.type",
                f"type not allowed: the page holds active or fetched content"
                f" ({_printable_tag(active.group())}); export the table as CSV or as plain"
                " HTML (df.to_html())",
            ),
            None,
        )
    canonical = text.replace("\r\n", "\n").encode("utf-8")
    item = ItemReport(name, "html", sha256=_hash(canonical))
    item.rules = check_text(_TABLE_ELEMENT.sub("\n", text), ctx, where=name)
    found = _html_tables(text, ctx)
    inner: list[tuple[ItemReport, Table]] = []
    if isinstance(found, str):
        item.children.append(_unrepaired(name, found))
    else:
        item.children += _tables_checked(found, ctx, where=name, collect=inner)
    return Checked(item, canonical, inner_tables=tuple(inner))


def _printable_tag(text: str) -> str:
    return " ".join(text.split())[:20]


def _refused(label: str, kind: str, rule: str, summary: str) -> ItemReport:
    return ItemReport(label, kind, [flagged(rule, Status.FAIL, summary)])


def _check_file(path: Path, label: str, ctx: Context) -> Checked:
    """One file, read once (``files.read_once``), with the evidence sidecar that shares its
    name; refused unread when it is a link, a special file or too big."""
    return _check_read(path, label, files.read_once(path, ctx.policy.limits.max_bytes), ctx)


def _check_read(path: Path, label: str, data: bytes | files.Refusal, ctx: Context) -> Checked:
    """A file's bytes, read once, checked with its evidence sidecar's."""
    if isinstance(data, files.Refusal):
        return Checked(_refused(label, _kind_of(path.name), data.rule, data.summary), None)
    sidecar = path.with_name(path.name[: -len(path.suffix)] + ev.SUFFIX) if path.suffix else None
    evidence = None
    if sidecar is not None and sidecar.exists():
        read = files.read_once(sidecar, ctx.policy.limits.max_bytes)
        evidence = read if isinstance(read, bytes) else None
    return check_bytes(label, data, ctx, evidence=evidence)


def _acro_items(folder: Path, label: str, ctx: Context, done: set[Path]) -> list[Checked]:
    """An ACRO output folder: each output's files, under ACRO's own records of its checks."""
    outputs = read_acro_folder(folder, ctx.policy.limits)
    if isinstance(outputs, RuleResult):
        return [Checked(ItemReport(f"{label}/results.json", "acro", [outputs]), None)]
    checked: list[Checked] = []
    for name in BOOKKEEPING:  # the folder's evidence: never items, never released
        entry = folder / name
        done.update(entry.rglob("*") if entry.is_dir() else [entry])
    for output in outputs:
        parent = ItemReport(f"{label}/{output.uid}", f"acro.{output.type}")
        parent.notes.append(f"ACRO: {output.status.value}: {output.summary}")
        if output.exception:
            parent.notes.append(f"exception requested: {output.exception}")
        parent.notes += list(output.comments)
        rules = list(output.checks)
        read: list[bytes | None] = []
        for path in output.files:
            data = files.read_once(path, ctx.policy.limits.max_bytes)
            read.append(data if isinstance(data, bytes) else None)
            child = _check_read(path, f"{label}/{path.relative_to(folder).as_posix()}", data, ctx)
            done.add(path)
            shape = child.table.shape if child.table is not None else None
            if shape is None or not output.cells_apply_to(shape):
                rules = [replace(r, cells=()) for r in rules]
            parent.children.append(child.report)
            checked.append(Checked(child.report, child.canonical, child.table))
        same = output.checksum_rule(read)  # the bytes checked are the bytes ACRO checked
        if same is not None:
            rules.append(same)
        parent.rules = rules
        _answered_by_acro(parent, output)
        checked.append(Checked(parent, None))
    return checked


# What ACRO's records answer, as an evidence sidecar does: a table's contributors (its
# threshold, dominance and p% checks) and a model's residual degrees of freedom.
_ACRO_ANSWERS = {
    "acro.threshold": ("statistic.units",),
    "acro.dominance": ("magnitude.evidence",),
    "acro.model.dof": ("magnitude.evidence", "model.units", "statistic.units"),
}


def _answered_by_acro(parent: ItemReport, output: AcroOutput) -> None:
    """Drop, from the output's files, the reviews that ACRO's own records answer; the
    parent says so in a note. A failing record of ACRO's stays on the parent."""
    answered = {rule for check in output.checks for rule in _ACRO_ANSWERS.get(check.rule, ())}
    if not answered:
        return
    for item in walk(parent.children):
        kept = [r for r in item.rules if not (r.rule in answered and r.status is Status.REVIEW)]
        if len(kept) != len(item.rules):
            item.notes.append(
                "answered by ACRO's records (researcher-asserted): " + ", ".join(sorted(answered))
            )
            item.rules = kept


def check_paths(paths: Sequence[Path], ctx: Context) -> Report:
    """Check files and folders (walked).

    An evidence sidecar feeds the check of the output that shares its name and is never an
    item: it is disclosive and never released (one without its output fails). A folder
    written by ACRO is read with ACRO's records of its checks. Tables of counts are then
    compared with each other and with ``ctx.released`` (differencing).
    """
    report = Report(ctx.policy)
    deadline = time.monotonic() + ctx.budget_seconds
    entries = files.walk(paths)
    for entry in entries:
        if entry.unlisted is not None:
            report.items.append(_refused(entry.label, "other", "file.unreadable", entry.unlisted))
    found = [(e.path, e.label) for e in entries if e.unlisted is None]
    stems = {
        (p.parent, p.name[: -len(p.suffix)] if p.suffix else p.name)
        for p, _ in found
        if not p.name.endswith(ev.SUFFIX)
    }
    labels = dict(found)
    done: set[Path] = set()
    tables: list[tuple[ItemReport, str, Table]] = []
    magnitudes: list[tuple[ItemReport, str, Table, ev.Evidence]] = []
    for folder in sorted({p.parent for p, _ in found if p.name == "results.json"}):
        if is_acro_folder(folder):
            label = labels[folder / "results.json"].rsplit("/", 1)[0]
            for checked in _acro_items(folder, label, ctx, done):
                if checked.table is not None:
                    tables.append((checked.report, checked.report.path, checked.table))
                if checked.report.kind.startswith("acro") or checked.report.path.endswith(
                    "results.json"
                ):
                    report.items.append(checked.report)
    for path, label in found:
        if path in done:
            continue
        if path.name.endswith(ev.SUFFIX):
            if (path.parent, path.name[: -len(ev.SUFFIX)]) not in stems:
                report.items.append(
                    _refused(
                        label,
                        "evidence",
                        "file.type",
                        "an evidence sidecar without its output (never released)",
                    )
                )
            continue
        if time.monotonic() > deadline:
            report.items.append(
                _refused(
                    label,
                    "other",
                    "file.limits",
                    f"not checked: the check's time budget of {ctx.budget_seconds:g} s ran out"
                    " before this file (split the request)",
                )
            )
            continue
        checked = _check_file(path, label, ctx)
        report.items.append(checked.report)
        if checked.table is not None:
            tables.append((checked.report, label, checked.table))
        for child, table in checked.inner_tables:
            tables.append((child, f"{label}: {child.path}", table))
        if checked.magnitude is not None:
            magnitudes.append((checked.report, label, *checked.magnitude))
    pool = [(name, table) for _, name, table in tables]
    compared = len(pool) + len(ctx.released)
    if compared > MAX_TABLES_COMPARED:
        differencing = [
            flagged(
                "differencing",
                Status.REVIEW,
                f"{compared} tables are more than the {MAX_TABLES_COMPARED}"
                " compared pairwise: look for differencing by eye",
            )
        ] * len(tables)
    else:
        differencing = check_all_differencing(pool, [*pool, *ctx.released], ctx.policy)
    for (item, _, _), result in zip(tables, differencing, strict=True):
        item.rules.append(result)
    for (item, _, _), hidden in zip(tables, across(pool, ctx.policy), strict=True):
        if hidden is not None:
            item.rules.append(hidden)
    for item, name, table, evidence in magnitudes:
        others = [(n, t, e) for _, n, t, e in magnitudes if n != name]
        item.rules.append(magnitude_differencing(table, evidence, name, others, ctx.policy))
    return report


def _cell_keys(table: Table) -> dict[tuple[tuple[str, ...], str], tuple[int, int]]:
    def norm(text: str) -> str:
        return " ".join(text.lower().split())

    return {
        (tuple(norm(label) for label in labels), norm(column)): (i, j)
        for i, labels in enumerate(table.row_labels)
        for j, column in enumerate(table.header)
    }


def magnitude_differencing(
    table: Table,
    evidence: ev.Evidence,
    name: str,
    others: Sequence[tuple[str, Table, ev.Evidence]],
    policy: Policy,
) -> RuleResult:
    """Two magnitude tables of the same cells: where their unit counts differ by 1 to
    threshold - 1 and their totals differ, subtracting them reveals the total of those few
    units. Cells are matched on labels; both sides' evidence gives the unit counts."""
    if evidence.units is None or evidence.totals is None:
        return passed("differencing", "no unit counts to compare")
    keys = _cell_keys(table)
    flagged_cells: list[tuple[int, int]] = []
    first = ""
    for other_name, other, other_evidence in others:
        if other_evidence.units is None or other_evidence.totals is None:
            continue
        for key, (i, j) in _cell_keys(other).items():
            mine = keys.get(key)
            if mine is None:
                continue
            a, b = mine
            units = abs(evidence.units[a, b] - other_evidence.units[i, j])
            totals = abs(evidence.totals[a, b] - other_evidence.totals[i, j])
            if 0 < units < policy.threshold and totals > 0:
                flagged_cells.append(mine)
                first = first or (
                    f"cell ({', '.join(key[0])}, {key[1]}) counts {int(units)} units fewer or"
                    f" more than in table {other_name!r}: subtracting the two reveals the total"
                    f" of fewer than {policy.threshold} units"
                )
    if not flagged_cells:
        return passed(
            "differencing",
            f"compared with {len(others)} magnitude tables: no"
            f" difference isolates fewer than {policy.threshold} units",
        )
    return flagged("differencing", Status.REVIEW, first, flagged_cells, asserted=True)
