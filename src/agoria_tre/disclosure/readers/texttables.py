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
