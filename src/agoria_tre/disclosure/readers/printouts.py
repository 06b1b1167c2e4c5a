"""Tables in JSON documents and in Python and numpy printouts, read without evaluating them.

Each function returns grids (header row first, first column the labels) for the checker to
check as tables; where a limit stops the reading, the reason is added to ``cut``: what was
not read is never passed."""

from __future__ import annotations

import itertools
import re


def note(cut: list[str] | None, reason: str) -> None:
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


def find_json_tables(value: object, read: set[int] | None = None) -> list[list[list[str]]]:
    """Grids in a JSON document: ``{"A": 3, "B": 50}`` (one row), ``{"col": {"row": n}}``
    (pandas' ``to_json()``), lists of records ``[{"a": 1, "b": 2}, ...]``, columns by name
    ``{"sex": ["M", "F"], "n": [45, 3]}``, rows of a label and numbers ``[["M", 45], ...]``,
    columns side by side ``[["F", "M"], [3, 45]]`` and a histogram's (counts, edges)."""
    grids: list[list[list[str]]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        grid = _json_grid(item)
        if grid is not None:
            grids.append(grid)
            if read is not None:
                read.add(id(item))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return grids


def longest_list(value: object) -> int:
    """The length of the longest list in a JSON document: a table of records, a column or
    a series has one row per item, so a list longer than the row limit is a table past it."""
    longest, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            longest = max(longest, len(item))
            stack.extend(x for x in item if isinstance(x, list | dict))
        elif isinstance(item, dict):
            stack.extend(x for x in item.values() if isinstance(x, list | dict))
    return longest


def _json_grid(item: object) -> list[list[str]] | None:
    """The grid one JSON value is, or None when it is none (its parts may be)."""
    if isinstance(item, list) and item:
        grid = _parallel(item) or _labelled_rows(item)
        if grid is not None:
            return grid
    if isinstance(item, dict) and item and not {"columns", "data"} <= set(item):
        grid = _columns_by_name(item)
        if grid is not None:
            return grid
    if isinstance(item, dict) and {"columns", "data"} <= set(item):  # orient="split"
        columns, data = item["columns"], item["data"]
        index = item.get("index") or list(range(len(data) if isinstance(data, list) else 0))
        if (
            isinstance(columns, list)
            and isinstance(data, list)
            and all(isinstance(r, list) and len(r) == len(columns) for r in data)
        ):
            return [
                ["", *map(str, columns)],
                *[[str(i), *map(str, r)] for i, r in zip(index, data, strict=False)],
            ]
    if (
        isinstance(item, list)
        and item
        and all(isinstance(r, list) and r and all(_is_number(x) for x in r) for r in item)
    ):  # orient="values": rows of numbers
        width = max(len(r) for r in item)
        return [
            ["", *(str(j) for j in range(width))],
            *[[str(i), *(str(x) for x in r)] for i, r in enumerate(item)],
        ]
    if isinstance(item, dict) and item:
        if all(_is_number(v) for v in item.values()):
            return [["", *map(str, item)], ["", *(str(v) for v in item.values())]]
        if all(isinstance(v, dict) for v in item.values()):
            columns = list(map(str, item))
            rows = list(dict.fromkeys(str(r) for v in item.values() for r in v))
            inner = [{str(k): x for k, x in v.items()} for v in item.values()]
            cells = [x for v in inner for x in v.values()]
            if all(map(_is_scalar, cells)) and any(map(_is_number, cells)):
                if _by_row(columns, inner):  # orient="index": the outer keys are the rows
                    return [
                        ["", *rows],
                        *[
                            [column, *(str(v.get(row, "")) for row in rows)]
                            for column, v in zip(columns, inner, strict=True)
                        ],
                    ]
                return [
                    ["", *columns],
                    *[[row, *(str(v.get(row, "")) for v in inner)] for row in rows],
                ]
    elif isinstance(item, list) and item and all(isinstance(r, dict) for r in item):
        keys = list(dict.fromkeys(str(k) for r in item for k in r))
        records = [{str(k): v for k, v in r.items()} for r in item]
        if any(_is_number(v) for r in records for v in r.values()):
            return [
                ["", *keys],
                *[[str(i), *(str(r.get(k, "")) for k in keys)] for i, r in enumerate(records)],
            ]
    return None


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
            note(cut, f"printed containers were read up to {MAX_LITERAL_TOKENS:,} tokens")
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
                note(cut, str(exc.args[0]))
            salvage()
    salvage()
    if len(found) >= MAX_LITERALS and pos < length:
        note(cut, f"only its first {MAX_LITERALS:,} printed containers were read")
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
            note(cut, f"only its first {MAX_LITERAL_GRIDS:,} printed containers were read")
            break
    return grids[:MAX_LITERAL_GRIDS]
