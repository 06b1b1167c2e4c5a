"""Hidden cells of a table of counts, and what could recompute them.

A hidden cell (``*``, ``<11``, an empty cell among numbers) is safe only if the published
numbers leave it a range at least as wide as the threshold (:mod:`.suppression` solves the
linear programmes). The constraints come from the table's own margins (``All``, ``Total``)
and, across a request, from other tables that publish the same margins: a one-way table
whose labels are this table's rows (or its columns) gives their totals
(:func:`across`). ``<N`` markers must themselves hide at least the counts 1 to threshold-1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from agoria_tre.disclosure.layout import layout
from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.readers.table import Table, label_key
from agoria_tre.disclosure.report import RuleResult, flagged, passed, plural
from agoria_tre.disclosure.rules.suppression import check_secondary_suppression
from agoria_tre.disclosure.status import Status

MAX_HIDDEN_FOR_LP = 200  # two small linear programmes per hidden cell
RULE = "secondary_suppression"
FloatArray = NDArray[np.float64]


def _markers(table: Table, policy: Policy) -> list[RuleResult]:
    """A "<N" marker hides the counts 1 to N-1; with N under the threshold it hides too few
    ("<2" says the count is 1)."""
    upper = table.upper_bounds
    narrow = ~np.isnan(upper) & (upper < policy.threshold - 1)
    if not narrow.any():
        return []
    cells = [(int(i), int(j)) for i, j in np.argwhere(narrow)]
    return [
        flagged(
            "suppression.markers",
            Status.FAIL,
            f"{plural(len(cells), 'suppression marker')} hiding fewer values than the threshold"
            f" ({policy.threshold}): '<N' must cover every count from 1 to"
            f" {policy.threshold - 1}",
            cells,
        )
    ]


def _ranges(
    table: Table,
    policy: Policy,
    *,
    row_totals: FloatArray | None = None,
    col_totals: FloatArray | None = None,
    source: str = "the margins",
) -> RuleResult:
    """The rule on ``table``'s interior with its own margins, or with totals given from
    elsewhere (``source`` says where)."""
    rows, cols = list(table.margin_rows), list(table.margin_columns)
    keep_r = [i for i in range(table.shape[0]) if i not in rows]
    keep_c = [j for j in range(table.shape[1]) if j not in cols]
    values, upper, hidden = table.values, table.upper_bounds, table.suppressed
    interior = values[np.ix_(keep_r, keep_c)]
    interior_hidden = hidden[np.ix_(keep_r, keep_c)]
    unread = np.isnan(interior) & ~interior_hidden
    if unread.any():  # text the checker cannot read stands where a count should
        return flagged(
            RULE,
            Status.REVIEW,
            f"{plural(int(unread.sum()), 'cell')} beside the hidden ones cannot be read as"
            " numbers: whether a hidden cell can be recomputed is for a person to judge",
        )
    if int(interior_hidden.sum()) > MAX_HIDDEN_FOR_LP:
        return flagged(
            RULE,
            Status.REVIEW,
            f"{int(interior_hidden.sum())} hidden cells: more than the"
            f" {MAX_HIDDEN_FOR_LP} whose ranges are computed; check by eye",
        )
    if row_totals is None and cols:
        row_totals = values[keep_r, cols[-1]]
    if col_totals is None and rows:
        col_totals = values[rows[-1], keep_c]
    grand = float(values[rows[-1], cols[-1]]) if rows and cols else None
    bounds = np.zeros((*interior.shape, 2))
    bounds[:, :, 1] = np.inf
    below = upper[np.ix_(keep_r, keep_c)]
    marked = ~np.isnan(below)
    bounds[marked, 0] = np.minimum(1.0, below[marked])  # "<11" hides a count of 1 to 10
    bounds[marked, 1] = below[marked]
    result = check_secondary_suppression(
        interior,
        interior_hidden,
        row_totals=row_totals,
        col_totals=col_totals,
        grand_total=None if grand is None or np.isnan(grand) else grand,
        bounds=bounds,
        policy=policy,
    )
    summary = result.summary.replace("from the margins", f"from {source}").replace(
        "the margins do not add up", f"{source} do not add up"
    )
    cells = tuple((keep_r[i], keep_c[j]) for i, j in result.cells)
    return RuleResult(result.rule, result.status, summary, cells, result.asserted)


def secondary(table: Table, policy: Policy) -> list[RuleResult]:
    """The rule on one table, with its own margins."""
    if not table.suppressed.any():
        return []
    results = _markers(table, policy)
    if not table.margin_rows and not table.margin_columns:
        return [
            *results,
            passed(RULE, "suppressed cells, and no margins they could be recomputed from"),
        ]
    return [*results, _ranges(table, policy)]


def suppression_holds(table: Table, policy: Policy) -> bool:
    """Whether no hidden cell of ``table`` can be recomputed, by the same rule the check
    applies (for the researcher-side ``suppress=True``)."""
    return all(r.status is not Status.FAIL for r in secondary(table, policy))


def _key(labels: Sequence[str]) -> str:
    return " | ".join(map(label_key, labels))


def _one_way(table: Table) -> dict[str, float] | None:
    """A table of one column of counts (or one row), every count shown: label -> count."""
    values = table.values
    if table.suppressed.any() or np.isnan(values).any():
        return None
    if table.shape[1] == 1 and table.row_labels and table.row_labels[0]:
        return {
            _key(labels): float(v) for labels, v in zip(table.row_labels, values[:, 0], strict=True)
        }
    if table.shape[0] == 1:
        return {_key([name]): float(v) for name, v in zip(table.header, values[0], strict=True)}
    return None


def _totals(keys: list[str], counts: dict[str, float]) -> FloatArray | None:
    if not keys or any(k not in counts for k in keys):
        return None
    return np.array([counts[k] for k in keys])


def across(tables: Sequence[tuple[str, Table]], policy: Policy) -> list[RuleResult | None]:
    """For each table with hidden cells and no margins of its own, the rule with the totals
    another table of the request publishes for its rows or its columns (a failing or
    reviewed result naming that table), or None."""
    # Only a table with hidden cells, or one narrow enough to be a one-way table once its
    # numeric labels are moved, needs its layout.
    laid = [
        layout(table)
        if table.suppressed.any() or min(table.shape) == 1 or table.shape[1] == 2
        else None
        for _, table in tables
    ]
    one_way = [_one_way(lay.table) if lay and lay.only_counts else None for lay in laid]
    out: list[RuleResult | None] = []
    for k, lay in enumerate(laid):
        if lay is None:
            out.append(None)
            continue
        table = lay.table
        own = table.margin_rows or table.margin_columns
        if not lay.only_counts or own or not table.suppressed.any():
            out.append(None)
            continue
        rows = [_key(labels) for labels in table.row_labels]
        columns = [_key([name]) for name in table.header]
        found: RuleResult | None = None
        for other, counts in enumerate(one_way):
            if other == k or counts is None:
                continue
            row_totals, col_totals = _totals(rows, counts), _totals(columns, counts)
            if row_totals is None and col_totals is None:
                continue
            result = _ranges(
                table,
                policy,
                row_totals=row_totals,
                col_totals=col_totals,
                source=f"the totals in {tables[other][0]}",
            )
            if result.status is not Status.PASS and (found is None or result.status is Status.FAIL):
                found = result  # the worst: a table that recomputes a cell over one that
            if found is not None and found.status is Status.FAIL:  # does not add up
                break
        out.append(found)
    return out
