"""Hidden cells of a table of counts, and what could recompute them.

A hidden cell (``*``, ``<11``, an empty cell among numbers) is safe only if the published
numbers leave it a range at least as wide as the threshold (:mod:`.suppression` solves the
linear programmes). The constraints come from the table's own margins (``All``, ``Total``)
and, across a request and the tables already released, from what other tables publish about
it (:func:`across`): a one-way table whose labels are this table's rows (or its columns)
gives their totals, a two-way table's margins give the totals of the lines it shares, and a
grid that counts the same thing (an equal shown cell says so) may show a cell hidden here.
``<N`` markers must themselves hide at least the counts 1 to threshold-1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    given: _Given | None = None,
) -> RuleResult:
    """The rule on ``table``'s interior with its own margins and what other tables give."""
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
    row_totals = values[keep_r, cols[-1]] if cols else None
    col_totals = values[rows[-1], keep_c] if rows else None
    grand = float(values[rows[-1], cols[-1]]) if rows and cols else None
    source = "the margins"
    revealed: dict[tuple[int, int], tuple[float, str]] = {}
    if given is not None:
        row_totals = _merged(row_totals, given.row_totals)
        col_totals = _merged(col_totals, given.col_totals)
        revealed = given.revealed
        interior = interior.copy()
        interior_hidden = interior_hidden.copy()
        for (i, j), (value, _) in revealed.items():
            interior[i, j], interior_hidden[i, j] = value, False
        source = f"{'the margins and ' if rows or cols else ''}{_names(given.sources)}"
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
    if revealed:  # hidden here, shown there: no programme needed to recompute them
        (i, j), (value, where) = next(iter(revealed.items()))
        shown = (
            f"hidden cell (row {keep_r[i] + 1}, column {keep_c[j] + 1}) is shown in {where}:"
            f" {value:g}"
        )
        if len(revealed) > 1:
            shown += f"; {plural(len(revealed) - 1, 'more hidden cell')} shown elsewhere"
        both = sorted({*revealed, *result.cells})
        summary = shown if result.status is Status.PASS else f"{shown}; {summary}"
        return RuleResult(
            RULE, Status.FAIL, summary, tuple((keep_r[i], keep_c[j]) for i, j in both)
        )
    cells = tuple((keep_r[i], keep_c[j]) for i, j in result.cells)
    return RuleResult(result.rule, result.status, summary, cells, result.asserted)


def _merged(own: FloatArray | None, given: FloatArray) -> FloatArray | None:
    """A table's own totals, completed by the ones other tables give (NaN: unknown)."""
    merged = given if own is None else np.where(np.isnan(own), given, own)
    return None if np.isnan(merged).all() else merged


def _names(sources: Sequence[str]) -> str:
    names = [f"the totals in {sources[0]}"] + [f"{n}" for n in sources[1:]]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


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


@dataclass(frozen=True)
class Published:
    """What a table of counts publishes that another table's hidden cells could be recomputed
    from: each labelled line's count or total (a one-way table's counts, a two-way table's
    margins) and each shown cell of its interior, keyed by its row and column labels (and by
    its column and row labels: a grid may be printed either way round)."""

    name: str
    lines: Mapping[str, float]
    cells: Mapping[tuple[str, str], float]
    flipped: Mapping[tuple[str, str], float]
    labels: frozenset[str]


def published(name: str, table: Table) -> Published | None:
    """``table``'s published counts (its layout decided), or None when it holds no counts."""
    lay = layout(table)
    if not lay.only_counts:
        return None
    table = lay.table
    values, hidden = table.values, table.suppressed
    shown = ~hidden & ~np.isnan(values)
    rows, cols = set(table.margin_rows), set(table.margin_columns)
    row_keys = [_key(labels) if any(labels) else "" for labels in table.row_labels]
    col_keys = [_key([name]) for name in table.header]
    lines: dict[str, float] = {}
    cells: dict[tuple[str, str], float] = {}
    if table.shape[0] == 1 and not row_keys[0]:  # one row of counts under column labels
        lines = {k: float(v) for k, v, ok in zip(col_keys, values[0], shown[0], strict=True) if ok}
    for i, row in enumerate(row_keys):
        for j, column in enumerate(col_keys):
            if not shown[i, j] or not row:
                continue
            if table.shape[1] == 1 and i not in rows:  # one column: each row's count,
                lines[row] = float(values[i, j])  # and a column of a grid
                cells[row, column] = float(values[i, j])
            elif j in cols and i not in rows:
                lines[row] = float(values[i, j])
            elif i in rows and j not in cols:
                lines[column] = float(values[i, j])
            elif i not in rows and j not in cols:
                cells[row, column] = float(values[i, j])
    if not lines and not cells:
        return None
    flipped = {(c, r): v for (r, c), v in cells.items()}
    return Published(name, lines, cells, flipped, frozenset([*lines, *row_keys, *col_keys]))


@dataclass
class _Given:
    """What other tables give about one table's interior: line totals (NaN: not given) and
    the values of hidden cells they show, each with the tables it came from."""

    row_totals: FloatArray
    col_totals: FloatArray
    revealed: dict[tuple[int, int], tuple[float, str]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


def _agrees(mine: Mapping[Any, float], theirs: Mapping[Any, float]) -> bool | None:
    """Whether two tables count the same thing where both publish a count: True when at
    least one count is shared and every shared one is equal, False on any difference, None
    when nothing is shared."""
    shared = [k for k in mine if k in theirs]
    if not shared:
        return None
    return all(abs(mine[k] - theirs[k]) <= 1e-9 * max(1.0, abs(mine[k])) for k in shared)


def _given(table: Table, own: Published, others: Sequence[Published]) -> _Given | None:
    """Totals and hidden cells of ``table`` that ``others`` publish and its own margins do
    not. A table is used only if it counts the same thing: where it shares a total with
    ``table`` (a margin, a line shown whole, or what an earlier table gave), the totals are
    equal; where it shares a shown cell, the cells are."""
    rows, cols = list(table.margin_rows), list(table.margin_columns)
    keep_r = [i for i in range(table.shape[0]) if i not in rows]
    keep_c = [j for j in range(table.shape[1]) if j not in cols]
    row_keys = [_key(table.row_labels[i]) for i in keep_r]
    col_keys = [_key([table.header[j]]) for j in keep_c]
    hidden = table.suppressed[np.ix_(keep_r, keep_c)]
    nan = np.full(len(keep_r), np.nan), np.full(len(keep_c), np.nan)
    given = _Given(*nan)
    known_lines = dict(own.lines)
    values = table.values[np.ix_(keep_r, keep_c)]
    for keys, grid in ((row_keys, values), (col_keys, values.T)):
        for key, line in zip(keys, grid, strict=True):
            if not np.isnan(line).any():  # a line shown whole: its total is known here
                known_lines.setdefault(key, float(line.sum()))
    for other in others:
        if own.labels.isdisjoint(other.labels):
            continue
        # totals or cells that differ from this table's where both publish them count
        # something else
        lines = other.lines if _agrees(known_lines, other.lines) is not False else {}
        cells = next(
            (c for c in (other.cells, other.flipped) if _agrees(own.cells, c)),
            None,  # a grid is compared only when a shown cell says it is the same count
        )
        added = False
        for keys, totals in ((row_keys, given.row_totals), (col_keys, given.col_totals)):
            for n, key in enumerate(keys):
                if key not in known_lines and key in lines:
                    totals[n] = known_lines[key] = lines[key]
                    added = True
        if cells is not None:
            for i, j in np.argwhere(hidden):
                at = (row_keys[i], col_keys[j])
                if at in cells and (int(i), int(j)) not in given.revealed:
                    given.revealed[int(i), int(j)] = (cells[at], other.name)
                    added = True
        if added:
            given.sources.append(other.name)
    return given if given.sources else None


def across(
    tables: Sequence[tuple[str, Table]],
    policy: Policy,
    released: Sequence[tuple[str, Table]] = (),
) -> list[RuleResult | None]:
    """For each table of counts with hidden cells, the rule with what the other tables of the
    request, and the ``released`` ones, publish about it: totals of its rows and columns
    (one-way tables, margins of two-way ones) and its hidden cells shown elsewhere. A result
    (naming those tables) when they pin a hidden cell or do not add up, else None."""
    if not any(table.suppressed.any() for _, table in tables):
        return [None] * len(tables)  # nothing hidden: nothing to recompute
    pub = [published(name, table) for name, table in [*tables, *released]]
    out: list[RuleResult | None] = []
    for k, (_, raw) in enumerate(tables):
        own = pub[k]
        if own is None or not raw.suppressed.any():
            out.append(None)
            continue
        table = layout(raw).table
        if not table.suppressed.any():
            out.append(None)
            continue
        given = _given(table, own, [p for n, p in enumerate(pub) if n != k and p is not None])
        if given is None:
            out.append(None)
            continue
        result = _ranges(table, policy, given=given)
        out.append(None if result.status is Status.PASS else result)
    return out
