"""Tables inside HTML (pandas' ``DataFrame._repr_html_`` in notebooks), read as grids.

Only ``<table>`` structure is read; everything else in the HTML is text to scan. Header
cells spanning several columns (pandas' MultiIndex columns) are expanded. Merged cells in
the body cannot be checked cell by cell and are reported, not guessed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class HtmlTable:
    header_rows: list[list[str]] = field(default_factory=list)
    body_rows: list[list[str]] = field(default_factory=list)
    label_columns: int = 0
    merged_body_cells: bool = False
    too_large: bool = False


class _Parser(HTMLParser):
    def __init__(self, max_cells: int) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[HtmlTable] = []
        self.max_cells = max_cells
        self._cells = 0
        self._depth = 0
        self._section = "tbody"
        self._row: list[tuple[str, str, int, int]] | None = None
        self._cell: list[str] | None = None
        self._cell_meta: tuple[str, int, int] = ("td", 1, 1)
        self._rows: list[tuple[str, list[tuple[str, str, int, int]]]] = []
        self.nested = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._depth += 1
            self.nested |= self._depth > 1
            if self._depth == 1:
                self._rows = []
                self._section = "tbody"
        if self._depth != 1:
            return
        if tag in ("thead", "tbody", "tfoot"):
            self._section = tag
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td") and self._row is not None:
            values = dict(attrs)
            self._cell = []
            self._cell_meta = (tag, _span(values.get("colspan")), _span(values.get("rowspan")))

    def handle_endtag(self, tag: str) -> None:
        if (
            self._depth == 1
            and tag in ("th", "td")
            and self._cell is not None
            and self._row is not None
        ):
            kind, colspan, rowspan = self._cell_meta
            self._row.append((kind, " ".join("".join(self._cell).split()), colspan, rowspan))
            self._cell = None
            self._cells += colspan
        elif self._depth == 1 and tag == "tr" and self._row is not None:
            self._rows.append((self._section, self._row))
            self._row = None
        elif tag == "table" and self._depth:
            if self._depth == 1:
                self.tables.append(_assemble(self._rows, self._cells > self.max_cells))
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1


def _assemble(
    rows: list[tuple[str, list[tuple[str, str, int, int]]]], too_large: bool
) -> HtmlTable:
    table = HtmlTable(too_large=too_large)
    if too_large:
        return table
    pending: dict[int, tuple[str, int]] = {}  # column -> (text, rows still covered)
    grid: list[tuple[str, list[tuple[str, str]]]] = []
    for section, cells in rows:
        out: list[tuple[str, str]] = []
        column = 0
        queue = deque(cells)
        while queue or column in pending:
            if column in pending:
                text, remaining = pending.pop(column)
                out.append(("th", text))
                if remaining > 1:
                    pending[column] = (text, remaining - 1)
                column += 1
                continue
            kind, text, colspan, rowspan = queue.popleft()
            if section != "thead" and kind == "td" and (colspan > 1 or rowspan > 1):
                table.merged_body_cells = True
            for offset in range(colspan):
                out.append((kind, text))
                if rowspan > 1:
                    pending[column + offset] = (text, rowspan - 1)
            column += colspan
        grid.append((section, out))
    header = [row for section, row in grid if section == "thead"]
    body = [row for section, row in grid if section != "thead"]
    if not header and body and all(kind == "th" for kind, _ in body[0]):
        header, body = [body[0]], body[1:]
    table.header_rows = [[text for _, text in row] for row in header]
    table.body_rows = [[text for _, text in row] for row in body]
    if body:
        width = max(len(row) for row in body)
        leading = [
            next((i for i, (kind, _) in enumerate(row) if kind != "th"), len(row)) for row in body
        ]
        table.label_columns = max(0, min(width - 1, *leading))
    return table


class MalformedHtml(ValueError):
    """HTML whose structure cannot be read reliably; the caller reports it for review."""


def read_html_tables(html: str, *, max_cells: int) -> list[HtmlTable]:
    """The tables of ``html``. Raises :class:`MalformedHtml` on markup a browser would
    repair in ways this reader cannot follow: unbalanced angle brackets (which also make
    Python's parser quadratic), tables or rows left open, tables nested in cells."""
    if html.count("<") > html.count(">"):
        raise MalformedHtml("unbalanced '<' and '>'")
    lower = html.lower()
    opened, closed = lower.count("<table"), lower.count("</table")
    if opened != closed:
        raise MalformedHtml("a table is not closed")
    if lower.count("<tr") != lower.count("</tr"):
        raise MalformedHtml("a row is not closed")
    parser = _Parser(max_cells)
    try:
        parser.feed(html)
        parser.close()
    except AssertionError as exc:  # html.parser's own refusals (e.g. "<![x")
        raise MalformedHtml(str(exc) or "unreadable markup") from None
    if parser.nested:
        raise MalformedHtml("a table is nested inside another")
    return parser.tables


def grid_of(table: HtmlTable) -> list[list[str]] | None:
    """A rectangular grid (one header row, then the body), or None when ragged."""
    width = max((len(r) for r in table.header_rows + table.body_rows), default=0)
    if not table.body_rows or any(len(r) != width for r in table.body_rows):
        return None
    header = []
    for j in range(width):
        parts = [row[j] for row in table.header_rows if j < len(row) and row[j]]
        if j < table.label_columns:
            header.append(parts[-1] if parts else "")
        else:
            header.append(" / ".join(dict.fromkeys(parts)))
    return [header, *table.body_rows]
