"""Tables printed as text: Markdown tables and pandas' aligned ``print(df)`` form.

A count can leave as text just as well as in a CSV, so text outputs are searched for grids
of numbers, which are then checked like any table. The search is deliberately simple and
errs on the side of finding tables: a block of lines is a table when every data line has
the header's columns plus one label, and its values are numbers.
"""

from __future__ import annotations

import itertools
import re

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
        _note(cut, f"tables were looked for in its first {MAX_LINES:,} lines of {len(lines):,}")
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


def _note(cut: list[str] | None, reason: str) -> None:
    if cut is not None and reason not in cut:
        cut.append(reason)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, str | int | float)


def _numeric(values: list[object]) -> bool:
    """Numbers (None for a missing one), at least one."""
    return any(_is_number(x) for x in values) and all(x is None or _is_number(x) for x in values)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _names(count: int) -> list[str]:
    return ["count"] if count == 1 else [f"column {j + 1}" for j in range(count)]


def _histogram(counts: list[object], edges: list[object]) -> list[list[str]] | None:
    """``np.histogram``'s (counts, edges): one bin a row, labelled by its edges. The outer
    edges are the data's minimum and maximum unless the bins were bounded: so labelled."""
    if not (counts and _numeric(counts) and len(edges) == len(counts) + 1):
        return None
    if not all(_is_number(x) for x in edges):
        return None
    bounds = [float(x) for x in edges if isinstance(x, int | float)]
    if any(a > b for a, b in itertools.pairwise(bounds)):
        return None
    labels = [f"{edges[i]} to {edges[i + 1]}" for i in range(len(counts))]
    labels[0] = f"min {labels[0]}"
    labels[-1] = f"{labels[-1]} max"
    return [["", "count"], *([label, _text(n)] for label, n in zip(labels, counts, strict=True))]


def _parallel(item: list[object]) -> list[list[str]] | None:
    """Columns given side by side: ``(array(['F', 'M']), array([3, 45]))`` (``np.unique``
    with ``return_counts``), ``[["F", "M"], [3, 45]]``, or a histogram's (counts, edges)."""
    columns: list[list[object]] = [
        list(c) for c in item if isinstance(c, list) and c and all(_is_scalar(x) for x in c)
    ]
    if len(item) < 2 or len(columns) != len(item):
        return None
    if len(columns) == 2:
        histogram = _histogram(columns[0], columns[1])
        if histogram is not None:
            return histogram
    if len({len(c) for c in columns}) != 1:
        return None
    texts = [c for c in columns if all(isinstance(x, str) for x in c)]
    numbers = [c for c in columns if _numeric(c)]
    if len(texts) + len(numbers) != len(columns) or not numbers:
        return None
    arrays = isinstance(item, _Tuple) and all(isinstance(c, _Array) for c in item)
    if not texts:
        if not arrays:
            return None  # rows of numbers: the "values" layout
        texts, numbers = numbers[:1], numbers[1:]  # np.unique of numbers: values, counts
        if not numbers:
            return None
    labels = [" / ".join(_text(c[i]) for c in texts) for i in range(len(columns[0]))]
    return [
        ["", *_names(len(numbers))],
        *([label, *(_text(c[i]) for c in numbers)] for i, label in enumerate(labels)),
    ]


def _labelled_rows(item: list[object]) -> list[list[str]] | None:
    """Rows of labels then numbers: ``[("M", 45), ("F", 3)]`` (``Counter.most_common()``,
    ``list(d.items())``) or ``[["M", 45], ["F", 3]]``."""
    rows: list[tuple[str, list[str]]] = []
    width = None
    for row in item:
        if not isinstance(row, list) or not row or not all(_is_scalar(x) for x in row):
            return None
        k = 0
        while k < len(row) and isinstance(row[k], str):
            k += 1
        values = row[k:]
        if k == 0 or not _numeric(values) or (width is not None and len(values) != width):
            return None
        width = len(values)
        rows.append((" / ".join(map(str, row[:k])), [_text(x) for x in values]))
    if width is None:
        return None
    return [["", *_names(width)], *([label, *values] for label, values in rows)]


def _columns_by_name(item: dict[object, object]) -> list[list[str]] | None:
    """``{"sex": ["M", "F"], "n": [45, 3]}`` (pandas' ``to_dict("list")``)."""
    columns: list[list[object]] = [
        list(c) for c in item.values() if isinstance(c, list) and all(_is_scalar(x) for x in c)
    ]
    if len(columns) != len(item):
        return None
    lengths = {len(c) for c in columns}
    if len(lengths) != 1 or 0 in lengths:
        return None
    names = [str(k) for k in item]
    labels = [j for j, c in enumerate(columns) if all(isinstance(x, str) for x in c)]
    values = [j for j in range(len(columns)) if j not in labels]
    if not any(_numeric(columns[j]) for j in values):
        return None
    (rows,) = lengths
    return [
        ["", *(names[j] for j in values)],
        *(
            [
                " / ".join(str(columns[j][i]) for j in labels) or str(i),
                *(_text(columns[j][i]) for j in values),
            ]
            for i in range(rows)
        ),
    ]


_STATISTIC_KEY = re.compile(
    r"^(?:n|nb|count|size|effectif|nombre|total|sum|mean|avg|std|sd|median|min|max|pct"
    r"|percent|deaths?|cases|patients|events)$|^(?:n|nb|count|mean|avg|std|sd|median|min|max"
    r"|pct|sum|total)[_ ]|[_ ](?:n|nb|count|mean|avg|std|sd|median|min|max|pct|sum|total)$",
    re.IGNORECASE,
)


def _by_row(outer: list[str], inner: list[dict[str, object]]) -> bool:
    """Whether ``{"outer": {"inner": x}}`` holds one row per outer key (pandas'
    ``to_json(orient="index")``, ``to_dict("index")``): the inner keys name statistics
    ("n", "mean_age") and the outer keys do not, or each inner key keeps one type (whole or
    decimal) across rows while each row mixes them."""
    keys = list(dict.fromkeys(k for v in inner for k in v))

    def named(names: list[str]) -> bool:
        return 2 * sum(1 for k in names if _STATISTIC_KEY.search(k)) >= len(names) > 0

    if named(outer):
        return False
    if named(keys):
        return True

    def kind(x: object) -> str:
        return "int" if isinstance(x, int) else "float"

    rows_mixed = all(len({kind(x) for x in v.values()}) > 1 for v in inner)
    columns_kept = all(len({kind(v[k]) for v in inner if k in v}) == 1 for k in keys)
    return len(inner) >= 2 and rows_mixed and columns_kept


def find_json_tables(value: object) -> list[list[list[str]]]:
    """Grids in a JSON document: ``{"A": 3, "B": 50}`` (one row), ``{"col": {"row": n}}``
    (pandas' ``to_json()``), lists of records ``[{"a": 1, "b": 2}, ...]``, columns by name
    ``{"sex": ["M", "F"], "n": [45, 3]}``, rows of a label and numbers ``[["M", 45], ...]``,
    columns side by side ``[["F", "M"], [3, 45]]`` and a histogram's (counts, edges)."""
    grids: list[list[list[str]]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list) and item:
            grid = _parallel(item) or _labelled_rows(item)
            if grid is not None:
                grids.append(grid)
                continue
        if isinstance(item, dict) and item and not {"columns", "data"} <= set(item):
            grid = _columns_by_name(item)
            if grid is not None:
                grids.append(grid)
                continue
        if isinstance(item, dict) and {"columns", "data"} <= set(item):  # orient="split"
            columns, data = item["columns"], item["data"]
            index = item.get("index") or list(range(len(data) if isinstance(data, list) else 0))
            if (
                isinstance(columns, list)
                and isinstance(data, list)
                and all(isinstance(r, list) and len(r) == len(columns) for r in data)
            ):
                grids.append(
                    [
                        ["", *map(str, columns)],
                        *[[str(i), *map(str, r)] for i, r in zip(index, data, strict=False)],
                    ]
                )
                continue
        if (
            isinstance(item, list)
            and item
            and all(isinstance(r, list) and r and all(_is_number(x) for x in r) for r in item)
        ):  # orient="values": rows of numbers
            width = max(len(r) for r in item)
            grids.append(
                [
                    ["", *(str(j) for j in range(width))],
                    *[[str(i), *(str(x) for x in r)] for i, r in enumerate(item)],
                ]
            )
            continue
        if isinstance(item, dict) and item:
            if all(_is_number(v) for v in item.values()):
                grids.append([["", *map(str, item)], ["", *(str(v) for v in item.values())]])
                continue
            if all(isinstance(v, dict) for v in item.values()):
                columns = list(map(str, item))
                rows = list(dict.fromkeys(str(r) for v in item.values() for r in v))
                inner = [{str(k): x for k, x in v.items()} for v in item.values()]
                cells = [x for v in inner for x in v.values()]
                if all(map(_is_scalar, cells)) and any(map(_is_number, cells)):
                    if _by_row(columns, inner):  # orient="index": the outer keys are the rows
                        grids.append(
                            [
                                ["", *rows],
                                *[
                                    [column, *(str(v.get(row, "")) for row in rows)]
                                    for column, v in zip(columns, inner, strict=True)
                                ],
                            ]
                        )
                        continue
                    grids.append(
                        [
                            ["", *columns],
                            *[[row, *(str(v.get(row, "")) for v in inner)] for row in rows],
                        ]
                    )
                    continue
            stack.extend(item.values())
        elif isinstance(item, list) and item:
            if all(isinstance(r, dict) for r in item):
                keys = list(dict.fromkeys(str(k) for r in item for k in r))
                records = [{str(k): v for k, v in r.items()} for r in item]
                if any(_is_number(v) for r in records for v in r.values()):
                    grids.append(
                        [
                            ["", *keys],
                            *[
                                [str(i), *(str(r.get(k, "")) for k in keys)]
                                for i, r in enumerate(records)
                            ],
                        ]
                    )
                    continue
            stack.extend(item)
    return grids


# --- Python and numpy printouts -------------------------------------------------------------
#
# ``print(d)`` of a dict of counts, a ``Counter``, a list of ``(label, count)`` pairs, the
# tuple ``np.unique(..., return_counts=True)`` or ``np.histogram`` returns, a numpy array
# printed with or without commas: read by a small tokenizer, never evaluated. Only literals
# are accepted (strings, numbers, None/True/False/nan/inf, brackets); a call such as
# ``Counter(...)``, ``array(...)`` or ``np.int64(...)`` stands for its one positional
# argument, and keyword arguments (``dtype=object``) are skipped. Anything else ends the
# literal; the complete containers read so far are kept. Each character is read once.


class _Array(list[object]):
    """A numpy array's elements (``array([...])`` or a printed ``[ 3 45]``)."""


class _Tuple(list[object]):
    """A Python tuple's elements."""


MAX_LITERAL_TOKENS = 2_000_000
MAX_LITERAL_ITEMS = 100_000  # elements of one container
MAX_LITERAL_DEPTH = 32
MAX_LITERALS = 1_000
MAX_LITERAL_GRIDS = 200
_TOO_DEEP = f"a printed container nested over {MAX_LITERAL_DEPTH} deep was not read"
_TOO_MANY = f"a printed container of over {MAX_LITERAL_ITEMS:,} items was not read"

_OPENER = re.compile(r"(?<![\w.])(?P<call>[A-Za-z_][\w.]{0,60})\(|(?P<open>[\[({])")
_LITERAL_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<num>[+-]?(?:inf|nan)(?![\w.])"
    r"|[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\w]))"
    r"|(?P<str>'(?:[^'\\\n]|\\.){0,1000}'|\"(?:[^\"\\\n]|\\.){0,1000}\")"
    r"|(?P<name>[A-Za-z_][\w.]{0,60})"
    r"|(?P<opaque><class\s'[\w.]{1,60}'>|<[\w.]{1,60}>)"
    r"|(?P<skip>\.\.\.|…|,)"
    r"|(?P<punct>[\[\](){}:=])"
    r"|(?P<other>.)",
    re.DOTALL,
)
_CONSTANTS: dict[str, object] = {
    "None": None,
    "null": None,
    "NaT": None,
    "True": True,
    "true": True,
    "False": False,
    "false": False,
    "NaN": float("nan"),
    "nan": float("nan"),
    "inf": float("inf"),
}
_ARRAY_NAMES = frozenset({"array", "matrix", "tensor", "masked_array"})
_CLOSER = {"[": "]", "(": ")", "{": "}"}
_COLON = object()  # a dict's key-value separator, among a frame's items
_OPAQUE = object()  # ``<class 'int'>``: defaultdict's factory


class _LiteralError(Exception):
    """The text stops being a literal here."""


class _Frame:
    __slots__ = ("items", "name", "open", "skip_next")

    def __init__(self, open_: str, name: str | None) -> None:
        self.open = open_
        self.name = name
        self.items: list[object] = []
        self.skip_next = False  # the next value is a keyword argument's: dropped

    def add(self, value: object) -> None:
        if self.skip_next:
            self.skip_next = False
            return
        if len(self.items) >= MAX_LITERAL_ITEMS:
            raise _LiteralError(
                f"a printed container of over {MAX_LITERAL_ITEMS:,} items was not read"
            )
        self.items.append(value)

    def close(self, closer: str) -> object:
        if closer != _CLOSER[self.open]:
            raise _LiteralError
        items = self.items
        if self.open == "{":
            if not items:
                return {}
            if len(items) % 3 or any(items[k] is not _COLON for k in range(1, len(items), 3)):
                if any(x is _COLON for x in items):
                    raise _LiteralError
                return list(items)  # a set
            result: dict[object, object] = {}
            for k in range(0, len(items), 3):
                key = items[k]
                if isinstance(key, list):
                    key = tuple(key)
                try:
                    result[key] = items[k + 2]
                except TypeError:  # a key that is not hashable
                    raise _LiteralError from None
            return result
        if any(x is _COLON for x in items):
            raise _LiteralError
        if self.name is None:
            if self.open == "[":
                return list(items)
            return _Tuple(items) if self.open == "(" else list(items)
        # a call: it stands for its one positional argument
        positional = [x for x in items if x is not _OPAQUE]
        if len(positional) != 1:
            raise _LiteralError
        (value,) = positional
        if isinstance(value, list) and self.name.rsplit(".", 1)[-1] in _ARRAY_NAMES:
            return _Array(value)
        return value


def _unquote(token: str) -> str:
    """A string literal's text: the common escapes decoded, others kept as written."""
    body = token[1:-1]
    if "\\" not in body:
        return body
    return re.sub(
        r"\\(.)",
        lambda m: {"n": "\n", "t": "\t", "\\": "\\", "'": "'", '"': '"'}.get(m.group(1), m.group()),
        body,
    )


def _is_container(value: object) -> bool:
    return isinstance(value, dict | list)


def _literals(text: str, cut: list[str] | None = None) -> list[object]:
    """The containers written as Python or numpy literals in ``text``, outermost first;
    a limit that stops the reading is noted in ``cut``."""
    found: list[object] = []
    stack: list[_Frame] = []
    pos, tokens, length = 0, 0, len(text)

    def salvage() -> None:
        for frame in stack:
            found.extend(x for x in frame.items if _is_container(x))
        stack.clear()

    while pos < length and len(found) < MAX_LITERALS:
        if not stack:
            opener = _OPENER.search(text, pos)
            if opener is None:
                break
            stack.append(_Frame(opener.group("open") or "(", opener.group("call")))
            pos = opener.end()
            continue
        m = _LITERAL_TOKEN.match(text, pos)
        if m is None:  # cannot happen: "other" matches any character
            break
        pos = m.end()
        kind, lexeme = m.lastgroup, m.group()
        if kind in ("space", "skip"):
            continue
        tokens += 1
        if tokens > MAX_LITERAL_TOKENS:
            _note(cut, f"printed containers were read up to {MAX_LITERAL_TOKENS:,} tokens")
            break
        frame = stack[-1]
        try:
            if kind == "num":
                frame.add(float(lexeme) if any(c in lexeme for c in ".eEin") else int(lexeme))
            elif kind == "str":
                frame.add(_unquote(lexeme))
            elif kind == "name":
                rest = text[pos : pos + 2]
                if rest[:1] == "(":
                    if len(stack) >= MAX_LITERAL_DEPTH:
                        raise _LiteralError(_TOO_DEEP)
                    stack.append(_Frame("(", lexeme))
                    pos += 1
                elif frame.name is not None and rest[:1] == "=" and rest != "==":
                    frame.skip_next = True  # a keyword argument: name=value
                    pos += 1
                elif frame.skip_next:
                    frame.add(None)  # dtype=object: the value of a skipped keyword
                elif lexeme in _CONSTANTS:
                    frame.add(_CONSTANTS[lexeme])
                else:
                    raise _LiteralError
            elif kind == "opaque":
                frame.add(None if lexeme == "<NA>" else _OPAQUE)
            elif kind == "punct" and lexeme in _CLOSER:
                if len(stack) >= MAX_LITERAL_DEPTH:
                    raise _LiteralError(_TOO_DEEP)
                stack.append(_Frame(lexeme, None))
            elif kind == "punct" and lexeme in ")]}":
                value = stack.pop().close(lexeme)
                if stack:
                    stack[-1].add(value)
                elif _is_container(value):
                    found.append(value)
            elif kind == "punct" and lexeme == ":" and frame.open == "{" and frame.name is None:
                frame.items.append(_COLON)
            else:
                raise _LiteralError
        except _LiteralError as exc:
            if exc.args:
                _note(cut, str(exc.args[0]))
            salvage()
    salvage()
    if len(found) >= MAX_LITERALS and pos < length:
        _note(cut, f"only its first {MAX_LITERALS:,} printed containers were read")
    return found[:MAX_LITERALS]


def find_literal_tables(text: str, cut: list[str] | None = None) -> list[list[list[str]]]:
    """Grids of the Python and numpy printouts in ``text`` (``{'M': 45, 'F': 3}``,
    ``Counter(...)``, ``[('M', 45), ...]``, ``(array([...]), array([...]))``, ``[[22  2]
    [22  2]]``), read as :func:`find_json_tables` reads JSON; a limit reached is noted in
    ``cut``."""
    grids: list[list[list[str]]] = []
    for value in _literals(text, cut):
        grids += find_json_tables(value)
        if len(grids) > MAX_LITERAL_GRIDS:
            _note(cut, f"only its first {MAX_LITERAL_GRIDS:,} printed containers were read")
            break
    return grids[:MAX_LITERAL_GRIDS]
