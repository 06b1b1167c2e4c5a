"""Differencing: two published counts whose difference is a small group of units.

Why: each table of a release may pass the threshold on its own, yet a second table over
nearly the same units lets anyone subtract one count from the other. A count of 120 women
on drug A in one table and 118 in another (built, say, after excluding two late consents)
reveals a group of 2 units, and whatever the tables say about them. The same holds for a
one-way table beside a two-way table's margin ("All"/"Total"), for two versions of a table
whose categories differ by one small category, and for two tables of the same cohort whose
grand totals differ by the few units missing from one variable.

Contract: :func:`check_differencing` compares a frequency table (whole, non-negative
counts) with each other table of the same release or of earlier releases. Cells are
matched on their labels, never on their positions: a cell is its row labels and its
column label, compared after trimming, case folding and mapping every margin label
("All", "Total", "Ensemble"…) to one margin token. It matches

* cells with the same labels (margins included: a total is a cell like any other);
* row totals (a margin column, or the sum of a row whose cells are all published, or a
  one-way table's single count) over the same row labels: a one-way table against a
  two-way table's margin column, two tables with the same rows but different column
  categories;
* column totals (a margin row, or the sum of a column whose cells are all published) over
  the same column label: tables whose row categories are a subset or superset of the
  other's;
* a one-way table's counts against the column totals of a table whose columns are its
  categories;
* grand totals, whatever the tables' variables (units missing from one variable).

Tables whose label columns are named differently ("sex" against "region") are not
compared cell by cell; an unnamed label column matches any name. Hidden cells (empty,
``*``, ``<11``…) are never compared: they are not published, and a total is only computed
from a row or column whose cells are all published. Two totals that are both sums over
the same matched cells add nothing to the cells' own comparison and are not compared.

A published difference ``d`` with ``0 < |d| < policy.threshold`` is a ``review``: a person
decides whether the two tables describe nested populations. Flagged cells are positions in
``table``; a total that is a sum of several cells, not a published cell, flags no cell and
is named in the summary instead.

Tables are indexed once (for as long as they live), then compared family by family with
a binary search over hashed keys in NumPy: 50 tables of 1,000 cells, each compared with
all the others, take about a second.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from agoria_tre.disclosure import evidence as ev
from agoria_tre.disclosure.policy import Limits, Policy
from agoria_tre.disclosure.readers.table import (
    MARGIN_LABELS,
    TABLE_SUFFIXES,
    Table,
    label_key,
    parse_csv,
)
from agoria_tre.disclosure.report import Cell, RuleResult, flagged, passed, plural
from agoria_tre.disclosure.status import Status

RULE = "differencing"
# A control character: CSV tables refuse them, so no real label can be this token.
MARGIN = "\x1e"
_CELL, _ROW, _COL, _GRAND = "cell", "row", "column", "grand"
# (family in `table`, family in the other table, whether label names must agree)
_PAIRS: tuple[tuple[str, str, bool], ...] = (
    (_CELL, _CELL, True),
    (_ROW, _ROW, True),
    (_COL, _COL, True),
    (_ROW, _COL, False),  # only when `table` is one-way
    (_COL, _ROW, False),  # only when the other table is one-way
    (_GRAND, _GRAND, False),
)


def _norm(text: str) -> str:
    folded = " ".join(text.split()).casefold()
    return MARGIN if folded in MARGIN_LABELS else folded


# How an entry is named in a summary.
_CELL_WHAT, _TOTAL_WHAT, _ROW_SUM, _COL_SUM, _GRAND_SUM = range(5)
# Pairs of counts compared in one check, at most: beyond, a table is reviewed by eye.
MAX_CELL_COMPARISONS = 10_000_000
_CHUNK = 1_000_000  # pairs of counts compared at once (memory)
_I64 = np.int64


def _ints(values: object) -> NDArray[np.int64]:
    return np.asarray(values, dtype=_I64).reshape(-1)


@dataclass(frozen=True)
class _Family:
    """A family's entries, in the table's reading order.

    A key is one or two ids of normalised label tuples (``_Index.texts``; -1 for no part):
    a cell is (its row's labels, its column's label), a row total its row's labels, a column
    total its column's label, the grand total no part at all. A key found twice in one
    family (two rows with the same labels) is ambiguous and is left out.
    """

    part1: NDArray[np.int64]
    part2: NDArray[np.int64]
    values: NDArray[np.float64]
    is_sum: NDArray[np.bool_]  # a sum of published cells, not a published count
    i: NDArray[np.int64]  # the row the entry names, or -1
    j: NDArray[np.int64]  # the column the entry names, or -1
    what: NDArray[np.int64]  # how the entry is named (_CELL_WHAT…)
    interior: NDArray[np.bool_]  # an ordinary cell: neither a margin nor a sum

    @classmethod
    def of(
        cls,
        n_texts: int,
        part1: object,
        part2: object,
        values: object,
        is_sum: object,
        i: object,
        j: object,
        what: object,
        interior: object,
    ) -> _Family:
        p1 = _ints(part1)
        size = p1.size
        arrays: list[NDArray[Any]] = [
            np.broadcast_to(np.asarray(v, dtype=t), (size,))
            for v, t in (
                (p1, _I64),
                (part2, _I64),
                (values, np.float64),
                (is_sum, bool),
                (i, _I64),
                (j, _I64),
                (what, _I64),
                (interior, bool),
            )
        ]
        keep = np.ones(size, dtype=bool)
        if size:
            local = (arrays[0] + 1) * (n_texts + 1) + (arrays[1] + 1)
            _, inverse, counts = np.unique(local, return_inverse=True, return_counts=True)
            keep = counts[inverse.reshape(-1)] == 1
        arrays = [np.ascontiguousarray(a[keep]) for a in arrays]
        return cls(*arrays)

    def describe(self, x: int, index: _Index) -> str:
        what, i, j = int(self.what[x]), int(self.i[x]), int(self.j[x])
        if what == _CELL_WHAT:
            return f"cell ({index.row_text[i]}, {index.header[j]})"
        if what == _TOTAL_WHAT:
            return f"total ({index.row_text[i]}, {index.header[j]})"
        if what == _ROW_SUM:
            return f"the sum of row ({index.row_text[i]})"
        if what == _COL_SUM:
            return f"the sum of column {index.header[j]}"
        return "the sum of all its cells"


@dataclass(frozen=True)
class _Index:
    frequency: bool
    one_way: bool
    label_names: tuple[str, ...]
    texts: tuple[tuple[str, ...], ...] = ()  # the distinct normalised label tuples
    families: dict[str, _Family] | None = None
    covered: dict[str, object] | None = None  # what a family's sums cover
    row_text: tuple[str, ...] = ()
    header: tuple[str, ...] = ()


def _is_frequency(table: Table) -> bool:
    if not table.header or not table.all_integer():
        return False
    shown = table.values[~np.isnan(table.values)]
    return not bool((shown < 0).any())


# Indexes live as long as their tables: a table is compared with every other one, and an
# index is built once. Keyed by identity (hashing a table's content costs as much as
# indexing it); the entry goes when the table is collected, before its id can be reused.
_INDEXES: dict[int, _Index] = {}


def _index(table: Table) -> _Index:
    found = _INDEXES.get(id(table))
    if found is None:
        found = _INDEXES[id(table)] = _build_index(table)
        weakref.finalize(table, _INDEXES.pop, id(table), None)
    return found


def _last_shown(block: NDArray[np.bool_], positions: NDArray[np.int64]) -> NDArray[np.int64]:
    """Per row of ``block``, the last of ``positions`` whose cell is shown."""
    last: NDArray[np.int64] = positions[positions.size - 1 - np.argmax(block[:, ::-1], axis=1)]
    return last


def _build_index(table: Table) -> _Index:
    """Every comparable count of ``table``, by family, keyed by normalised labels (in NumPy:
    a table of a million cells is indexed in well under a second).

    A one-way table's row key and another table's column key share one form, ``(text,)``,
    so that the two can be matched.
    """
    label_names = tuple(_norm(n) for n in table.label_names)
    if not _is_frequency(table):
        return _Index(False, False, label_names)
    values = table.values
    shown = ~np.isnan(values) & ~table.suppressed
    n_rows, n_cols = table.shape
    margin_rows, margin_cols = _ints(table.margin_rows), _ints(table.margin_columns)
    is_margin_row = np.zeros(n_rows, dtype=bool)
    is_margin_row[margin_rows] = True
    is_margin_col = np.zeros(n_cols, dtype=bool)
    is_margin_col[margin_cols] = True
    inner_rows, inner_cols = np.nonzero(~is_margin_row)[0], np.nonzero(~is_margin_col)[0]
    has_labels = bool(table.label_names)
    row_keys = [tuple(_norm(x) for x in labels) for labels in table.row_labels]
    col_keys = [(_norm(h),) for h in table.header]
    vocabulary: dict[tuple[str, ...], int] = {}
    row_ids = _ints([vocabulary.setdefault(k, len(vocabulary)) for k in row_keys])
    col_ids = _ints([vocabulary.setdefault(k, len(vocabulary)) for k in col_keys])
    n_texts = len(vocabulary)
    empty = _Family.of(n_texts, [], [], [], [], [], [], [], [])
    families = {_CELL: empty, _ROW: empty, _COL: empty, _GRAND: empty}

    if has_labels:
        ci, cj = np.nonzero(shown)
        interior = ~is_margin_row[ci] & ~is_margin_col[cj]
        families[_CELL] = _Family.of(
            n_texts,
            row_ids[ci],
            col_ids[cj],
            values[ci, cj],
            False,
            ci,
            cj,
            np.where(interior, _CELL_WHAT, _TOTAL_WHAT),
            interior,
        )
        families[_ROW] = _line_family(
            n_texts, shown.T, values.T, inner_rows, inner_cols, margin_cols, row_ids, _ROW_SUM
        )
    families[_COL] = _line_family(
        n_texts,
        shown,
        values,
        inner_cols,
        inner_rows if has_labels else inner_rows[:0],
        margin_rows,
        col_ids,
        _COL_SUM,
        sums=has_labels,
    )
    corner = np.argwhere(shown[np.ix_(margin_rows, margin_cols)])
    grand_values, grand_sum, gi, gj, gwhat = [], [], [], [], []
    if corner.size:
        gi, gj = [int(margin_rows[corner[-1][0]])], [int(margin_cols[corner[-1][1]])]
        grand_values, grand_sum, gwhat = [float(values[gi[0], gj[0]])], [False], [_TOTAL_WHAT]
    elif has_labels and inner_rows.size and inner_cols.size:
        block = np.ix_(inner_rows, inner_cols)
        if shown[block].all():
            grand_values, grand_sum = [float(values[block].sum())], [True]
            single = inner_rows.size == 1 and inner_cols.size == 1
            gi = [int(inner_rows[0]) if single else -1]
            gj = [int(inner_cols[0]) if single else -1]
            gwhat = [_CELL_WHAT if single else _GRAND_SUM]
    families[_GRAND] = _Family.of(
        n_texts,
        [-1] * len(gi),
        [-1] * len(gi),
        grand_values,
        grand_sum,
        gi,
        gj,
        gwhat,
        False,
    )
    rows_covered = tuple(sorted(row_keys[i] for i in inner_rows))
    cols_covered = tuple(sorted(col_keys[j] for j in inner_cols))
    return _Index(
        frequency=True,
        one_way=len(table.label_names) == 1 and inner_cols.size == 1,
        label_names=label_names,
        texts=tuple(vocabulary),
        families=families,
        covered={
            _ROW: (_ROW, cols_covered),
            _COL: (_COL, rows_covered),
            _GRAND: (_GRAND, rows_covered, cols_covered),
        },
        row_text=tuple(", ".join(labels) for labels in table.row_labels),
        header=tuple(table.header),
    )


def _line_family(
    n_texts: int,
    shown: NDArray[np.bool_],
    values: NDArray[np.float64],
    lines: NDArray[np.int64],
    across: NDArray[np.int64],
    margins: NDArray[np.int64],
    ids: NDArray[np.int64],
    sum_what: int,
    *,
    sums: bool = True,
) -> _Family:
    """Totals of columns (``shown`` as is) or of rows (``shown`` transposed): a margin's
    published count (the last one shown), else the sum of the line when all its cells
    over ``across`` are published; a single cell stands for itself."""
    by_column = sum_what == _COL_SUM

    def at(line: NDArray[np.int64], other: NDArray[np.int64]) -> tuple[object, object]:
        return (line, other) if not by_column else (other, line)

    if margins.size and lines.size:
        block = shown[np.ix_(margins, lines)]
        explicit: NDArray[np.bool_] = np.asarray(block.any(axis=0))
        last = _last_shown(block.T, margins)
    else:
        explicit = np.zeros(lines.size, dtype=bool)
        last = np.zeros(lines.size, dtype=_I64)
    if sums and across.size and lines.size:
        cells = np.ix_(across, lines)
        complete: NDArray[np.bool_] = np.asarray(shown[cells].all(axis=0) & ~explicit)
        totals = np.where(complete, np.where(shown[cells], values[cells], 0).sum(axis=0), 0.0)
    else:
        complete = np.zeros(lines.size, dtype=bool)
        totals = np.zeros(lines.size)
    keep = explicit | complete
    line = lines[keep]
    published = explicit[keep]
    value = np.where(published, values[last[keep], line], totals[keep])
    single = across.size == 1
    other = np.where(published, last[keep], int(across[0]) if single else -1)
    what = np.where(published, _TOTAL_WHAT, _CELL_WHAT if single else sum_what)
    row, column = at(line, other)  # the margin (or single cell) is across the line
    return _Family.of(n_texts, ids[line], -1, value, ~published, row, column, what, False)


def _match(
    keys: NDArray[np.int64], sorted_keys: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For each of ``keys``, the range of ``sorted_keys`` equal to it."""
    lo = np.searchsorted(sorted_keys, keys, side="left").astype(_I64)
    hi = np.searchsorted(sorted_keys, keys, side="right").astype(_I64)
    return lo, hi


def _compatible(mine: tuple[str, ...], theirs: tuple[str, ...]) -> bool:
    """Same number of label columns, named alike (an unnamed column matches any name)."""
    if len(mine) != len(theirs):
        return False
    return all(a == b or not a or not b for a, b in zip(mine, theirs, strict=True))


@dataclass
class _Side:
    """One family's entries over several tables, with keys shared by all of them."""

    keys: NDArray[np.int64]
    owner: NDArray[np.int64]
    local: NDArray[np.int64]
    values: NDArray[np.float64]
    supports: NDArray[np.int64]

    def take(self, order: NDArray[np.int64]) -> _Side:
        return _Side(*(a[order] for a in self.astuple()))

    def astuple(self) -> tuple[NDArray[Any], ...]:
        return (self.keys, self.owner, self.local, self.values, self.supports)


class _Keys:
    """Ids shared by the tables of one comparison: label tuples and what sums cover."""

    def __init__(self, indexes: Sequence[_Index]) -> None:
        texts: dict[tuple[str, ...], int] = {}
        covered: dict[object, int] = {}
        self.ids: dict[int, NDArray[np.int64]] = {}
        self.supports: dict[tuple[int, str], int] = {}
        for index in indexes:
            if id(index) in self.ids or not index.frequency:
                continue
            self.ids[id(index)] = _ints([texts.setdefault(t, len(texts)) for t in index.texts])
            for family, what in (index.covered or {}).items():
                self.supports[(id(index), family)] = covered.setdefault(what, len(covered) + 1)
        self.width = len(texts) + 1

    def side(self, indexes: Sequence[tuple[int, _Index]], family: str) -> _Side:
        parts: list[tuple[NDArray[Any], ...]] = []
        for owner, index in indexes:
            entries = (index.families or {})[family]
            ids = self.ids[id(index)]
            p1 = np.where(entries.part1 >= 0, ids[entries.part1], -1)
            p2 = np.where(entries.part2 >= 0, ids[entries.part2], -1)
            support = self.supports.get((id(index), family), 0)
            parts.append(
                (
                    (p1 + 1) * self.width + (p2 + 1),
                    np.full(p1.size, owner, dtype=_I64),
                    np.arange(p1.size, dtype=_I64),
                    entries.values,
                    np.where(entries.is_sum, support, 0).astype(_I64),
                )
            )
        if not parts:
            return _Side(*(np.zeros(0, dtype=d) for d in (_I64, _I64, _I64, float, _I64)))
        return _Side(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def _describe_first(
    here: _Family,
    x: int,
    mine: _Index,
    there: _Family,
    y: int,
    theirs: _Index,
    other: str,
    threshold: int,
) -> str:
    here_what, there_what = here.describe(x, mine), there.describe(y, theirs)
    a, b = here.values[x], there.values[y]
    gap = plural(round(abs(a - b)), "unit")
    if here.interior[x] and there.interior[y] and here_what == there_what:
        return (
            f"{here_what} differs from table '{other}' by {gap}:"
            f" subtracting the two isolates fewer than {threshold} units"
        )
    theirs_what = "" if there_what == here_what else f"{there_what} is "
    return (
        f"{here_what} is {a:.0f} here and {theirs_what}{b:.0f} in table '{other}':"
        f" {gap} counted in one and not the other, fewer than {threshold}"
    )


def check_differencing(
    table: Table, name: str, others: Sequence[tuple[str, Table]], policy: Policy
) -> RuleResult:
    """Review every published count of ``table`` that differs from a matching count of
    another table by fewer than ``policy.threshold`` units (and by more than zero).

    ``others`` are (name, table) pairs: the other tables of the request and those already
    released. An entry named ``name``, or the very same object, is skipped, so the caller
    may pass every table of the request. Tables that are not frequency tables (whole,
    non-negative counts) are not compared. The result never fails: whether two tables
    describe nested populations is for a person to judge.
    """
    return check_all_differencing([(name, table)], others, policy)[0]


def check_all_differencing(
    tables: Sequence[tuple[str, Table]],
    others: Sequence[tuple[str, Table]],
    policy: Policy,
    *,
    max_comparisons: int = MAX_CELL_COMPARISONS,
) -> list[RuleResult]:
    """:func:`check_differencing` for each of ``tables``, against all of ``others`` (which
    may hold ``tables`` themselves), at once: entries of every table are joined on their
    keys in NumPy, so only counts with the same labels meet.

    Tables are taken in order while the pairs of counts they bring stay within
    ``max_comparisons``; each table past it is a ``review`` (too many cells to compare
    automatically), never silently passed.
    """
    mine = [_index(t) for _, t in tables]
    theirs = [_index(t) for _, t in others]
    keys = _Keys([*mine, *theirs])
    threshold = policy.threshold
    names: dict[str, int] = {}
    objects: dict[int, int] = {}
    my_name = _ints([names.setdefault(n, len(names)) for n, _ in tables])
    my_object = _ints([objects.setdefault(id(t), len(objects)) for _, t in tables])
    their_name = _ints([names.setdefault(n, len(names)) for n, _ in others])
    their_object = _ints([objects.setdefault(id(t), len(objects)) for _, t in others])
    groups: dict[tuple[str, ...], int] = {}
    my_group = _ints([groups.setdefault(ix.label_names, len(groups)) for ix in mine])
    their_group = _ints([groups.setdefault(ix.label_names, len(groups)) for ix in theirs])
    compatible = np.array(
        [[_compatible(a, b) for b in groups] for a in groups], dtype=bool
    ).reshape(len(groups), len(groups))
    counting = [(k, ix) for k, ix in enumerate(mine) if ix.frequency]
    in_others = {id(t) for _, t in others}

    # The pairs of counts each table brings, to stay within the budget.
    sides: list[tuple[int, _Side, _Side]] = []
    load = np.zeros(len(tables), dtype=_I64)
    for rank, (here_family, there_family, _) in enumerate(_PAIRS):
        here_tables = [
            (k, ix)
            for k, ix in counting
            if here_family != _ROW or there_family != _COL or ix.one_way
        ]
        there_tables = [
            (k, ix)
            for k, ix in enumerate(theirs)
            if ix.frequency and (here_family != _COL or there_family != _ROW or ix.one_way)
        ]
        here = keys.side(here_tables, here_family)
        there = keys.side(there_tables, there_family)
        there = there.take(np.argsort(there.keys, kind="stable"))
        lo, hi = _match(here.keys, there.keys)
        load += np.bincount(here.owner, weights=hi - lo, minlength=len(tables)).astype(_I64)
        if here_family == there_family:  # each entry meets itself when its table is an other
            itself = np.array([id(t) in in_others for _, t in tables], dtype=bool)
            load -= np.where(itself, np.bincount(here.owner, minlength=len(tables)), 0)
        sides.append((rank, here, there))
    budget = np.cumsum(load) <= max_comparisons
    chosen = budget | (load == 0)

    hits: list[tuple[NDArray[np.int64], ...]] = []
    met: list[NDArray[np.int64]] = []
    width = max(len(others), 1)
    for pair, here, there in sides:
        needs_labels = _PAIRS[pair][2]
        here = here.take(np.nonzero(chosen[here.owner])[0])
        lo, hi = _match(here.keys, there.keys)
        sizes = hi - lo
        start = 0
        while start < here.keys.size:
            stop = start + max(1, int(np.searchsorted(np.cumsum(sizes[start:]), _CHUNK)))
            stop = min(stop, here.keys.size)
            count = sizes[start:stop]
            x = np.repeat(np.arange(start, stop, dtype=_I64), count)
            offsets = np.arange(x.size, dtype=_I64) - np.repeat(np.cumsum(count) - count, count)
            y = np.repeat(lo[start:stop], count) + offsets
            start = stop
            so, oo = here.owner[x], there.owner[y]
            valid = (my_name[so] != their_name[oo]) & (my_object[so] != their_object[oo])
            same = compatible[my_group[so], their_group[oo]]
            if needs_labels:
                valid &= same
            sa, sb = here.supports[x], there.supports[y]
            valid &= (sa == 0) | (sa != sb) | ~same
            met.append(np.unique(so[valid] * width + oo[valid]))
            gap = np.abs(here.values[x] - there.values[y])
            hit = valid & (gap > 0) & (gap < threshold)
            if hit.any():
                hits.append(
                    (
                        so[hit],
                        oo[hit],
                        np.full(int(hit.sum()), pair, dtype=_I64),
                        here.local[x[hit]],
                        there.local[y[hit]],
                    )
                )
    met_pairs = np.unique(np.concatenate(met)) if met else np.zeros(0, dtype=_I64)
    compared = np.bincount(met_pairs // width, minlength=len(tables))
    if hits:
        hs, ho, hr, hx, hy = (np.concatenate(c) for c in zip(*hits, strict=True))
        order = np.lexsort((hx, hr, ho, hs))
        hs, ho, hr, hx, hy = hs[order], ho[order], hr[order], hx[order], hy[order]
    else:
        hs = ho = hr = hx = hy = np.zeros(0, dtype=_I64)
    starts = np.searchsorted(hs, np.arange(len(tables) + 1))

    results: list[RuleResult] = []
    for k, ix in enumerate(mine):
        if not ix.frequency:
            results.append(passed(RULE, "not a table of counts: differencing compares counts only"))
            continue
        if not chosen[k]:
            results.append(
                flagged(
                    RULE,
                    Status.REVIEW,
                    f"too many cells to compare automatically ({int(load[k]):,} pairs of counts"
                    f" with other tables, past the {max_comparisons:,} compared in one check):"
                    " look for differencing by eye",
                )
            )
            continue
        if not compared[k]:
            results.append(passed(RULE, "no other table shares its labels"))
            continue
        a, b = int(starts[k]), int(starts[k + 1])
        if a == b:
            results.append(
                passed(
                    RULE,
                    f"compared with {plural(int(compared[k]), 'table')}: no difference"
                    f" isolates fewer than {threshold} units",
                )
            )
            continue
        cells: set[Cell] = set()
        for pair_rank in np.unique(hr[a:b]).tolist():
            family = (ix.families or {})[_PAIRS[pair_rank][0]]
            picked = hx[a:b][hr[a:b] == pair_rank]
            named = np.isin(family.what[picked], (_CELL_WHAT, _TOTAL_WHAT))
            cells.update(
                zip(family.i[picked[named]].tolist(), family.j[picked[named]].tolist(), strict=True)
            )
        o, first_rank = int(ho[a]), int(hr[a])
        here_family, there_family, _ = _PAIRS[first_rank]
        other_name, other_index = others[o][0], theirs[o]
        summary = _describe_first(
            (ix.families or {})[here_family],
            int(hx[a]),
            ix,
            (other_index.families or {})[there_family],
            int(hy[a]),
            other_index,
            other_name,
            threshold,
        )
        n_hits = b - a
        if n_hits > 1:
            involved = len({others[n][0] for n in np.unique(ho[a:b]).tolist()})
            summary += (
                f" (and {n_hits - 1} more such difference{'' if n_hits == 2 else 's'},"
                f" with {plural(involved, 'table')})"
            )
        results.append(flagged(RULE, Status.REVIEW, summary, cells))
    return results


def load_released(
    directories: Sequence[Path], limits: Limits
) -> tuple[list[tuple[str, Table]], list[str]]:
    """The frequency tables of earlier releases, to compare new tables with.

    Every ``.csv``/``.tsv`` file under ``directories`` (links are not followed), named
    ``released:<directory name>/<path>``. Released files were checked when they left, yet
    they are read as untrusted like any other: a file over the limits or unreadable is
    skipped, and said so in the notes returned beside the tables (for the report). Tables
    that are not counts are left out: differencing compares counts only.
    """
    found: list[tuple[str, Table]] = []
    notes: list[str] = []
    for directory in directories:
        files = sorted(
            p
            for p in directory.rglob("*")
            if p.suffix.lower() in TABLE_SUFFIXES and p.is_file() and not p.is_symlink()
        )
        for path in files:
            name = f"released:{directory.name}/{path.relative_to(directory).as_posix()}"
            if path.stat().st_size > limits.max_bytes:
                notes.append(f"{name} not compared: over the size limit")
                continue
            parsed = parse_csv(path.read_bytes(), limits, name=path.name)
            if isinstance(parsed, RuleResult):
                notes.append(f"{name} not compared: {parsed.summary}")
            elif _index(parsed).frequency:
                found.append((name, parsed))
    return found, notes


def _cell_keys(table: Table) -> dict[tuple[tuple[str, ...], str], tuple[int, int]]:
    return {
        (tuple(map(label_key, labels)), label_key(column)): (i, j)
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
