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


def _aligned(block: list[str]) -> list[list[str]] | None:
    """pandas' ``to_string``: a header of column names, then label + values per line."""
    lines = [line.split() for line in block]
    lines = [tokens for tokens in lines if tokens]
    while lines and len(lines[0]) == 1 and len(lines) > 2:
        lines = lines[1:]  # an index name printed on its own line ("sex")
    if len(lines) < 2:
        return None
    header, body = lines[0], [t for t in lines[1:] if len(t) != 1]
    if body and len(header) >= 2 and all(len(row) == len(header) for row in body):
        header = header[1:]  # the columns' name printed before them ("drug  A  B")
    width = len(header)
    if width < 1 or not body or any(len(row) != width + 1 for row in body):
        return None
    if not all(_NUMBER.fullmatch(value) for row in body for value in row[1:]):
        return None
    return [["", *header], *body]


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
