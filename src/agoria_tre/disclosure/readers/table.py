"""Tables: parsed from CSV/TSV (or an HTML grid), checked and rewritten in one dialect.

A :class:`Table` has label columns (the index: categories, row names) and data columns.
Data cells are numbers, suppression markers (empty, ``*``, ``<11``, ``≤10``…) or text. The
canonical form is CSV with ``,`` as delimiter, ``\\n`` line ends, minimal quoting, UTF-8 and
``.`` as decimal point: only that form is checked, shown to reviewers and released.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
from numpy.typing import NDArray

from agoria_tre.disclosure.policy import Limits
from agoria_tre.disclosure.report import RuleResult, flagged
from agoria_tre.disclosure.status import Status

TABLE_SUFFIXES = (".csv", ".tsv")  # the names of files read as tables
NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
DECIMAL_COMMA_RE = re.compile(r"[+-]?\d+,\d+")
# "<11", "< 11", "<=10", "≤10": the cell is below the number; "*", "x", "c", "..": hidden.
BELOW_RE = re.compile(r"(<=?|≤)\s*(\d+)")
MARKER_RE = re.compile(
    r"\*+|[xXc]|\.\.\.?|…|[-\u2012-\u2015\u2212]+|[•·‡†§¤#]+|n/?a|NA|N/A|s|S|\?"
    r"|[\[(](?:c|x|z|s|u|low|\*|-|\u2013|…)[\])]",  # ONS "[c]", "[x]", "[z]", "[low]", "(c)"
    re.IGNORECASE,
)
# Words that statistical offices and researchers write for a cell they hide (or cannot
# publish): "masqué", "secret", "NC" (non communiqué), "ND", "NR", "suppressed"…
MARKER_WORDS = frozenset(
    {
        "masqué",
        "masquée",
        "masqués",
        "masquées",
        "masque",
        "caché",
        "cachée",
        "occulté",
        "secret",
        "secret stat",
        "secret statistique",
        "secret stat.",
        "ss",
        "confidentiel",
        "confidentielle",
        "confidential",
        "conf",
        "conf.",
        "suppressed",
        "suppr",
        "suppr.",
        "supprimé",
        "supprimée",
        "supprime",
        "redacted",
        "censored",
        "censuré",
        "hidden",
        "withheld",
        "nc",
        "nd",
        "nr",
        "np",
        "nd.",
        "n.c.",
        "n.d.",
        "n.r.",
        "n.p.",
        "n.a.",
        "n/c",
        "n/d",
        "n/r",
        "na.",
        "s.o.",
        "sans objet",
        "non communiqué",
        "non disponible",
        "non diffusé",
        "non diffusable",
        "non publié",
        "not shown",
        "not published",
        "not available",
        "too small",
    }
)
MISSING_WORDS = {"nan", "NaN", "NAN", "None", "null", "NULL", "<NA>", "NaT"}
# "1 234", "1,234" (a quoted field), "1 234": thousands separators.
THOUSANDS_RE = re.compile(r"[+-]?\d{1,3}(?:[ ,\u00a0\u202f]\d{3})+(?:\.\d+)?")
# "3 (30%)", "12 (4.5 %)": the clinical "n (%)" form; the count is what matters.
COUNT_PERCENT_RE = re.compile(r"(\d+)\s*\(\s*\d+(?:[.,]\d+)?\s*%?\s*\)")
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
MARGIN_LABELS = {
    "all",
    "total",
    "totals",
    "grand total",
    "ensemble",
    "total général",
    "total general",
    "totaux",
    "somme",
    "sum",
    "overall",
}


def _fail(rule: str, summary: str) -> RuleResult:
    return flagged(rule, Status.FAIL, summary)


@dataclass(frozen=True)
class Table:
    """A parsed table. ``cells[i][j]`` is the text of data cell (i, j), labels excluded."""

    label_names: tuple[str, ...]
    header: tuple[str, ...]
    row_labels: tuple[tuple[str, ...], ...]
    cells: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.cells), len(self.header))

    @cached_property
    def _parsed(
        self,
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64], NDArray[np.bool_]]:
        rows, cols = self.shape
        values = np.full((rows, cols), np.nan)
        hidden = np.zeros((rows, cols), dtype=bool)
        below = np.full((rows, cols), np.nan)
        unparsed = np.zeros((rows, cols), dtype=bool)
        words = np.zeros((rows, cols), dtype=bool)
        for i, row in enumerate(self.cells):
            for j, text in enumerate(row):
                kind, number = _cell_kind(text)
                if kind is _NUMBER:
                    values[i, j] = number
                elif kind is _HIDDEN:
                    hidden[i, j] = True
                elif kind is _BELOW:
                    hidden[i, j] = True
                    below[i, j] = number
                elif kind is _UNPARSED:
                    unparsed[i, j] = True
                else:
                    words[i, j] = True
        # A word in a column of numbers stands where a number was: whatever it says
        # ("protégé", "see note"), the value is hidden, and margins may recompute it.
        numeric_columns = (~np.isnan(values)).any(axis=0)
        hidden |= words & numeric_columns[np.newaxis, :]
        return values, hidden, below, unparsed

    @property
    def values(self) -> NDArray[np.float64]:
        """Numbers of the data cells; NaN where a cell is hidden, missing or text."""
        return self._parsed[0]

    @property
    def suppressed(self) -> NDArray[np.bool_]:
        """Cells shown as empty or with a suppression marker."""
        return self._parsed[1]

    @property
    def upper_bounds(self) -> NDArray[np.float64]:
        """For cells written ``<N`` or ``≤N``: the largest value they may hold; else NaN."""
        return self._parsed[2]

    @cached_property
    def empty(self) -> NDArray[np.bool_]:
        """Cells left empty (as opposed to hidden behind a marker such as ``*``)."""
        return np.array([[text == "" for text in row] for row in self.cells], dtype=bool).reshape(
            self.shape
        )

    @property
    def unparsed(self) -> NDArray[np.bool_]:
        """Cells holding digits that are not a number the checker can read ("3 cases")."""
        return self._parsed[3]

    @cached_property
    def margin_rows(self) -> tuple[int, ...]:
        return tuple(
            i
            for i, labels in enumerate(self.row_labels)
            if any(label.strip().lower() in MARGIN_LABELS for label in labels)
        )

    @cached_property
    def margin_columns(self) -> tuple[int, ...]:
        statistics = set(self.statistic_columns)
        return tuple(
            j
            for j, name in enumerate(self.header)
            if name.strip().lower() in MARGIN_LABELS and j not in statistics
        )

    @cached_property
    def statistic_columns(self) -> tuple[int, ...]:
        """Data columns whose header names a magnitude statistic (``sum``, ``mean``,
        ``moyenne``, ``std``…): their cells are not counts of units, even when whole.

        ``sum``/``somme`` is a margin only as the last of several columns of a table
        without other statistics (R's ``addmargins``); ``total`` is a statistic only
        beside other statistics (``hospital,total,mean``)."""
        tokens = [statistic_tokens(name) for name in self.header]
        strong = {j for j, words in enumerate(tokens) if words & STRONG_STATISTIC_WORDS}
        found = set(strong)
        last = len(self.header) - 1
        for j, (name, words) in enumerate(zip(self.header, tokens, strict=True)):
            key = " ".join(name.split()).lower()
            if words & SUM_WORDS:
                margin = key in MARGIN_LABELS and j == last and last >= 1 and not strong
                if not margin:
                    found.add(j)
            elif key in {"total", "totals", "totaux"} and strong:
                found.add(j)
        return tuple(sorted(found))

    def all_integer(self) -> bool:
        """Whether the table reads as counts: every visible number is a whole number (a
        frequency table's cells) and no column is named as a magnitude statistic."""
        if self.statistic_columns:
            return False
        shown = self.values[~np.isnan(self.values)]
        return bool(shown.size) and bool(np.all(shown == np.round(shown)))

    def canonical_csv(self) -> bytes:
        """The released form. A cell a spreadsheet would run as a formula is written with a
        leading apostrophe (``'=HYPERLINK(...)``), as OWASP advises; numbers stay as they are."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([inert(c) for c in [*self.label_names, *self.header]])
        for labels, row in zip(self.row_labels, self.cells, strict=True):
            writer.writerow([inert(c) for c in [*labels, *row]])
        return out.getvalue().encode("utf-8")


_FORMULA_START = frozenset("=+-@\t\r")
_SIGNED_NUMBER = re.compile(r"[+-](?:[0-9][0-9 .,]*%?)?")  # a lone "-" marks a blank too


@lru_cache(maxsize=65536)
def inert(cell: str) -> str:
    """``cell`` as a spreadsheet cannot run it: a formula's first character (``=``, ``+``,
    ``-``, ``@``, a tab, a carriage return) escaped with an apostrophe, unless the cell is a
    signed number (``-5``, ``+2.5 %``) or a lone sign."""
    if cell[:1] in _FORMULA_START and not _SIGNED_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


_STATISTIC_WORD_RE = re.compile(r"[a-zà-ÿ0-9]+")
STRONG_STATISTIC_WORDS = frozenset(
    {
        "mean",
        "means",
        "moyenne",
        "moyennes",
        "moyen",
        "moyens",
        "moy",
        "average",
        "avg",
        "median",
        "médiane",
        "mediane",
        "médian",
        "std",
        "sd",
        "stdev",
        "stddev",
        "var",
        "variance",
        "sem",
        "écart",
        "ecart",
        "mad",
    }
)
SUM_WORDS = frozenset({"sum", "sums", "somme", "sommes", "cumul", "cumulé"})


_CAMEL = re.compile(r"([a-z])([A-Z])")


def statistic_tokens(name: str) -> set[str]:
    """The words of a header, camelCase and snake_case split, lower-cased."""
    if name.isascii() and name.isalnum() and name.lower() == name:
        return {name}  # one word already ("r12", "mean"): most row labels
    spaced = _CAMEL.sub(r"\1 \2", name).replace("_", " ").lower()
    return set(_STATISTIC_WORD_RE.findall(spaced))


def label_key(text: str) -> str:
    """A label as tables of the same request are matched on: lower case, spaces collapsed."""
    return " ".join(text.lower().split())


@lru_cache(maxsize=65536)
def is_marker(text: str) -> bool:
    """Whether a cell's text is a suppression marker ("*", "x", "[c]", "masqué", "NC"…)."""
    return MARKER_RE.fullmatch(text) is not None or label_key(text) in MARKER_WORDS


_NUMBER, _HIDDEN, _BELOW, _UNPARSED, _WORD = "number", "hidden", "below", "unparsed", "word"


@lru_cache(maxsize=65536)
def _cell_kind(text: str) -> tuple[str, float]:
    """What a data cell shows, and its number: a number, a hidden cell (empty or a marker),
    a cell below a bound (``<11``: the largest value it may hold), a number the checker
    cannot read, or a word."""
    value = _number(text)
    if value is not None:
        return _NUMBER, value
    if text == "" or is_marker(text):
        return _HIDDEN, math.nan
    if match := BELOW_RE.fullmatch(text):
        limit = float(match.group(2))
        return _BELOW, max(0.0, limit if match.group(1) != "<" else limit - 1)
    if any(c.isdigit() for c in text):
        return _UNPARSED, math.nan
    return _WORD, math.nan


def number(text: str) -> float | None:
    """The count or measure a cell shows, in the forms tables use; None if it shows none."""
    return _number(text)


@lru_cache(maxsize=65536)  # tables repeat their counts: each spelling parsed once
def _number(text: str) -> float | None:
    """The count or measure a cell shows, in the forms tables use; None if it shows none."""
    if NUMBER_RE.fullmatch(text):
        value = float(text)
    elif THOUSANDS_RE.fullmatch(text):
        value = float(re.sub(r"[ ,\u00a0\u202f]", "", text))
    elif match := COUNT_PERCENT_RE.fullmatch(text):
        value = float(match.group(1))
    else:
        return None
    return value if math.isfinite(value) else None


@lru_cache(maxsize=65536)
def _normalise_cell(text: str, decimal_comma: bool) -> str:
    cleaned = text.translate(INVISIBLE).strip()
    if cleaned in MISSING_WORDS:
        return ""
    if decimal_comma and DECIMAL_COMMA_RE.fullmatch(cleaned):
        return cleaned.replace(",", ".")
    return cleaned


@lru_cache(maxsize=65536)
def _is_value(text: str) -> bool:
    return (
        text == ""
        or _number(text) is not None
        or is_marker(text)
        or BELOW_RE.fullmatch(text) is not None
    )


def is_label_column(cells: Sequence[str]) -> bool:
    """Half or more text: a label column; mostly numbers: data. Suppression markers are
    values; so is a single word repeated among numbers ("NC", "NC", "3", "45"): an
    unknown marker hiding cells, never labels (a margin word such as "Total" excepted)."""
    words = [c for c in cells if not _is_value(c)]
    if 2 * len(words) < len(cells):
        return False
    distinct = {" ".join(w.split()).lower() for w in words}
    numbers = sum(_number(c) is not None for c in cells)
    return not (numbers and len(words) >= 2 and len(distinct) == 1 and not distinct & MARGIN_LABELS)


def table_from_grid(
    rows: Sequence[Sequence[str]],
    *,
    label_columns: int | None = None,
    decimal_comma: bool = False,
    notes: Sequence[str] = (),
) -> Table:
    """Split a rectangular grid (first row = header) into labels and data.

    Without ``label_columns``, the label columns are the leading columns holding any text
    that is neither a number nor a suppression marker: what remains is the data.
    """
    grid = [[_normalise_cell(c, decimal_comma) for c in row] for row in rows]
    header, body = grid[0], grid[1:]
    width = len(header)
    if label_columns is None:
        # Labels are the leading columns of text; a text cell further right is data that the
        # checker could not read, never a reason to stop checking the columns before it.
        label_columns = 0
        while label_columns < width - 1 and is_label_column([row[label_columns] for row in body]):
            label_columns += 1
    return Table(
        label_names=tuple(header[:label_columns]),
        header=tuple(header[label_columns:]),
        row_labels=tuple(tuple(row[:label_columns]) for row in body),
        cells=tuple(tuple(row[label_columns:]) for row in body),
        notes=tuple(notes),
    )


MAX_HEADER_ROWS = 4  # levels of a pandas MultiIndex header read as one


def _index_names_row(row: Sequence[str]) -> int:
    """How many leading names a pandas index-names line holds (``region,sex,,,``: 2), or 0
    if ``row`` is not one: names first, then only empty cells."""
    cells = [c.strip() for c in row]
    k = 0
    while k < len(cells) and cells[k] and _number(cells[k]) is None:
        k += 1
    return k if 0 < k < len(cells) and not any(cells[k:]) else 0


def _merge_header_rows(rows: list[list[str]]) -> tuple[list[list[str]], int]:
    """A pandas MultiIndex header (``to_csv()`` of ``groupby().agg([...])``): its levels,
    one row each (``,age,age`` / ``,count,mean``), then the index's names (``region,,``),
    read as one header of joined names (``age / count``). Returns the rows and how many
    header rows were joined (1 if none)."""
    if len(rows) < 3:
        return rows, 1
    first = [c.strip() for c in rows[0]]
    repeats = any(a and a == b for a, b in itertools.pairwise(first))
    top = min(MAX_HEADER_ROWS, len(rows) - 2)
    names_at = next((k for k in range(2, top + 1) if _index_names_row(rows[k])), 0)
    if names_at:  # levels (numbers allowed: years), then the index's names
        levels, names_row = names_at, _index_names_row(rows[names_at])
        # Over the index, pandas leaves the level rows empty but for a level's name.
        if any(c.strip() for row in rows[:levels] for c in row[1:names_row]):
            return rows, 1
        numbers = any(_number(c.strip()) is not None for row in rows[1:levels] for c in row)
        if not repeats and (numbers or rows[0][0].strip()):
            return rows, 1
    else:
        levels, names_row = 1, 0
        while levels < top and not any(_number(c.strip()) is not None for c in rows[levels]):
            levels += 1
        if levels < 2 or not repeats:
            return rows, 1
    width = len(rows[0])
    header = []
    for j in range(width):
        if names_row and j < names_row:
            header.append(rows[levels][j])
            continue
        parts: list[str] = []
        for row in rows[:levels]:
            part = row[j].strip()
            if part and part not in parts:
                parts.append(part)
        header.append(" / ".join(parts))
    body = rows[levels + (1 if names_row else 0) :]
    return [header, *body], levels


def _sniff_delimiter(first_line: str, name: str) -> str:
    if name.lower().endswith(".tsv"):
        return "\t"
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # C0 controls but tab, CR, LF


def parse_csv(
    data: bytes,
    limits: Limits,
    *,
    name: str,
    label_columns: int | None = None,
) -> Table | RuleResult:
    """Parse an untrusted CSV/TSV file; a refusal comes back as a failing rule, never raised."""
    if len(data) > limits.max_bytes:
        return _fail(
            "file.limits",
            f"the file has {len(data):,} bytes, over the limit of {limits.max_bytes:,}",
        )
    if b"\x00" in data:
        return _fail("file.type", "type not allowed: binary content in a file named as a table")
    notes: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            return _fail(
                "file.type", "type not allowed: the table is neither UTF-8 nor Windows-1252"
            )
        notes.append("decoded as Windows-1252 and rewritten as UTF-8")
    if _CONTROL.search(text):
        return _fail("file.type", "type not allowed: control characters in a file named as a table")
    first_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line, name)
    decimal_comma = delimiter == ";"
    if delimiter != ",":
        notes.append(
            f"read with delimiter {delimiter!r}" + (" and decimal commas" if decimal_comma else "")
        )
    rows: list[list[str]] = []
    cells = 0
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            rows.append(row)
            cells += len(row)
            if len(rows) > limits.max_rows + 1:
                return _fail("file.limits", f"the table has more than {limits.max_rows:,} rows")
            if len(row) > limits.max_columns:
                return _fail(
                    "file.limits",
                    f"line {reader.line_num} has {len(row):,} columns, over the limit of"
                    f" {limits.max_columns:,}",
                )
            if cells > limits.max_cells:
                return _fail("file.limits", f"the table has more than {limits.max_cells:,} cells")
    except csv.Error as exc:
        return _fail("file.unreadable", f"not a readable table: line {reader.line_num}: {exc}")
    if len(rows) < 2:
        return _fail("file.unreadable", "not a readable table: no data rows under the header")
    width = len(rows[0])
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            return _fail(
                "file.unreadable",
                f"not a readable table: row {number} has {len(row)} fields, the header has"
                f" {width} (a truncated or hand-edited file?)",
            )
    if label_columns is None:
        rows, levels = _merge_header_rows(rows)
        if levels > 1:
            notes.append(f"{levels} header rows (a pandas MultiIndex) read as one header")
    return table_from_grid(
        rows, label_columns=label_columns, decimal_comma=decimal_comma, notes=notes
    )
