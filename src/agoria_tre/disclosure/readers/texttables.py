"""Tables printed as text: Markdown tables and pandas' aligned ``print(df)`` form.

A count can leave as text just as well as in a CSV, so text outputs are searched for grids
of numbers, which are then checked like any table. The search is deliberately simple and
errs on the side of finding tables: a block of lines is a table when every data line has
the header's columns plus one label, and its values are numbers.
"""

from __future__ import annotations

import re

_MD_SEPARATOR = re.compile(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
MAX_LINES = 20_000


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


def _aligned(block: list[str]) -> list[list[str]] | None:
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


def _aligned_positions(block: list[str]) -> list[list[str]] | None:
    """pandas right-aligns each column's name and values on one end position: the ends
    shared by the trailing values of every line and by a header name are the columns."""
    lines = [line.rstrip() for line in block if line.strip()]
    lines = [line for line in lines if not _FOOTER.fullmatch(line.strip())]
    for start in (0, 1):  # a title line directly above the table
        if len(lines) - start < 2:
            return None
        header = lines[start]
        body = []
        for line in lines[start + 1 :]:
            tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(line)]
            if all(_ELLIPSIS.fullmatch(t[2]) for t in tokens):
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
        for line, tokens in body:
            at = {end: (begin, token) for begin, end, token in tokens if end in ends}
            first = at[ends[0]][0]
            if any(begin >= first and end not in at for begin, end, _ in tokens):
                rows = []
                break  # a value between the columns: not this layout
            rows.append([line[:first].strip(), *(_cell(at[e][1]) for e in ends)])
        if not rows:
            continue
        names, previous = [], 0
        for end in ends:
            names.append(_GAP.split(header[previous:end].strip())[-1])
            previous = end
        return [["", *names], *rows]
    return None


def _aligned_words(block: list[str]) -> list[list[str]] | None:
    """pandas' ``print(df)`` and ``print(series)``: label words, then one value per column.

    A header of column names comes first for a frame (possibly preceded by the columns'
    name, and followed by the index name alone on its line); a series has no header and a
    ``Name: …, dtype: …`` footer. One line of title above the table is tolerated.
    """
    lines = [line.split() for line in block if line.strip() and not _FOOTER.fullmatch(line.strip())]
    for start in (0, 1):  # a title line directly above the table
        candidate = lines[start:]
        if len(candidate) < 2:
            return None
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


def find_text_tables(text: str) -> list[list[list[str]]]:
    """Grids (first row = header, first column = labels) found in ``text``."""
    lines = text.splitlines()[:MAX_LINES]
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
        grid = _markdown(block) if block[0].lstrip().startswith("|") else _aligned(block)
        if grid is None and any(c in "".join(block) for c in "|│&"):
            grid = _delimited(block)
        if grid is not None:
            grids.append(grid)
    return grids


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def find_json_tables(value: object) -> list[list[list[str]]]:
    """Grids in a JSON document: ``{"A": 3, "B": 50}`` (one row), ``{"col": {"row": n}}``
    (pandas' ``to_json()``), and lists of records ``[{"a": 1, "b": 2}, ...]``."""
    grids: list[list[list[str]]] = []
    stack = [value]
    while stack:
        item = stack.pop()
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
                if all(_is_number(x) for v in inner for x in v.values()):
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
