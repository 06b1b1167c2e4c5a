"""A text: its identifiers, model summaries and prose hints, and the tables printed in it,
each checked as a table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from agoria_tre.disclosure.context import Context, content_hash
from agoria_tre.disclosure.forms import ANSI, decoded_forms, variants
from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.prose import prose_rule, without_long_lines
from agoria_tre.disclosure.readers.html import (
    HtmlPage,
    HtmlTable,
    MalformedHtml,
    grid_of,
    read_html,
)
from agoria_tre.disclosure.readers.models import ModelSummary, find_models, outside
from agoria_tre.disclosure.readers.table import Table, table_from_grid
from agoria_tre.disclosure.readers.texttables import find_text_tables
from agoria_tre.disclosure.report import ItemReport, RuleResult, flagged
from agoria_tre.disclosure.rules import statistics, tables
from agoria_tre.disclosure.rules.identifiers import scan_text
from agoria_tre.disclosure.status import Status
from agoria_tre.disclosure.tablecheck import check_table, identifier_rules, labels_as_statistics

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


def check_text(
    text: str, ctx: Context, *, where: str, prose: str | None = None
) -> list[RuleResult]:
    """Identifiers and model summaries in a text, as written and as a browser renders it;
    numbers in the prose outside the model summaries. ``prose``: the text that is prose,
    when not all of ``text`` is (a JSON document's strings, not its syntax)."""
    scanned = text + "\n" + decoded_forms(text) + "\n" + variants(text)
    results = identifier_rules(scan_text(scanned, where=where, pseudonyms=ctx.pseudonyms))
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
    results.append(prose_rule(text if prose is None else prose, ctx.policy, where=where))
    results += _quantile_series(without_long_lines(text), where=where)
    return results


@dataclass(frozen=True)
class FoundTable:
    """A table found inside an item: its grid (header row first), or None when merged or
    ragged cells keep it from being read cell by cell."""

    grid: list[list[str]] | None
    label_columns: int = 1
    too_large: str = ""  # why it was not read to its end


def html_page(
    html: str, ctx: Context, *, where: str, read_before: int = 0
) -> HtmlPage | RuleResult:
    """An HTML page or a notebook's HTML output read as a browser reads it, or why it is
    refused: it runs or fetches something, or was not read to its end. ``read_before``: cells
    of the tables read before it in the same notebook."""
    limits = ctx.policy.limits
    try:
        page = read_html(
            html,
            max_cells=limits.max_html_cells,
            max_rows=limits.max_rows,
            read_before=read_before,
        )
    except MalformedHtml as exc:
        return flagged("file.unreadable", Status.FAIL, f"{where}: {exc}: not released")
    if page.active:
        summary = (
            f"type not allowed: {where} holds active or fetched content ({page.active});"
            " export the table as CSV or as plain HTML (df.to_html())"
        )
        return flagged("file.type", Status.FAIL, summary)
    return page


def html_checked(
    page: HtmlPage,
    html: str,
    ctx: Context,
    *,
    where: str,
    also: str = "",
    collect: list[tuple[ItemReport, Table]] | None = None,
) -> tuple[list[RuleResult], list[ItemReport]]:
    """The rules and children of a page read from ``html``: its tables checked as tables,
    what it shows outside them and its comments as prose, attribute values and style sheets
    for identifiers. ``also``: text released with it (the plain-text companion of a notebook
    output), checked as text with it."""
    # A page whose tables are no grid is checked as the text it holds, markup and all.
    whole = html if page.unread else f"{page.text}\n{page.markup}"
    rules = check_text(f"{whole}\n{also}", ctx, where=where, prose=f"{page.text}\n{also}")
    if page.unread:
        return rules, [unrepaired(where, page.unread)]
    found = found_html_tables(page.tables)
    return rules, tables_checked(found, ctx, where=where, collect=collect)


def html_tables(html: str, ctx: Context) -> list[FoundTable] | str:
    """The tables of an HTML fragment, or why they cannot be read."""
    try:
        page = read_html(
            html, max_cells=ctx.policy.limits.max_html_cells, max_rows=ctx.policy.limits.max_rows
        )
    except MalformedHtml as exc:
        return str(exc)
    return page.unread or found_html_tables(page.tables)


def found_html_tables(tables: list[HtmlTable]) -> list[FoundTable]:
    return [
        FoundTable(
            None if t.merged_body_cells else grid_of(t),
            label_columns=t.label_columns,
            too_large=t.too_large,
        )
        for t in tables
    ]


def text_tables(
    text: str, ctx: Context, *, where: str, collect: list[tuple[ItemReport, Table]] | None = None
) -> list[ItemReport]:
    """Tables printed in a text (Markdown, ``print(df)``, HTML), each checked as a table;
    where a limit stopped the search, an item for review says what was not read."""
    cut: list[str] = []
    text = text.replace("\r\n", "\n")
    text = outside(text, find_models(text))  # a model summary is not a table of counts
    found = [FoundTable(grid) for grid in find_text_tables(ANSI.sub("", text), cut)]
    unread = [_unread(where, cut)] if cut else []
    html: list[FoundTable] | str = html_tables(text, ctx) if _HTML_TABLE.search(text) else []
    if isinstance(html, str):
        return [
            *tables_checked(found, ctx, where=where, collect=collect),
            unrepaired(where, html),
            *unread,
        ]
    return [*tables_checked(found + html, ctx, where=where, collect=collect), *unread]


def _unread(where: str, cut: list[str]) -> ItemReport:
    """What a limit kept the checker from reading: never passed, shown to a reviewer."""
    return ItemReport(
        f"{where} / unread",
        "text",
        [flagged("file.limits", Status.REVIEW, f"{where}: {'; '.join(cut)}: read the rest")],
    )


def unrepaired(where: str, why: str) -> ItemReport:
    return ItemReport(
        f"{where} / HTML",
        "table",
        [
            flagged(
                "table.structure",
                Status.REVIEW,
                f"{where}: the HTML's tables cannot be checked cell by cell ({why})",
            )
        ],
    )


_HTML_TABLE = re.compile(r"<table", re.IGNORECASE)


MAX_TABLES_PER_ITEM = 200


MAX_TABLES_PER_NOTEBOOK = 2_000


def _limit(label: str, summary: str) -> ItemReport:
    return ItemReport(label, "table", [flagged("file.limits", Status.FAIL, summary)])


def tables_checked(
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
        if one.too_large:
            summary = f"{label} has {one.too_large}: a table this large is released as CSV"
            checked.append(_limit(label, summary))
            continue
        if one.grid and sum(len(row) for row in one.grid) > max_cells:
            checked.append(_limit(label, f"{label} has more than {max_cells:,} cells"))
            continue
        if one.grid and len(one.grid) - 1 > max_rows:  # the header row, then the data
            checked.append(_limit(label, f"{label} has more than {max_rows:,} rows"))
            continue
        if one.grid is None or len({len(row) for row in one.grid}) > 1:  # merged or ragged
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
            [*check_table(table, ctx, where=label), *labels_as_statistics(table, label)],
            sha256=content_hash(table.canonical_csv()),
        )
        checked.append(child)
        if collect is not None:
            collect.append((child, table))
    return checked


def json_prose(value: object, tables: set[int]) -> Iterator[str]:
    """A JSON document as prose reads it: each string, and each key beside its scalar value
    as a labelled line ("n_patients: 7"); not its brackets and quotes, and not the values
    read as tables (``tables``: their ``id()``), whose numbers are cells."""
    stack = [value]
    while stack:
        item = stack.pop()
        if id(item) in tables:
            continue
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(inner, dict | list):
                    yield str(key)
                    stack.append(inner)
                else:
                    yield f"{key}: {inner}"
        elif isinstance(item, list):
            stack.extend(item)


def json_strings(value: object, tables: set[int]) -> Iterator[str]:
    """Every string of a JSON document, decoded (``\\u0040`` is an ``@``), keys included,
    but those of the values read as tables (``tables``: their ``id()``), whose cells the
    table rules read."""
    stack = [value]
    while stack:
        item = stack.pop()
        if id(item) in tables:
            continue
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
