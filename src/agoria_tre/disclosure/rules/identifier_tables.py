"""Direct identifiers in a parsed table: the scan of :mod:`.identifiers`, run once over the
whole table, each finding placed back in its cell, header or row labels."""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agoria_tre.disclosure.report import Cell, RuleResult
from agoria_tre.disclosure.rules.identifiers import (  # the finders the text scan uses
    _BIRTH,
    _NIR_CONTEXT,
    DATE,
    EMAIL,
    NIR,
    PHONE,
    PSEUDONYM,
    RULES,
    _all_pseudonyms,
    _as_text,
    _find_dates,
    _find_emails,
    _find_nirs,
    _find_phones,
    _pseudonym_index,
    _results,
    _table_places,
    _Tally,
)

# --- tables ----------------------------------------------------------------------------------

_HEADER, _LABEL_NAME, _LABEL, _CELL = range(4)
_SEGMENT_SEP = "\x1f"  # in no pattern's character classes: no match spans two segments


@dataclass
class _Table:
    """A table flattened into one string, so that each pattern runs once over all of it.

    Segments are, in order, the headers, the label columns' names, then each row's labels
    followed by its data cells; segment ``n`` is ``texts[n]`` and starts at ``starts[n]`` in
    ``text``. Row ``i``'s first segment is ``row_first[i]``; :meth:`place` turns a segment
    number back into ``(kind, a, b)``: ``(_HEADER, col, 0)``, ``(_LABEL_NAME, k, 0)``,
    ``(_LABEL, row, k)`` or ``(_CELL, row, col)``, without storing one tuple per cell.
    """

    header: list[str]
    label_names: list[str]
    row_labels: list[list[str]]
    widths: list[int]
    texts: list[str]
    starts: list[int]
    row_first: list[int]
    text: str
    _context: dict[tuple[str, str, int], bool] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        header: Sequence[str],
        label_names: Sequence[str],
        row_labels: Sequence[Sequence[str]],
        cells: Sequence[Sequence[str]],
    ) -> _Table:
        head = [_as_text(h) for h in header]
        names = [_as_text(n) for n in label_names]
        labels = [[_as_text(v) for v in row] for row in row_labels]
        rows = max(len(cells), len(labels))
        texts: list[str] = head + names
        row_first: list[int] = []
        for i in range(rows):
            row_first.append(len(texts))
            if i < len(labels):
                texts.extend(labels[i])
            if i < len(cells):
                texts.extend(cells[i])
        try:
            text = _SEGMENT_SEP.join(texts)
        except TypeError:  # a cell that is not a string, despite the signature
            texts = [_as_text(t) for t in texts]
            text = _SEGMENT_SEP.join(texts)
        # starts[n] = the lengths of segments 0..n-1 plus n separators, at C speed.
        lengths = itertools.accumulate(map(len, texts), initial=0)
        starts = list(map(operator.add, lengths, range(len(texts))))
        return cls(
            header=head,
            label_names=names,
            row_labels=labels + [[] for _ in range(rows - len(labels))],
            widths=[len(row) for row in cells],
            texts=texts,
            starts=starts,
            row_first=row_first,
            text=text,
        )

    def segment(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos) - 1

    def place(self, n: int) -> tuple[int, int, int]:
        if n < len(self.header):
            return (_HEADER, n, 0)
        if n < len(self.header) + len(self.label_names):
            return (_LABEL_NAME, n - len(self.header), 0)
        i = bisect.bisect_right(self.row_first, n) - 1
        offset = n - self.row_first[i]
        if offset < len(self.row_labels[i]):
            return (_LABEL, i, offset)
        return (_CELL, i, offset - len(self.row_labels[i]))

    def row_cells(self, i: int) -> list[Cell]:
        return [(i, j) for j in range(self.widths[i])] if i < len(self.widths) else []

    def column_cells(self, j: int) -> list[Cell]:
        return [(i, j) for i, width in enumerate(self.widths) if j < width]

    def _names(self, pattern: re.Pattern[str], kind: str, index: int, text: str) -> bool:
        key = (pattern.pattern, kind, index)
        if key not in self._context:
            self._context[key] = pattern.search(text) is not None
        return self._context[key]

    def context(self, pattern: re.Pattern[str], n: int) -> bool:
        """Whether segment ``n``, or the header or labels that name it, match ``pattern``.

        A data cell is named by its column header and its row's labels; a row label by its
        label column's name and its row's labels; headers and label names by themselves.
        """
        if pattern.search(self.texts[n]) is not None:
            return True
        kind, a, b = self.place(n)
        if kind in (_CELL, _LABEL) and self._names(pattern, "row", a, " ".join(self.row_labels[a])):
            return True
        if kind == _CELL:
            return b < len(self.header) and self._names(pattern, "col", b, self.header[b])
        if kind == _LABEL:
            return b < len(self.label_names) and self._names(
                pattern, "name", b, self.label_names[b]
            )
        return False

    def flag(self, t: _Tally, n: int) -> None:
        """Record in ``t`` the segment ``n``'s place and the data cells it flags."""
        kind, a, b = self.place(n)
        if kind == _CELL:
            t.data_cells.add((a, b))
            t.cells.add((a, b))
        elif kind == _LABEL:
            t.label_rows.add(a)
            t.cells.update(self.row_cells(a))
        elif kind == _HEADER:
            t.header_columns.add(a)
            t.cells.update(self.column_cells(a))
        else:
            t.label_names.add(a)


def scan_table(
    header: Sequence[str],
    label_names: Sequence[str],
    row_labels: Sequence[Sequence[str]],
    cells: Sequence[Sequence[str]],
    *,
    pseudonyms: frozenset[str] = frozenset(),
) -> list[RuleResult]:
    """Direct identifiers in a parsed table's headers, label names, row labels and cells.

    ``header[j]`` labels data column ``j``; ``label_names[k]`` names label (index) column
    ``k``; ``row_labels[i][k]`` and ``cells[i][j]`` are row ``i``'s label and data texts.
    Ragged rows are accepted. A finding in data cell ``(i, j)`` flags that cell; in a row's
    labels, every data cell of the row; in a header, every data cell of the column; in a
    label column's name, no cell (the result still carries its status). A date's context is
    its own text, its column header and its row's labels (a row label's: its label column's
    name and its row's labels), and any pseudonym in its row (the header row for headers).
    Returns one result per rule that found something, in :data:`RULES` order, never a pass.
    """
    table = _Table.build(header, label_names, row_labels, cells)
    text = table.text
    tallies = {rule: _Tally() for rule in RULES}

    for hit in _find_nirs(text):
        n = table.segment(hit.start)
        if not hit.keyed:
            if not table.context(_NIR_CONTEXT, n):
                continue
            tallies[NIR].keyless += 1
        tallies[NIR].count += 1
        table.flag(tallies[NIR], n)
    for rule, hits in ((EMAIL, _find_emails(text)), (PHONE, _find_phones(text))):
        for hit in hits:
            tallies[rule].count += 1
            tallies[rule].add_example(hit.example)
            table.flag(tallies[rule], table.segment(hit.start))

    pseudonym_rows: set[int] = set()
    pseudonym_in_header = False
    index = _pseudonym_index(pseudonyms)
    for hit in _all_pseudonyms(text, index):
        n = table.segment(hit.start)
        tallies[PSEUDONYM].count += 1
        table.flag(tallies[PSEUDONYM], n)
        kind, a, _ = table.place(n)
        if kind in (_CELL, _LABEL):
            pseudonym_rows.add(a)
        else:
            pseudonym_in_header = True

    t = tallies[DATE]
    for hit in _find_dates(text):
        n = table.segment(hit.start)
        kind, a, _ = table.place(n)
        t.count += 1
        if table.context(_BIRTH, n):
            t.birth += 1
            table.flag(t, n)
        elif a in pseudonym_rows if kind in (_CELL, _LABEL) else pseudonym_in_header:
            t.beside_pseudonym += 1
            table.flag(t, n)

    return _results(tallies, _table_places)
