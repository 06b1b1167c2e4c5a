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

import numpy as np
from numpy.typing import NDArray

from agoria_tre.disclosure.policy import Limits, Policy
from agoria_tre.disclosure.readers.table import MARGIN_LABELS, TABLE_SUFFIXES, Table, parse_csv
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


class _Builder:
    """Entries of one family, in the table's reading order."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.values: list[float] = []
        self.supports: list[str] = []  # "" for a published count; else what a sum covers
        self.what: list[str] = []  # plain words: "cell (F, drug A)", "the sum of column A"
        self.cells: list[tuple[Cell, ...]] = []
        self.interior: list[bool] = []  # an ordinary cell: neither a margin nor a sum

    def add(
        self,
        key: str,
        value: float,
        support: str,
        what: str,
        cells: tuple[Cell, ...],
        interior: bool = False,
    ) -> None:
        self.keys.append(key)
        self.values.append(value)
        self.supports.append(support)
        self.what.append(what)
        self.cells.append(cells)
        self.interior.append(interior)


@dataclass(frozen=True)
class _Family:
    """A family's entries sorted by the hash of their key, for binary search.

    Keys are matched on 64-bit hashes, then confirmed on the keys themselves. A key found
    twice in one table (two rows with the same labels) is ambiguous and is left out.
    """

    hashes: NDArray[np.int64]
    values: NDArray[np.float64]
    supports: NDArray[np.int64]  # 0 for a published count
    order: NDArray[np.intp]  # each entry's rank in the table's reading order
    keys: tuple[str, ...]
    what: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]
    interior: tuple[bool, ...]

    @classmethod
    def of(cls, b: _Builder) -> _Family:
        hashes = np.fromiter((hash(k) for k in b.keys), dtype=np.int64, count=len(b.keys))
        unique, counts = np.unique(hashes, return_counts=True)
        single = np.isin(hashes, unique[counts == 1])
        keep = np.nonzero(single)[0]
        keep = keep[np.argsort(hashes[keep], kind="stable")]
        supports = np.fromiter(
            (hash(s) if s else 0 for s in b.supports), dtype=np.int64, count=len(b.supports)
        )
        picked = keep.tolist()
        return cls(
            hashes=hashes[keep],
            values=np.asarray(b.values, dtype=np.float64)[keep],
            supports=supports[keep],
            order=keep.astype(np.intp),
            keys=tuple(b.keys[k] for k in picked),
            what=tuple(b.what[k] for k in picked),
            cells=tuple(b.cells[k] for k in picked),
            interior=tuple(b.interior[k] for k in picked),
        )


@dataclass(frozen=True)
class _Index:
    frequency: bool
    one_way: bool
    label_names: tuple[str, ...]
    families: dict[str, _Family]


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


def _build_index(table: Table) -> _Index:
    """Every comparable count of ``table``, by family, keyed by normalised labels.

    Keys are ``repr`` of tuples of normalised texts: unambiguous whatever the labels hold.
    A one-way table's row key and another table's column key share one form, ``(text,)``,
    so that the two can be matched.
    """
    label_names = tuple(_norm(n) for n in table.label_names)
    if not _is_frequency(table):
        return _Index(False, False, label_names, {})
    values = table.values
    shown = ~np.isnan(values) & ~table.suppressed
    n_rows, n_cols = table.shape
    margin_rows, margin_cols = list(table.margin_rows), list(table.margin_columns)
    inner_rows = [i for i in range(n_rows) if i not in table.margin_rows]
    inner_cols = [j for j in range(n_cols) if j not in table.margin_columns]
    inner_row_set, inner_col_set = set(inner_rows), set(inner_cols)
    has_labels = bool(table.label_names)
    row_keys = [tuple(_norm(x) for x in labels) for labels in table.row_labels]
    col_keys = [(_norm(h),) for h in table.header]
    row_text = [", ".join(labels) for labels in table.row_labels]

    def cell_what(i: int, j: int) -> str:
        return f"cell ({row_text[i]}, {table.header[j]})"

    def total_what(i: int, j: int) -> str:
        return f"total ({row_text[i]}, {table.header[j]})"

    def line_sum(
        family: str, positions: list[Cell], covered: list[object], what_sum: str
    ) -> tuple[float, str, str, tuple[Cell, ...]] | None:
        """A sum over published cells only; a single cell stands for itself."""
        if not positions or not all(shown[p] for p in positions):
            return None
        total = float(sum(values[p] for p in positions))
        support = repr((family, sorted(map(repr, covered))))
        if len(positions) == 1:
            return total, support, cell_what(*positions[0]), (positions[0],)
        return total, support, what_sum, ()

    cells, rows, columns, grand = _Builder(), _Builder(), _Builder(), _Builder()
    if has_labels:
        for i in range(n_rows):
            for j in range(n_cols):
                if shown[i, j]:
                    interior = i in inner_row_set and j in inner_col_set
                    what = cell_what(i, j) if interior else total_what(i, j)
                    key = repr((row_keys[i], col_keys[j]))
                    cells.add(key, float(values[i, j]), "", what, ((i, j),), interior)
        for i in inner_rows:
            explicit = [j for j in margin_cols if shown[i, j]]
            if explicit:
                j = explicit[-1]
                rows.add(repr(row_keys[i]), float(values[i, j]), "", total_what(i, j), ((i, j),))
                continue
            found = line_sum(
                _ROW,
                [(i, j) for j in inner_cols],
                [col_keys[j] for j in inner_cols],
                f"the sum of row ({row_text[i]})",
            )
            if found:
                rows.add(repr(row_keys[i]), *found)
    for j in inner_cols:
        explicit = [i for i in margin_rows if shown[i, j]]
        if explicit:
            i = explicit[-1]
            columns.add(repr(col_keys[j]), float(values[i, j]), "", total_what(i, j), ((i, j),))
            continue
        if has_labels:
            found = line_sum(
                _COL,
                [(i, j) for i in inner_rows],
                [row_keys[i] for i in inner_rows],
                f"the sum of column {table.header[j]}",
            )
            if found:
                columns.add(repr(col_keys[j]), *found)
    corner = [(i, j) for i in margin_rows for j in margin_cols if shown[i, j]]
    if corner:
        i, j = corner[-1]
        grand.add("", float(values[i, j]), "", total_what(i, j), ((i, j),))
    elif has_labels:
        inner = [(i, j) for i in inner_rows for j in inner_cols]
        found = line_sum(
            _GRAND,
            inner,
            [(row_keys[i], col_keys[j]) for i, j in inner],
            "the sum of all its cells",
        )
        if found:
            grand.add("", *found)
    return _Index(
        frequency=True,
        one_way=len(table.label_names) == 1 and len(inner_cols) == 1,
        label_names=label_names,
        families={
            _CELL: _Family.of(cells),
            _ROW: _Family.of(rows),
            _COL: _Family.of(columns),
            _GRAND: _Family.of(grand),
        },
    )


def _match(a: _Family, b: _Family) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Positions in ``a`` and ``b`` of the keys both hold (binary search on hashes)."""
    if not a.hashes.size or not b.hashes.size:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    at = np.searchsorted(b.hashes, a.hashes)
    found = at < b.hashes.size
    found[found] = b.hashes[at[found]] == a.hashes[found]
    ia = np.nonzero(found)[0].astype(np.intp)
    return ia, at[ia].astype(np.intp)


def _compatible(mine: tuple[str, ...], theirs: tuple[str, ...]) -> bool:
    """Same number of label columns, named alike (an unnamed column matches any name)."""
    if len(mine) != len(theirs):
        return False
    return all(a == b or not a or not b for a, b in zip(mine, theirs, strict=True))


@dataclass(frozen=True)
class _First:
    """The finding the summary names: the earliest by (other table, family, cell)."""

    rank: tuple[int, int, int]
    other: str
    here: _Family
    x: int
    there: _Family
    y: int

    def describe(self, threshold: int) -> str:
        here_what, there_what = self.here.what[self.x], self.there.what[self.y]
        a, b = self.here.values[self.x], self.there.values[self.y]
        gap = plural(round(abs(a - b)), "unit")
        if self.here.interior[self.x] and self.there.interior[self.y] and here_what == there_what:
            return (
                f"{here_what} differs from table '{self.other}' by {gap}:"
                f" subtracting the two isolates fewer than {threshold} units"
            )
        theirs = "" if there_what == here_what else f"{there_what} is "
        return (
            f"{here_what} is {a:.0f} here and {theirs}{b:.0f} in table '{self.other}':"
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
    mine = _index(table)
    if not mine.frequency:
        return passed(RULE, "not a table of counts: differencing compares counts only")
    threshold = policy.threshold
    first: _First | None = None
    flagged_cells: set[Cell] = set()
    count = 0
    involved: set[str] = set()
    compared = 0
    for number, (other_name, other) in enumerate(others):
        if other is table or other_name == name:
            continue
        theirs = _index(other)
        if not theirs.frequency:
            continue
        same_labels = _compatible(mine.label_names, theirs.label_names)
        matched = False
        for family_rank, (here_family, there_family, needs_labels) in enumerate(_PAIRS):
            if needs_labels and not same_labels:
                continue
            if (here_family, there_family) == (_ROW, _COL) and not mine.one_way:
                continue
            if (here_family, there_family) == (_COL, _ROW) and not theirs.one_way:
                continue
            a, b = mine.families[here_family], theirs.families[there_family]
            ia, ib = _match(a, b)
            # Two sums over the same cells (of the same variables) repeat the cells' own
            # comparison.
            keep = (a.supports[ia] == 0) | (a.supports[ia] != b.supports[ib]) | (not same_labels)
            ia, ib = ia[keep], ib[keep]
            if not ia.size:
                continue
            matched = True
            gap = np.abs(a.values[ia] - b.values[ib])
            hits = (gap > 0) & (gap < threshold)
            for x, y in zip(ia[hits].tolist(), ib[hits].tolist(), strict=True):
                if a.keys[x] != b.keys[y]:
                    continue  # two keys with one hash: not a match
                count += 1
                involved.add(other_name)
                flagged_cells.update(a.cells[x])
                rank = (number, family_rank, int(a.order[x]))
                if first is None or rank < first.rank:
                    first = _First(rank, other_name, a, x, b, y)
        compared += matched
    if not compared:
        return passed(RULE, "no other table shares its labels")
    if first is None:
        return passed(
            RULE,
            f"compared with {plural(compared, 'table')}: no difference isolates fewer than"
            f" {threshold} units",
        )
    summary = first.describe(threshold)
    if count > 1:
        summary += (
            f" (and {count - 1} more such difference{'' if count == 2 else 's'},"
            f" with {plural(len(involved), 'table')})"
        )
    return flagged(RULE, Status.REVIEW, summary, flagged_cells)


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
