"""Tables printed as text: Markdown tables and pandas' aligned ``print(df)`` form.

A count can leave as text just as well as in a CSV, so text outputs are searched for grids
of numbers, which are then checked like any table. The search is deliberately simple and
errs on the side of finding tables: a block of lines is a table when every data line has
the header's columns plus one label, and its values are numbers.
"""

from __future__ import annotations

import itertools
import re

from agoria_tre.disclosure.readers.printouts import find_literal_tables, note

_MD_SEPARATOR = re.compile(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
MAX_LINES = 20_000
MAX_TITLES = 3  # title lines above a printed table


def _markdown(block: list[str]) -> list[list[str]] | None:
    if len(block) < 3 or not _MD_SEPARATOR.fullmatch(block[1].strip()):
        return None
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in block]
    del rows[1]
    width = len(rows[0])
    if width < 2 or any(len(row) != width for row in rows):
        return None
    return rows


_VALUE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|nan|<NA>|None")
_FOOTER = re.compile(r"(Name: .*dtype: \w+|dtype: \w+|\[\d+ rows x \d+ columns\]|Length: \d+.*)")
_ELLIPSIS = re.compile(r"(\.\.\.?|…)")


def _cell(token: str) -> str:
    return "" if token in ("NaN", "nan", "<NA>", "None") else token


def _rows_with(lines: list[list[str]], width: int) -> list[list[str]] | None:
    """Each line as (label, the last ``width`` values), or None if a line does not fit."""
    rows = []
    for tokens in lines:
        if all(_ELLIPSIS.fullmatch(t) for t in tokens):
            continue  # pandas' "..  .." for rows it did not print
        if len(tokens) < width + 1 or not all(_VALUE.fullmatch(t) for t in tokens[-width:]):
            return None
        rows.append([" ".join(tokens[:-width]), *(_cell(t) for t in tokens[-width:])])
    return rows or None


def _aligned_values(block: list[str]) -> list[list[str]] | None:
    """The aligned table read from words, or from positions when that finds more value
    columns (column names with spaces, like pandas' ``drug A``, defeat the words)."""
    by_position = _aligned_positions(block)
    if by_position is not None:
        return by_position
    by_words = _aligned_words(block)
    if by_words is None:
        return None
    wider = _trailing_values(block)
    if wider is not None and len(wider[0]) > len(by_words[0]):
        return wider  # numbers the words put into labels ("F 3  64"): read them as values
    return by_words


def _aligned(block: list[str]) -> list[list[str]] | None:
    """The aligned table: by value positions, by words, or, when it finds more columns,
    with text columns between the values (a listing: ``age sex los``)."""
    grid = _aligned_values(block)
    cells = _aligned_cells(block)
    if cells is not None and (grid is None or len(cells[0]) > len(grid[0])):
        return cells
    return grid


def _aligned_cells(block: list[str]) -> list[list[str]] | None:
    """pandas' ``print(df)`` of a frame with text columns (``df.loc[mask, ['age', 'sex',
    'los']]``): every column, text or number, right-aligned on its name's end; the index
    left-aligned before them."""
    lines = [line.rstrip() for line in block if line.strip()]
    lines = [line for line in lines if not _FOOTER.fullmatch(line.strip())]
    if len(lines) < 3:
        return None
    header = lines[0]
    heads = [(m.end(), m.group()) for m in _TOKEN.finditer(header)]
    body: list[list[tuple[int, int, str]]] = []
    for k, line in enumerate(lines[1:]):
        tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(line)]
        if all(_ELLIPSIS.fullmatch(t[2]) for t in tokens):
            continue
        if k == 0 and not any(_VALUE.fullmatch(t[2]) for t in tokens):
            continue  # the index's names
        body.append(tokens)
    if len(body) < 2:
        return None
    ends = [
        end
        for end, name in heads
        if not _ELLIPSIS.fullmatch(name)
        and all(any(e == end and b > 0 for b, e, _ in tokens) for tokens in body)
    ]
    if len(ends) < 2:
        return None
    rows: list[list[str]] = []
    text_columns: set[int] = set()
    for tokens in body:
        first = next(b for b, e, _ in tokens if e == ends[0])
        if any(e > ends[-1] for _, e, _ in tokens):
            return None
        bounds = [first, *ends]
        cells = []
        for k in range(len(ends)):
            words = [t for b, e, t in tokens if b >= bounds[k] and e <= bounds[k + 1]]
            cells.append(" ".join(words))
            if not all(_VALUE.fullmatch(w) for w in words):
                text_columns.add(k)
        if any(b < first < e for b, e, _ in tokens):
            return None
        label = " ".join(t for b, e, t in tokens if e <= first)
        rows.append([label, *(_cell(c) for c in cells)])
    if not text_columns or len(text_columns) == len(ends):
        return None  # no text column (the positions read it) or no value column
    names, previous = [], 0
    for end in ends:
        names.append(_GAP.split(header[previous:end].strip())[-1])
        previous = end
    return [["", *names], *rows]


def _trailing_values(block: list[str]) -> list[list[str]] | None:
    """Every line (the first is a header unless it ends with a number) as label words then
    as many values as all lines end with: the reading that leaves no number in a label, for
    tables whose columns do not line up."""
    lines = [line.split() for line in block if line.strip()]
    lines = [t for t in lines if not _FOOTER.fullmatch(" ".join(t))]
    header = lines[0] if lines and not _VALUE.fullmatch(lines[0][-1]) else []
    lines = lines[1:] if header else lines
    counts = []
    for tokens in lines:
        n = 0
        while n < len(tokens) - 1 and _VALUE.fullmatch(tokens[-1 - n]):
            n += 1
        counts.append(n)
    width = min(counts, default=0)
    if width == 0:
        return None
    names = header[-width:] if len(header) == width else [f"column {j + 1}" for j in range(width)]
    return [["", *names], *([" ".join(t[:-width]), *(_cell(v) for v in t[-width:])] for t in lines)]


_TOKEN = re.compile(r"\S+")
_GAP = re.compile(r"\s{2,}")


_SEGMENT = re.compile(r"\S+(?: \S+)*")


def _index_levels(
    rows: list[tuple[str, int]], names: list[tuple[int, int, str]]
) -> tuple[list[str], list[list[str]]]:
    """Row labels split into the index's levels: at the positions where pandas starts each
    level (its names' line, or the labels of rows whose outer levels it left blank), then
    the blank outer levels filled from the row above (pandas prints each once)."""
    starts = {0} | {begin for begin, _, _ in names}
    for line, first in rows:
        if line[:first].startswith(" ") and line[:first].strip():
            starts.add(len(line) - len(line.lstrip()))
    for line, first in rows:  # a cut inside a word is not a level's start
        for m in _TOKEN.finditer(line[:first]):
            starts -= {p for p in starts if m.start() < p < m.end()}
    cuts = sorted(starts)
    levels = [
        [line[a:b].strip() for a, b in itertools.pairwise([*cuts, first])] for line, first in rows
    ]
    keep = [k for k in range(len(cuts)) if any(row[k] for row in levels)] or [0]
    levels = [[row[k] for k in keep] for row in levels]
    name_of = {begin: text for begin, _, text in names}
    labels = [name_of.get(cuts[k], "") for k in keep]
    for i in range(1, len(levels)):
        row, above = levels[i], levels[i - 1]
        for k in range(len(row) - 1):
            if not row[k] and any(row[k + 1 :]):
                row[k] = above[k]
    return labels, levels


def _column_levels(lines: list[str], ends: list[int], limit: int) -> list[list[str]] | None:
    """The upper levels of a MultiIndex header printed above its last level: each name
    ends where the first of its columns ends and stands for the columns up to the next
    name. None if the lines are not laid out so (titles)."""
    levels = []
    for line in lines:
        segments = [(m.end(), m.group()) for m in _SEGMENT.finditer(line)]
        if not segments or any(end not in ends and end > limit for end, _ in segments):
            return None
        at = {end: text for end, text in segments if end in ends}
        if not at:
            return None
        current, names = "", []
        for end in ends:
            current = at.get(end, current)
            names.append(current)
        levels.append(names)
    return levels


def _aligned_positions(block: list[str]) -> list[list[str]] | None:
    """pandas right-aligns each column's name and values on one end position: the ends
    shared by the trailing values of every line and by a header name are the columns."""
    lines = [line.rstrip() for line in block if line.strip()]
    lines = [line for line in lines if not _FOOTER.fullmatch(line.strip())]
    for start in range(MAX_TITLES + 1):  # title lines directly above the table
        if len(lines) - start < 2 or (start and _data_line(lines[start - 1].split())):
            return None  # a row is never a title
        if _row_as_header(lines, start):
            continue
        header = lines[start]
        body: list[tuple[str, list[tuple[int, int, str]]]] = []
        names: list[tuple[int, int, str]] = []  # the index's names, on their own line
        for line in lines[start + 1 :]:
            tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(line)]
            if all(_ELLIPSIS.fullmatch(t[2]) for t in tokens):
                continue
            if not body and not names and not any(_VALUE.fullmatch(t[2]) for t in tokens):
                names = tokens
                continue
            if len(tokens) == 1 and not _VALUE.fullmatch(tokens[0][2]):
                continue  # the index's name alone on its line
            body.append((line, tokens))
        if not body:
            continue
        shared: set[int] | None = None
        for _, tokens in body:
            trailing = set()
            for _begin, end, token in reversed(tokens[1:]):  # one label word at least
                if not _VALUE.fullmatch(token):
                    break
                trailing.add(end)
            shared = trailing if shared is None else shared & trailing
        ends = sorted(e for e in shared or () if e <= len(header) and header[e - 1] != " ")
        if not ends:
            continue
        rows: list[list[str]] = []
        labelled: list[tuple[str, int]] = []
        for line, tokens in body:
            at = {end: (begin, token) for begin, end, token in tokens if end in ends}
            first = at[ends[0]][0]
            if any(begin >= first and end not in at for begin, end, _ in tokens):
                rows = []
                break  # a value between the columns: not this layout
            rows.append([*(_cell(at[e][1]) for e in ends)])
            labelled.append((line, first))
        if not rows:
            continue
        limit = min(first for _, first in labelled)
        if any(end > limit for _, end, _ in names):
            continue  # not the index's names: a row of text
        names_of_columns, previous = [], 0
        for end in ends:
            names_of_columns.append(_GAP.split(header[previous:end].strip())[-1])
            previous = end
        for above in range(start):  # a MultiIndex header: its upper levels are "titles"
            levels = _column_levels(lines[above:start], ends, limit)
            if levels is not None:
                names_of_columns = [
                    " / ".join(dict.fromkeys(p for p in parts if p))
                    for parts in zip(*levels, names_of_columns, strict=True)
                ]
                break
        label_names, label_rows = _index_levels(labelled, names)
        return [
            [" / ".join(label_names) if len(label_names) > 1 else "", *names_of_columns],
            *([" / ".join(labels), *row] for labels, row in zip(label_rows, rows, strict=True)),
        ]
    return None


def _row_as_header(lines: list[str], start: int) -> bool:
    """Whether ``lines[start]`` is a row (a label, then values) rather than a header: a
    header of numbers (``agegrp  1  2  3``) is followed by its index's name alone."""
    tokens = lines[start].split()
    if not _data_line(tokens) or _VALUE.fullmatch(tokens[0]):
        return False
    following = lines[start + 1].split() if start + 1 < len(lines) else []
    return not (following and not any(_VALUE.fullmatch(t) for t in following))


def _aligned_words(block: list[str]) -> list[list[str]] | None:
    """pandas' ``print(df)`` and ``print(series)``: label words, then one value per column.

    A header of column names comes first for a frame (possibly preceded by the columns'
    name, and followed by the index name alone on its line); a series has no header and a
    ``Name: …, dtype: …`` footer. Up to three lines of title above the table are tolerated.
    """
    lines = [line.split() for line in block if line.strip() and not _FOOTER.fullmatch(line.strip())]
    for start in range(MAX_TITLES + 1):  # title lines directly above the table
        candidate = lines[start:]
        if len(candidate) < 2 or (start and _data_line(lines[start - 1])):
            return None  # a row is never a title
        header = candidate[0]
        body = [t for t in candidate[1:] if not (len(t) == 1 and not _VALUE.fullmatch(t[0]))]
        if header and _VALUE.fullmatch(header[-1]):  # no header: a series
            rows = _rows_with(candidate, 1)
            if rows is not None:
                return [["", "value"], *rows]
            continue
        for names in (header, header[1:]):  # header[0] may be the columns' name
            if names:
                rows = _rows_with(body, len(names))
                if rows is not None:
                    return [["", *names], *rows]
    return None


_RULE_LINE = re.compile(r"[\s+\-=|:─━│┃┼╋├┤┌┐└┘┬┴╞╡╪═╒╕╘╛╤╧]*")
_LATEX_NOISE = re.compile(r"\\(toprule|midrule|bottomrule|hline|begin\{.*|end\{.*)|\\\\\s*$")


def _delimited(block: list[str]) -> list[list[str]] | None:
    """Tables drawn with separators: pipes (Markdown, psql, tabulate grids), box-drawing
    characters (DuckDB), or LaTeX's ``&`` (``df.to_latex()``)."""
    latex = any("&" in line for line in block) and any("\\\\" in line for line in block)
    rows: list[list[str]] = []
    for line in block:
        if _RULE_LINE.fullmatch(line):
            continue
        if latex:
            line = _LATEX_NOISE.sub("", line).strip()
            if "&" not in line:
                continue
            cells = [c.strip() for c in line.rstrip("\\").split("&")]
        elif "|" in line or "│" in line:
            cells = [c.strip() for c in re.split(r"[|│┃]", line.strip().strip("|│┃"))]
        else:
            continue  # a caption or "(2 rows)"
        rows.append(cells)
    if len(rows) < 2:
        return None
    width = len(rows[0])
    rows = [r for r in rows if len(r) == width]
    body = [r for r in rows[1:] if any(_VALUE.fullmatch(c) for c in r[1:])]
    if width < 2 or not body:
        return None
    return [["", *rows[0][1:]], *[[r[0], *(_cell(c) for c in r[1:])] for r in body]]


def _data_line(tokens: list[str]) -> bool:
    """A table's row: a label, then a value at the end of the line."""
    return len(tokens) >= 2 and _VALUE.fullmatch(tokens[-1]) is not None


def _segments(block: list[str]) -> list[list[str]]:
    """A block cut where one printed table ends and the next begins, as ``print(a);
    print(b)`` leaves them with no blank line between: after a table's rows, a line that
    does not end with a value (the next header or title), a ``Name: …, dtype: …`` footer
    (the end of a series), or a header of numbers (``agegrp  1  2  3``) with another layout
    than the rows above, followed by its index's name alone on its line."""
    segments: list[list[str]] = []
    current: list[str] = []
    rows = 0  # data lines in ``current``
    for line in block:
        tokens = line.split()
        if _FOOTER.fullmatch(line.strip()):
            current.append(line)
            segments.append(current)
            current, rows = [], 0
            continue
        if all(_ELLIPSIS.fullmatch(t) for t in tokens):
            current.append(line)
            continue
        if rows and not _data_line(tokens):
            if len(tokens) == 1 and rows >= 2 and _moved_header(current):
                header = current.pop()  # the next frame's header ended with a number
                segments.append(current)
                current, rows = [header], 0
            elif len(tokens) != 1 or rows >= 1:
                segments.append(current)
                current, rows = [], 0
        current.append(line)
        rows += _data_line(tokens)
    if current:
        segments.append(current)
    return segments


def _moved_header(current: list[str]) -> bool:
    """Whether the last line of ``current`` is laid out unlike the row above it: another
    number of words, or its values ending at other positions."""
    last, before = current[-1], current[-2]
    if len(last.split()) != len(before.split()):
        return True
    return len(last.rstrip()) != len(before.rstrip())


def _grid(block: list[str]) -> list[list[str]] | None:
    grid = _markdown(block) if block[0].lstrip().startswith("|") else _aligned(block)
    if grid is None and any(c in "".join(block) for c in "|│&"):
        grid = _delimited(block)
    return grid


# A line of prose: six words or more, and nothing that separates columns.
_SENTENCE = re.compile(r"\s*(?:\S+\s+){5,}\S")
MAX_SENTENCE = 20_000  # characters: a longer line is data, whatever its spaces
_COLUMNS = re.compile(r"[|\t\u2500-\u257f]|\S {2,}\S")  # bars, tabs, box drawing, gaps


def find_text_tables(text: str, cut: list[str] | None = None) -> list[list[list[str]]]:
    """Grids (first row = header, first column = labels) found in ``text``. Where a limit
    stops the search, the reason is added to ``cut``: what was not read is never passed."""
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        note(cut, f"tables were looked for in its first {MAX_LINES:,} lines of {len(lines):,}")
        lines = lines[:MAX_LINES]
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    grids: list[list[list[str]]] = []
    for block in blocks:
        if all(
            len(line) <= MAX_SENTENCE and _SENTENCE.match(line) and not _COLUMNS.search(line)
            for line in block
        ):
            continue  # a paragraph: its numbers are the prose reader's, not a table's
        whole = _grid(block)
        segments = _segments(block) if not block[0].lstrip().startswith("|") else [block]
        parts = [g for g in map(_grid, segments) if g is not None] if len(segments) > 1 else []
        layered = whole is not None and any(" / " in name for name in whole[0])
        if layered and whole and len(whole) >= max((len(part) for part in parts), default=0):
            grids.append(whole)  # a MultiIndex header: the segments cut one table apart
        elif len(parts) > 1 or (parts and whole is None):
            grids += parts  # tables printed back to back
        elif whole is not None:
            grids.append(whole)
    return grids + find_literal_tables(text, cut)
