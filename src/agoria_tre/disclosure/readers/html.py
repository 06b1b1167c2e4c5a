"""HTML read as a browser reads it: an HTML page (``df.to_html()``, a Styler's ``to_html()``)
or a fragment (pandas' ``_repr_html_`` in a notebook, a table in Markdown).

The markup is parsed by lxml's HTML parser, libxml2's HTML5 tokenizer, so markup a browser
repairs (a row left open, a comment closed by ``--!>``, text in a table outside its cells)
is repaired the same way here: what a reader of the page sees as a cell is a cell to the
checker, and nothing a browser shows can sit outside what is checked.

A page yields its tables as grids (header cells spanning columns, pandas' MultiIndex, are
expanded; merged cells in the body cannot be checked cell by cell and are reported, not
guessed), the text it shows outside them, the text it holds without showing (attribute
values, style sheets), and the first thing in it that would run or fetch something.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

import lxml.etree

from agoria_tre.disclosure.vocabulary import vocabulary


@dataclass
class HtmlTable:
    header_rows: list[list[str]] = field(default_factory=list)
    body_rows: list[list[str]] = field(default_factory=list)
    label_columns: int = 0
    merged_body_cells: bool = False
    too_large: str = ""
    """Why the table was not read to its end ("more than 1,000,000 cells"), or empty."""


@dataclass
class HtmlPage:
    tables: list[HtmlTable]
    text: str
    """What the page shows outside its tables (a caption, a title, a paragraph) and the
    text of its comments, one block to a line."""
    markup: str
    """What the page holds without showing it: attribute values and style sheets."""
    active: str | None
    """The first element or attribute that would run or fetch something, named."""
    unread: str = ""
    """Why the tables cannot be read cell by cell (then ``tables`` is empty)."""


class MalformedHtml(ValueError):
    """Markup the parser did not read to its end: what it left would go unchecked."""


# Elements a page may not hold to be released as written: they run code, frame or embed
# another document, or fetch something from elsewhere (an image, a style sheet, a font).
_ACTIVE_ELEMENTS = vocabulary(
    "script noscript iframe frame frameset object embed applet link meta base form img image"
    " svg math video audio source track picture input button textarea select portal"
    " template"
)
# Attributes that fetch when the page is shown, whatever the element.
_FETCHING_ATTRIBUTES = vocabulary(
    "src srcset background poster data lowsrc dynsrc action formaction ping manifest"
    " codebase archive longdesc"
)
# Schemes that run code or carry a document of their own in a link.
_ACTIVE_SCHEMES = ("javascript:", "vbscript:", "data:")
# What a style sheet may not do: fetch (url(), @import) or run (expression(), behaviors).
_ACTIVE_STYLE = ("url(", "@import", "expression(", "behavior:", "-moz-binding")

_BLOCKS = vocabulary(
    "p div br pre li ul ol h1 h2 h3 h4 h5 h6 caption table tr blockquote section article"
    " header footer dt dd dl hr title body"
)


def _parser() -> lxml.etree.HTMLParser:
    return lxml.etree.HTMLParser(
        encoding="utf-8",  # the bytes it is given: never guessed from the page
        recover=True,
        no_network=True,
        remove_comments=False,
        remove_pis=False,
        remove_blank_text=False,
        default_doctype=False,
        collect_ids=False,
        huge_tree=False,
    )


def parse_html(html: str) -> lxml.etree._Element | None:
    """The page's tree, as a browser builds it; None for a page without elements. Raises
    :class:`MalformedHtml` when the parser stopped before the end (markup nested deeper
    than libxml2 follows): what it did not read would otherwise go unchecked."""
    parser = _parser()
    root = lxml.etree.fromstring(html.encode("utf-8", "replace"), parser)
    fatal = [e.message for e in parser.error_log if e.level_name == "FATAL"]
    if fatal:
        raise MalformedHtml(f"the markup was not read to its end ({fatal[0]})")
    return root


def read_html(html: str, *, max_cells: int, max_rows: int, read_before: int = 0) -> HtmlPage:
    """The tables and texts of ``html``. A table nested in another's cell is no grid: the
    page then says so in ``unread`` and has no tables. A table over the limits (``max_cells``
    for the page, ``max_rows`` for each table) ends the reading: the page is refused for it,
    whatever follows. ``read_before``: cells of tables read before the page (the earlier
    outputs of a notebook), counted against ``max_cells``."""
    if not html.strip():
        return HtmlPage([], "", "", None)
    root = parse_html(html)
    if root is None:  # a comment or a declaration alone: text, all of it
        return HtmlPage([], html, "", None)
    tables: list[HtmlTable] = []
    shown: list[str] = []
    markup: list[str] = []
    active: str | None = None
    cells = read_before
    open_cells = 0  # cells the walk is inside: their text is the table's, not the page's
    nested = False
    around = [*root.itersiblings(preceding=True), *root.itersiblings()]  # comments, PIs
    shown += [f"{node.text}\n" for node in around]
    walk = lxml.etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    for event, element in walk:
        if event in ("comment", "pi"):  # not shown, but released with the page
            shown += [element.text or "", "\n", "" if open_cells else element.tail or ""]
            continue
        tag = _tag(element)
        if event == "start":
            active = active or _active(element, tag)
            markup += [str(value) for value in element.attrib.values()]
            if tag == "style":
                markup.append(element.text or "")
            elif tag == "table" and open_cells:
                nested = True
            elif tag == "table":
                odd: list[lxml.etree._Element] = []
                table, read = _table(element, max_cells - cells, max_rows, odd)
                if table.too_large == _OVER_CELLS:
                    table.too_large = f"more than {max_cells:,} cells" + (
                        " with the tables read before it" if read_before else ""
                    )
                cells += read
                tables.append(table)
                if table.too_large:
                    break
                # The rest of the table is read at once, not element by element.
                walk.skip_subtree()
                inside = _inside(element, odd)
                nested = nested or inside.nested
                active = active or inside.active
                shown += inside.shown
                markup += inside.markup
                continue
            if tag in ("td", "th"):
                open_cells += 1
            elif not open_cells and tag not in ("style", "script"):
                shown.append(element.text or "")
            continue
        if tag in ("td", "th"):
            open_cells -= 1
        if not open_cells:
            shown += ["\n" if tag in _BLOCKS else "", element.tail or ""]
    texts = "".join(shown), "\n".join(markup)
    if nested:
        return HtmlPage([], *texts, active, unread="a table is nested inside another's cell")
    return HtmlPage(tables, *texts, active)


@dataclass
class _Inside:
    """What a table holds besides its grid."""

    nested: bool
    active: str | None
    shown: list[str]
    markup: list[str]


# Inside a table: its elements that have attributes, its comments, and the text it shows
# outside its cells (between its rows and cells, where a browser shows it before the table).
_WITH_ATTRIBUTES = lxml.etree.XPath(".//*[@*]")
_COMMENTS = lxml.etree.XPath(".//comment() | .//processing-instruction()")
_STRAY_TEXT = lxml.etree.XPath("text() | *[not(self::caption)]/text() | */tr/text()")
_SPANNING = lxml.etree.XPath("boolean(.//*[@colspan or @rowspan])")
_MARKED_UP = lxml.etree.XPath("boolean(.//td[*] | .//th[*])")
_STRUCTURE = frozenset({"caption", "thead", "tbody", "tfoot", "tr", "td", "th", ""})


def _inside(table: lxml.etree._Element, odd: list[lxml.etree._Element]) -> _Inside:
    """What ``table``'s descendants hold besides its cells' text: a table nested in it, the
    first thing that runs or fetches, attribute values and style sheets, comments, and the
    text shown outside its cells (its captions, stray text, ``odd`` elements met among its
    rows and cells), one block to a line."""
    inside = _Inside(nested=False, active=None, shown=[], markup=[])
    special = table.iterdescendants(*_ACTIVE_ELEMENTS, "style", "table")
    for element in dict.fromkeys([*special, *_WITH_ATTRIBUTES(table)]):
        tag = _tag(element)
        inside.nested = inside.nested or tag == "table"
        inside.active = inside.active or _active(element, tag)
        inside.markup += [str(value) for value in element.attrib.values()]
        if tag == "style":
            inside.markup.append(element.text or "")
    for node in _COMMENTS(table):
        inside.shown += [node.text or "", "\n"]
    for element in [*table.iterchildren("caption"), *odd]:
        if _tag(element) not in ("style", "script"):
            inside.shown += ["".join(element.itertext()), "\n"]
    inside.shown += [f"{text}\n" for text in _STRAY_TEXT(table) if text.strip()]
    return inside


def _tag(element: lxml.etree._Element) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def _active(element: lxml.etree._Element, tag: str) -> str | None:
    if tag in _ACTIVE_ELEMENTS:
        return f"<{tag}>"
    for name, value in element.attrib.items():
        name = str(name).lower()
        plain = "".join(str(value).split()).lower()
        if name.startswith("on"):
            return f"{name}="
        if name in _FETCHING_ATTRIBUTES or name.endswith(":href"):
            return f"{name}="
        if plain.startswith(_ACTIVE_SCHEMES):
            return f"{name}={plain.split(':', 1)[0]}:"
        if name == "style" and any(word in plain for word in _ACTIVE_STYLE):
            return "style="
    if tag == "style":
        plain = "".join((element.text or "").split()).lower()
        found = next((word for word in _ACTIVE_STYLE if word in plain), None)
        if found:
            return f"<style> {found}"
    return None


def _rows(
    table: lxml.etree._Element, odd: list[lxml.etree._Element]
) -> Iterator[tuple[str, lxml.etree._Element]]:
    """The table's own rows with their section, not those of a table nested in a cell;
    elements that are neither rows nor sections nor a caption go to ``odd``."""
    for child in table:
        tag = _tag(child)
        if tag == "tr":
            yield "tbody", child
        elif tag in ("thead", "tbody", "tfoot"):
            for row in child:
                if _tag(row) == "tr":
                    yield tag, row
                elif _tag(row) not in _STRUCTURE:
                    odd.append(row)
        elif tag not in _STRUCTURE:
            odd.append(child)


_OVER_CELLS = "over the cells left"
_Row = tuple[str, list[str], list[str], list[tuple[int, int]]]  # section, kinds, texts, spans


def _table(
    element: lxml.etree._Element, budget: int, max_rows: int, odd: list[lxml.etree._Element]
) -> tuple[HtmlTable, int]:
    """The table's grid, and how many cells were read of the ``budget`` left; elements
    among its rows and cells that are neither go to ``odd``."""
    rows: list[_Row] = []
    read = 0
    body = 0
    spanned = False
    # Asked once of the whole table: whether any cell spans, or holds elements.
    may_span, plain = bool(_SPANNING(element)), not _MARKED_UP(element)
    for section, row in _rows(element, odd):
        body += section != "thead"
        if body > max_rows + 1:  # a first row of headings may stand in the body
            return HtmlTable(too_large=f"more than {max_rows:,} rows"), read
        kinds: list[str] = []
        texts: list[str] = []
        spans: list[tuple[int, int]] = []
        for cell in row:
            kind = cell.tag  # the parser writes element names in lower case
            if kind != "td" and kind != "th":
                if _tag(cell) not in _STRUCTURE:
                    odd.append(cell)
                continue
            if may_span:
                colspan, rowspan = _span(cell.get("colspan")), _span(cell.get("rowspan"))
                spans.append((colspan, rowspan))
                spanned = spanned or colspan > 1 or rowspan > 1
                read += colspan
            else:
                read += 1
            if read > budget:
                return HtmlTable(too_large=_OVER_CELLS), read
            text = (cell.text or "") if plain else "".join(cell.itertext())
            if text.isascii() and text.isprintable() and "  " not in text:
                text = text.strip()  # the same as below, at a fraction of the cost
            else:
                text = " ".join(text.split())
            kinds.append(kind)
            texts.append(text)
        rows.append((section, kinds, texts, spans))
    return _assemble(rows, spanned), read


def _span(value: str | None) -> int:
    if value is None:
        return 1
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1


def _expanded(rows: list[_Row], table: HtmlTable) -> list[_Row]:
    """``rows`` with each spanning cell repeated over the columns and rows it spans (the
    rows it covers below take it as a heading); a body cell that spans is noted in
    ``table``."""
    pending: dict[int, tuple[str, int]] = {}  # column -> (text, rows still covered)
    out: list[_Row] = []
    for section, kinds, texts, spans in rows:
        row_kinds: list[str] = []
        row_texts: list[str] = []
        column = 0
        queue = deque(zip(kinds, texts, spans, strict=True))
        while queue or column in pending:
            if column in pending:
                text, remaining = pending.pop(column)
                row_kinds.append("th")
                row_texts.append(text)
                if remaining > 1:
                    pending[column] = (text, remaining - 1)
                column += 1
                continue
            kind, text, (colspan, rowspan) = queue.popleft()
            if section != "thead" and kind == "td" and (colspan > 1 or rowspan > 1):
                table.merged_body_cells = True
            for offset in range(colspan):
                row_kinds.append(kind)
                row_texts.append(text)
                if rowspan > 1:
                    pending[column + offset] = (text, rowspan - 1)
            column += colspan
        out.append((section, row_kinds, row_texts, []))
    return out


def _assemble(rows: list[_Row], spanned: bool) -> HtmlTable:
    """The grid of ``rows``, spans expanded (``spanned``: whether any cell spans)."""
    table = HtmlTable()
    if spanned:
        rows = _expanded(rows, table)
    header = [(kinds, texts) for section, kinds, texts, _ in rows if section == "thead"]
    body = [(kinds, texts) for section, kinds, texts, _ in rows if section != "thead"]
    if not header and body and all(kind == "th" for kind in body[0][0]):
        header, body = [body[0]], body[1:]
    table.header_rows = [texts for _, texts in header]
    table.body_rows = [texts for _, texts in body]
    if body:
        width = max(len(texts) for _, texts in body)
        leading = [
            0
            if kinds and kinds[0] != "th"
            else next((i for i, kind in enumerate(kinds) if kind != "th"), len(kinds))
            for kinds, _ in body
        ]
        table.label_columns = max(0, min(width - 1, *leading))
    return table


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
