"""Direct identifiers in outputs: NIR, e-mail addresses, phone numbers, dates, pseudonyms.

Why: an aggregate may only leave the platform if no text in it points at a person. A
notebook's cells and outputs, the documents beside it, and the labels and cells of a table
are therefore all scanned for what identifies someone directly (SDC.md, "direct
identifiers", "dates", "pseudonyms"):

``identifier.nir`` (fail)
    a French social security number: sex (1, 2, or 3, 4, 7, 8 for temporary numbers), year,
    month (01-12, or the special values 20-42 and 50-99), département (2 digits, or 2A/2B
    for Corsica), commune (3 digits), order (3 digits), then the key 97 - (number mod 97)
    where 2A counts as 19 and 2B as 18. Groups may be separated by one space, no-break
    space, dot or hyphen, or the digits grouped by thousands (``185,057,800,608,491``,
    ``185 057 800 608 491``), one kind of separator throughout. Reported when the key is
    present and valid, or when there is no key and a word naming the number (NIR, NSS,
    sécu, sécurité sociale, INSEE, social security) is beside it: within 60 characters
    before or 30 after in text; in the cell, its column header or its row's labels in a
    table. A wrong key is never reported: an
    ordinary 15-digit number validates only by chance (1 in 97), after the month check.
``identifier.email`` (fail)
    an e-mail address whose top-level domain is a 2-letter country code or a common generic
    one, so that ``X@beta.values`` (matrix product in notebook code) is not one.
``identifier.phone`` (fail)
    a French number: ``0X XX XX XX XX`` (X of the first pair 1-9) with one kind of separator
    (space, dot, hyphen) or none, and ``+33``/``0033`` forms, ``+33 (0)6 ...`` and ``+33 06
    ...`` (the trunk 0 kept) included. A candidate inside a longer run of digits, a
    decimal (``0612345678.5``) or a run of separated digit groups is not one.
``identifier.date`` (fail)
    a full date (day, month and year): ISO ``2026-11-28`` (time allowed after it), numeric
    ``28/11/2026``, ``28.11.2026``, ``28-11-2026``, ``11/28/2026``, ``28/11/26``, written
    ``28 novembre 2026``, ``1er janvier 2026``, ``28NOV2026``, ``Nov 28, 2026``. A year and
    month, or a year, is not a full date. It fails when its line (text), or its own text,
    column header or row labels (table), name a birth date (naissance, date_naiss, DDN,
    DOB, birth, né(e) le), or when a pseudonym is on the same line or table row. Other full
    dates (a study period, a data freeze, the print date of a model summary) are not
    identifiers by themselves: they are counted in a failing result's summary, never
    flagged; where they sit in a listing of records, the row-level rule fails it.
``identifier.pseudonym`` (fail)
    a value shaped like the platform's pseudonyms (26 characters of base32, ``A-Z`` and
    ``2-7``, with digits and letters both), known to the check or not, or a value of the
    project's pseudonymised identifier columns. Text is cut into tokens at
    every character that is not a letter or digit, and each token is looked up in the set:
    the cost does not grow with the number of pseudonyms. A pseudonym that itself contains
    other characters (a UUID's hyphens) is found from its first letter-and-digit run.

Contract: both functions return one :class:`RuleResult` per rule that found something, in
the order of :data:`RULES`, and nothing for a rule that found nothing: the caller adds the
``pass`` results (``passed(rule, ...)`` for each name of :data:`RULES` not returned).
Findings are aggregated per rule: one count, one status (the worst), every flagged cell; a
failing date result also lists the cells of its dates for review, and its summary says how
many of each there are.
Summaries never repeat an identifier (the report may be released): they give counts, the
caller's ``where``, positions in words, and masked examples (``j***@***.fr``, ``06 ** ** **
**``); dates, NIRs and pseudonyms are never shown at all.

Both functions accept any text, binary garbage decoded as text included, and never raise on
it. Every pattern is anchored so that each start position costs a bounded amount of work,
and candidates are checked afterwards in Python, so scanning is linear in the text's size.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from datetime import date

from agoria_tre.disclosure.report import Cell, RuleResult, flagged, plural
from agoria_tre.disclosure.status import Status

NIR = "identifier.nir"
EMAIL = "identifier.email"
PHONE = "identifier.phone"
DATE = "identifier.date"
PSEUDONYM = "identifier.pseudonym"
RULES: tuple[str, ...] = (NIR, EMAIL, PHONE, DATE, PSEUDONYM)
"""Every rule this module applies, in the order results are returned."""

# Separators between digit groups: space, no-break space and narrow no-break space (French
# typography), dot, hyphen.
_SPACES = " \u00a0\u202f"
_SEPARATORS = frozenset(_SPACES + ".-")
_DIGITS = frozenset("0123456789")
_DROP_SEPARATORS = str.maketrans("", "", _SPACES + ".-")
_DROP_GROUPING = str.maketrans("", "", _SPACES + ".-,'")
_SEP = f"[{_SPACES}.\\-]"

# --- NIR -------------------------------------------------------------------------------------

_NIR = re.compile(
    rf"(?<![^\W_])(?P<body>[1-478]{_SEP}?[0-9]{{2}}{_SEP}?[0-9]{{2}}{_SEP}?(?:[0-9]{{2}}|2[ABab])"
    rf"{_SEP}?[0-9]{{3}}{_SEP}?[0-9]{{3}})(?:{_SEP}?(?P<key>[0-9]{{2}}))?(?![^\W_])"
)
_NIR_CONTEXT = re.compile(
    r"(?<![^\W\d_])(?:(?:nir|nss|insee|s[ée]cu)(?![^\W\d_])|s[ée]curit[ée]\s+sociale"
    r"|social\s+security)",
    re.IGNORECASE,
)
# The same 15 digits grouped by thousands, as number formatting prints them
# (``f"{x:,}"``: ``185,057,800,608,491``; French ``185 057 800 608 491``), or 13 digits
# without key (``1 850 578 006 084``). One kind of separator throughout.
_NIR_THOUSANDS = re.compile(
    rf"(?<![^\W_])(?:[0-9]{{3}}|(?P<short>[0-9]))(?P<sep>[{_SPACES},.'])[0-9]{{3}}"
    rf"(?:(?P=sep)[0-9]{{3}}){{3}}(?![^\W_])"
)
_CORSICA = {"2A": "19", "2B": "18"}
_NIR_BEFORE = 60
_NIR_AFTER = 30


def _nir_key(number: str) -> int:
    """The key of a 13-character NIR: 97 - (number mod 97), 2A counted as 19 and 2B as 18."""
    number = number.upper()
    dept = number[5:7]
    return 97 - int(number[:5] + _CORSICA.get(dept, dept) + number[7:]) % 97


def _nir_month_ok(body: str) -> bool:
    month = int(body[3:5])
    return 1 <= month <= 12 or 20 <= month <= 42 or 50 <= month <= 99


# --- e-mail ----------------------------------------------------------------------------------

_LOCAL = "A-Za-z0-9._%+\\-"
# The look-behind lets only the first character of a run start an attempt: linear time.
_EMAIL = re.compile(rf"(?<![{_LOCAL}])[{_LOCAL}]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
_GENERIC_TLDS = frozenset((
    "com", "org", "net", "edu", "gov", "int", "mil", "info", "biz", "name", "pro", "mobi", "asia",
    "tel", "aero", "coop", "museum", "travel", "jobs", "app", "dev", "tech", "online", "site",
    "xyz", "email", "mail", "health", "care", "healthcare", "hospital", "clinic", "doctor",
    "dental", "pharmacy", "medical", "bio", "lab", "science", "research", "institute",
    "university", "school", "education", "academy", "cloud", "digital", "consulting", "company",
    "services", "solutions", "group", "global", "world", "life", "live", "news", "media", "studio",
    "design", "network", "systems", "today", "space", "shop", "store", "blog", "page", "social",
    "team", "work", "zone", "club", "center", "centre", "paris", "bzh", "corsica", "alsace", "eus",
))  # fmt: skip

# --- phone -----------------------------------------------------------------------------------

_PHONE = re.compile(
    rf"(?<![^\W_])(?<!\+)(?:"
    rf"(?P<intl>(?:\([{_SPACES}]?)?(?:\+|00)?33(?:[{_SPACES}]?\))?{_SEP}?"
    rf"(?:\(0\)[{_SPACES}]?|(?<=[+0]33)0|(?<=[+0]33[{_SPACES}.\-])0)?(?P<i1>[1-9])"
    rf"(?:(?P<s1>{_SEP}?)[0-9]{{2}}(?:(?P=s1)[0-9]{{2}}){{3}}"
    rf"|[0-9]{{2}}(?P<s3>{_SEP}?)[0-9]{{3}}(?P=s3)[0-9]{{3}}))"
    rf"|(?P<nat>0(?P<n1>[1-9])(?P<s2>{_SEP}?)[0-9]{{2}}(?:(?P=s2)[0-9]{{2}}){{3}})"
    rf")(?![^\W_])"
)

# --- dates -----------------------------------------------------------------------------------

_MONTHS: dict[str, int] = {
    "janvier": 1, "janv": 1, "january": 1, "jan": 1,
    "février": 2, "fevrier": 2, "févr": 2, "fevr": 2, "fév": 2, "fev": 2, "february": 2,
    "feb": 2,
    "mars": 3, "march": 3, "mar": 3,
    "avril": 4, "avr": 4, "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juin": 6, "june": 6, "jun": 6,
    "juillet": 7, "juil": 7, "july": 7, "jul": 7,
    "août": 8, "aout": 8, "august": 8, "aug": 8,
    "septembre": 9, "september": 9, "sept": 9, "sep": 9,
    "octobre": 10, "october": 10, "oct": 10,
    "novembre": 11, "november": 11, "nov": 11,
    "décembre": 12, "decembre": 12, "december": 12, "déc": 12, "dec": 12,
}  # fmt: skip
# A month is any word of 3 to 9 letters, checked against _MONTHS afterwards: a 50-way
# alternation tried at every digit would be several times slower.
_WORD = r"[^\W\d_]{3,9}(?![^\W\d_])"
_GAP = f"[{_SPACES}\\-]"
_DATE = re.compile(
    rf"(?<![^\W_])(?:"
    rf"(?P<iy>[0-9]{{4}})(?P<isep>[\-/.])(?P<im>[0-9]{{1,2}})(?P=isep)(?P<id>[0-9]{{1,2}})"
    rf"|(?P<na>[0-9]{{1,2}})(?P<nsep>[/.\-])(?P<nb>[0-9]{{1,2}})(?P=nsep)(?P<ny>[0-9]{{4}}|[0-9]{{2}})"
    rf"|(?P<td>[0-9]{{1,2}})(?:er|st|nd|rd|th)?{_GAP}?(?P<tm>{_WORD})\.?,?{_GAP}?"
    rf"(?P<ty>[0-9]{{4}})"
    rf"|(?P<um>{_WORD})\.?{_GAP}(?P<ud>[0-9]{{1,2}})(?:st|nd|rd|th)?,?{_GAP}"
    rf"(?P<uy>[0-9]{{4}})"
    rf")(?![0-9])"
)
# Birth dates are named "naissance", "date_naiss", "DATNAIS", "BEN_NAI_..." (SNDS), "DDN",
# "DOB", "birth", "né(e) le", "born on"; "nais" must start a word or follow "dat"/"dt", so
# that "connaissance" or "lyonnais" do not count.
_BIRTH = re.compile(
    r"(?:(?<![^\W\d_])|(?<=dat)|(?<=dt))nais|birth"
    r"|(?<![^\W\d_])(?:ddn|dob|nai)(?![^\W\d_])"
    r"|(?<!\w)né(?:e|\(e\))?\s+le(?!\w)|(?<!\w)born\s+on(?!\w)",
    re.IGNORECASE,
)


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _full_date(m: re.Match[str]) -> bool:
    """Whether a match of :data:`_DATE` is a real calendar date (day, month and year)."""
    if m.group("iy") is not None:
        year = int(m.group("iy"))
        return 1800 <= year <= 2199 and _valid_date(year, int(m.group("im")), int(m.group("id")))
    if m.group("na") is not None:
        a, b, y = m.group("na"), m.group("nb"), m.group("ny")
        if len(y) == 2:
            # 28/11/26: only with slashes and two-digit day and month, not 1.2.26 or 3-4-26.
            if m.group("nsep") != "/" or len(a) != 2 or len(b) != 2:
                return False
            year = 2000 + int(y)
        else:
            year = int(y)
            if not 1800 <= year <= 2199:
                return False
        return _valid_date(year, int(b), int(a)) or _valid_date(year, int(a), int(b))
    if m.group("td") is not None:
        day, word, year = int(m.group("td")), m.group("tm"), int(m.group("ty"))
    else:
        day, word, year = int(m.group("ud")), m.group("um"), int(m.group("uy"))
    month = _MONTHS.get(word.lower())
    return month is not None and 1800 <= year <= 2199 and _valid_date(year, month, day)


# --- pseudonyms ------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class _PseudonymIndex:
    """``simple``: pseudonyms that are one token. ``compound``: the others, by first token."""

    simple: frozenset[str]
    compound: dict[str, tuple[tuple[str, int], ...]]
    firsts: frozenset[str]
    folded: frozenset[str] = frozenset()  # simple pseudonyms, lower case
    heads: frozenset[str] = frozenset()  # their first _HEAD characters, lower case
    ordered: tuple[str, ...] = ()  # folded, sorted: for prefix look-ups
    exact: frozenset[str] = frozenset()  # every pseudonym as given


@functools.lru_cache(maxsize=8)
def _pseudonym_index(pseudonyms: frozenset[str]) -> _PseudonymIndex:
    # Cached: a notebook's many outputs are all scanned against the same set.
    simple: list[str] = []
    compound: dict[str, list[tuple[str, int]]] = {}
    for p in pseudonyms:
        if not isinstance(p, str) or not p:
            continue
        if _TOKEN.fullmatch(p):
            simple.append(p)
            continue
        first = _TOKEN.search(p)
        if first is not None:
            compound.setdefault(first.group(), []).append((p, first.start()))
    # Lower case, and without hyphens for compound ones (a UUID printed as uuid.hex); numeric
    # pseudonyms also without their leading zeros (read back as numbers, they lose them).
    unpadded = frozenset(
        p.lstrip("0")
        for p in pseudonyms
        if isinstance(p, str) and p.isdigit() and p.startswith("0") and len(p.lstrip("0")) >= 6
    )
    folded = (
        unpadded
        | frozenset(
            p.lower() for p in pseudonyms if isinstance(p, str) and p and _TOKEN.fullmatch(p)
        )
        | frozenset(
            _UNHYPHEN.sub("", p.lower())
            for p in pseudonyms
            if isinstance(p, str) and p and not _TOKEN.fullmatch(p)
        )
    )
    return _PseudonymIndex(
        simple=pseudonyms if len(simple) == len(pseudonyms) else frozenset(simple),
        compound={k: tuple(v) for k, v in compound.items()},
        firsts=frozenset(compound),
        folded=folded,
        heads=frozenset(p[:_HEAD] for p in folded if len(p) >= _HEAD),
        ordered=tuple(sorted(folded)),
        exact=frozenset(p for p in pseudonyms if isinstance(p, str)),
    )


# pandas shortens long strings ("3f9a0c…" or "3f9a0c..."), and analysts print short forms
# (``pid[:12]``): a shown prefix of this many characters or more is enough to name one
# pseudonym, with or without an ellipsis.
_HEAD = 12
_UNHYPHEN = re.compile(r"(?<=[0-9a-z])[-_](?=[0-9a-z])")
_JOINED = re.compile(r"[0-9a-z]+(?:[-_][0-9a-z]+)*")
_PREFIX = re.compile(r"[a-z0-9]{12,}")


# The platform's own pseudonyms (ingest/keys.py): base32 of a keyed digest, 26 characters
# of A-Z and 2-7. A random one holds digits and letters both; a word in capitals does not.
_SHAPED = re.compile(r"(?<![0-9A-Za-z])[A-Z2-7]{26}(?![0-9A-Za-z])")


def _find_shaped_pseudonyms(text: str) -> list[_Hit]:
    """Values shaped like the platform's pseudonyms, known to the check or not."""
    return [
        _Hit(m.start(), m.end())
        for m in _SHAPED.finditer(text)
        if sum(c.isdigit() for c in m.group()) >= 2 and sum(c.isalpha() for c in m.group()) >= 8
    ]


def _all_pseudonyms(text: str, index: _PseudonymIndex) -> list[_Hit]:
    """Every pseudonym in ``text``: known ones (altered too) and those shaped like one."""
    hits = _find_pseudonyms(text, index) + _find_altered_pseudonyms(text, index)
    taken = {h.start for h in hits}
    return hits + [h for h in _find_shaped_pseudonyms(text) if h.start not in taken]


def _find_altered_pseudonyms(text: str, index: _PseudonymIndex) -> list[_Hit]:
    """Pseudonyms shown in another case, or cut short (with an ellipsis or without)."""
    if not index.folded:
        return []
    hits: list[_Hit] = []
    lowered = text.lower()  # same length as text: positions stay right
    for m in _JOINED.finditer(lowered):
        key = _UNHYPHEN.sub("", m.group())
        if key in index.folded and text[m.start() : m.end()] not in index.exact:
            hits.append(_Hit(m.start(), m.end()))
    for m in _PREFIX.finditer(lowered):
        shown = m.group()
        if shown[:_HEAD] not in index.heads or text[m.start() : m.end()] in index.exact:
            continue
        if shown in index.folded:
            continue  # found whole above
        position = bisect.bisect_left(index.ordered, shown)
        if position < len(index.ordered) and index.ordered[position].startswith(shown):
            hits.append(_Hit(m.start(), m.end()))
    return hits


def _alnum(text: str, i: int) -> bool:
    return 0 <= i < len(text) and text[i].isalnum()


# --- finding candidates ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    keyed: bool = True  # NIR: False for a 13-character number without key
    example: str = ""  # masked form, for e-mail addresses and phone numbers


def _embedded(text: str, start: int, end: int, separators: Container[str]) -> bool:
    """Whether a digit candidate continues, through one of ``separators``, into more digits.

    With ``.`` and ``,``: part of a decimal (``0612345678.5``); with spaces, dots and hyphens:
    one stretch of a longer run of digit groups, such as a row of counts.
    """
    before = start >= 2 and text[start - 1] in separators and text[start - 2] in _DIGITS
    after = end + 1 < len(text) and text[end] in separators and text[end + 1] in _DIGITS
    return before or after


def _find_nirs(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in _NIR.finditer(text):
        start, end = m.span()
        body = m.group("body").translate(_DROP_SEPARATORS).upper()
        if not _nir_month_ok(body):
            continue
        if _embedded(text, start, end, ".,"):
            continue
        whole = m.group()
        bare = len(whole.translate(_DROP_SEPARATORS))
        separated = bare != len(whole)
        if whole.count(".") == 1 and bare == len(whole) - 1:
            continue  # one dot between digits is a decimal point (462.979547540014)
        if separated and _embedded(text, start, end, _SEPARATORS):
            continue
        key = m.group("key")
        if key is None:
            hits.append(_Hit(start, end, keyed=False))
        elif int(key) == _nir_key(body):
            hits.append(_Hit(start, end))
    found = [(h.start, h.end) for h in hits]
    for m in _NIR_THOUSANDS.finditer(text):
        start, end = m.span()
        digits = m.group().translate(_DROP_GROUPING)
        if digits[0] not in "123478" or not _nir_month_ok(digits):
            continue
        if _embedded(text, start, end, _SEPARATORS | {",", "'"}):
            continue  # one stretch of a longer run of groups, or a decimal
        if any(a < end and start < b for a, b in found):
            continue
        if m.group("short") is not None:
            hits.append(_Hit(start, end, keyed=False))
        elif int(digits[13:]) == _nir_key(digits[:13]):
            hits.append(_Hit(start, end))
    return hits


def _find_emails(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in _EMAIL.finditer(text):
        local, _, domain = m.group().partition("@")
        tld = domain.rsplit(".", 1)[1]
        if not tld.isalpha() or not (len(tld) == 2 or tld.lower() in _GENERIC_TLDS):
            continue
        hits.append(_Hit(*m.span(), example=f"{local[0]}***@***.{tld.lower()}"))
    return hits


def _find_phones(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in _PHONE.finditer(text):
        start, end = m.span()
        if _embedded(text, start, end, ".,"):
            continue
        if m.group().count(".") == 1:
            continue  # one dot among the digits is a decimal point (33.612345678)
        if (m.group("s1") or m.group("s2") or m.group("s3")) and _embedded(
            text, start, end, _SEPARATORS
        ):
            continue
        if m.group("intl") is not None:
            example = f"+33 {m.group('i1')} ** ** ** **"
        else:
            example = f"0{m.group('n1')} ** ** ** **"
        hits.append(_Hit(start, end, example=example))
    return hits


def _find_dates(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in _DATE.finditer(text):
        start, end = m.span()
        numeric = m.group("iy") is not None or m.group("na") is not None
        if numeric and _embedded(text, start, end, "./-,"):
            continue  # 1.28.11.2026, 28/11/2026/3, 2026-11-28,5: not a date
        if _full_date(m):
            hits.append(_Hit(start, end))
    return hits


def date_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` writes full dates: their numbers are a date's, not counts."""
    return [(h.start, h.end) for h in _find_dates(text)]


def _find_pseudonyms(text: str, index: _PseudonymIndex) -> list[_Hit]:
    if not index.simple and not index.firsts:
        return []
    tokens = _TOKEN.findall(text)
    if index.simple.isdisjoint(tokens) and index.firsts.isdisjoint(tokens):
        return []  # the common case, at C speed
    hits: list[_Hit] = []
    covered = 0
    for m in _TOKEN.finditer(text):
        start, token = m.start(), m.group()
        if start < covered:
            continue
        found = False
        for pseudonym, offset in index.compound.get(token, ()):
            begin = start - offset
            finish = begin + len(pseudonym)
            if (
                begin >= 0
                and text.startswith(pseudonym, begin)
                and not (pseudonym[0].isalnum() and _alnum(text, begin - 1))
                and not (pseudonym[-1].isalnum() and _alnum(text, finish))
            ):
                hits.append(_Hit(begin, finish))
                covered, found = finish, True
                break
        if not found and token in index.simple:
            hits.append(_Hit(start, m.end()))
    return hits


# --- aggregating and wording -----------------------------------------------------------------


@dataclass
class _Tally:
    """What one rule found in one item, before it becomes a :class:`RuleResult`."""

    count: int = 0
    keyless: int = 0  # NIR without key, beside a word naming it
    birth: int = 0  # dates naming a birth date
    beside_pseudonym: int = 0  # other dates on a pseudonym's line or row
    examples: list[str] = field(default_factory=list)
    cells: set[Cell] = field(default_factory=set)
    data_cells: set[Cell] = field(default_factory=set)
    label_rows: set[int] = field(default_factory=set)
    header_columns: set[int] = field(default_factory=set)
    label_names: set[int] = field(default_factory=set)

    def add_example(self, example: str) -> None:
        if example and example not in self.examples and len(self.examples) < 3:
            self.examples.append(example)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _table_places(t: _Tally) -> str:
    parts: list[str] = []
    if t.data_cells:
        parts.append(plural(len(t.data_cells), "data cell", "data cells"))
    if t.label_rows:
        rows = len(t.label_rows)
        flag = "its whole row" if rows == 1 else "their whole rows"
        parts.append(f"the labels of {plural(rows, 'row', 'rows')} ({flag} flagged)")
    if t.header_columns:
        columns = len(t.header_columns)
        flag = "its whole column" if columns == 1 else "their whole columns"
        headers = plural(columns, "column header", "column headers")
        parts.append(f"{headers} ({flag} flagged)")
    if t.label_names:
        parts.append(f"the names of {plural(len(t.label_names), 'label column', 'label columns')}")
    return "in " + _join(parts) if parts else ""


def _examples(t: _Tally) -> str:
    return f" ({', '.join(t.examples)})" if t.examples else ""


def _results(tallies: dict[str, _Tally], places: Callable[[_Tally], str]) -> list[RuleResult]:
    results: list[RuleResult] = []
    for rule in RULES:
        t = tallies[rule]
        if not t.count:
            continue
        where = places(t)
        at = f" {where}" if where else ""
        if rule == NIR:
            keyed = t.count - t.keyless
            detail: list[str] = []
            if keyed:
                detail.append(f"{keyed} with a valid key")
            if t.keyless:
                detail.append(f"{t.keyless} without key, beside a word naming it")
            numbers = plural(
                t.count, "French social security number", "French social security numbers"
            )
            summary = f"{numbers} (NIR: {', '.join(detail)}){at}"
            results.append(flagged(rule, Status.FAIL, summary, t.cells))
        elif rule == EMAIL:
            summary = f"{plural(t.count, 'e-mail address', 'e-mail addresses')}{_examples(t)}{at}"
            results.append(flagged(rule, Status.FAIL, summary, t.cells))
        elif rule == PHONE:
            summary = (
                f"{plural(t.count, 'French phone number', 'French phone numbers')}"
                f"{_examples(t)}{at}"
            )
            results.append(flagged(rule, Status.FAIL, summary, t.cells))
        elif rule == DATE:
            if t.birth or t.beside_pseudonym:
                results.append(_date_result(t, at))
        else:
            summary = (
                "row-level data: a pseudonym of the project's datasets (or a value shaped like"
                " the platform's pseudonyms) appears;"
                f" {plural(t.count, 'occurrence', 'occurrences')}{at}"
            )
            results.append(flagged(rule, Status.FAIL, summary, t.cells))
    return results


def _date_result(t: _Tally, at: str) -> RuleResult:
    """Dates fail where they name a birth or sit beside a pseudonym; the others are not
    identifiers by themselves (study periods, a model summary's print date): the summary
    counts them, and only the failing ones' cells are flagged with the others'."""
    why: list[str] = []
    if t.birth:
        why.append(f"{t.birth} where a birth date is named")
    if t.beside_pseudonym:
        why.append(f"{t.beside_pseudonym} on the line or row of a pseudonym")
    rest = t.count - t.birth - t.beside_pseudonym
    tail = f"; {rest} other, not an identifier by itself" if rest else ""
    dates = plural(t.count, "full date", "full dates")
    return flagged(DATE, Status.FAIL, f"{dates}{at}: {', '.join(why)}{tail}", t.cells)


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # a caller's object whose __str__ fails: nothing to scan
        return ""


# --- free text -------------------------------------------------------------------------------

_NEWLINE = re.compile(r"\r\n?|\n")


def _named_nir(text: str, hit: _Hit) -> bool:
    """Whether a word naming the number (NIR, NSS, sécu...) stands within 60 characters
    before a key-less NIR or 30 after it."""
    start, end = max(0, hit.start - _NIR_BEFORE), min(len(text), hit.end + _NIR_AFTER)
    return _NIR_CONTEXT.search(text, start, end) is not None


def names_nir(text: str) -> bool:
    """Whether ``text`` names a social security number (NIR, NSS, sécu, INSEE...)."""
    return _NIR_CONTEXT.search(text) is not None


def direct_identifiers(text: str, *, context: str = "") -> list[str]:
    """The rules (NIR, e-mail, phone, in :data:`RULES` order) that find a direct identifier
    in ``text``, one value of a data column: what ingest screens every kept value with. A
    key-less NIR counts when ``context`` (the column's name) or the text names it."""
    found = []
    if any(h.keyed or _named_nir(text, h) or names_nir(context) for h in _find_nirs(text)):
        found.append(NIR)
    if _find_emails(text):
        found.append(EMAIL)
    if _find_phones(text):
        found.append(PHONE)
    return found


def scan_text(
    text: str, *, where: str, pseudonyms: frozenset[str] = frozenset()
) -> list[RuleResult]:
    """Direct identifiers in free text: a notebook cell's source or output, a text document.

    ``where`` names the place in summaries ("cell 3 / output 1"). A date's context is its
    line; a key-less NIR's context is the 60 characters before it and the 30 after it.
    Returns one result per rule that found something, in :data:`RULES` order, never a pass;
    results carry no cells.
    """
    text = _as_text(text)
    where = _as_text(where)
    tallies = {rule: _Tally() for rule in RULES}

    for hit in _find_nirs(text):
        if not hit.keyed:
            if not _named_nir(text, hit):
                continue
            tallies[NIR].keyless += 1
        tallies[NIR].count += 1
    for rule, hits in ((EMAIL, _find_emails(text)), (PHONE, _find_phones(text))):
        for hit in hits:
            tallies[rule].count += 1
            tallies[rule].add_example(hit.example)
    pseudonym_index = _pseudonym_index(pseudonyms)
    pseudonym_hits = _all_pseudonyms(text, pseudonym_index)
    tallies[PSEUDONYM].count = len(pseudonym_hits)

    dates = _find_dates(text)
    if dates:
        starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

        def line_of(pos: int) -> int:
            return bisect.bisect_right(starts, pos) - 1

        pseudonym_lines = {line_of(h.start) for h in pseudonym_hits}
        birth_lines: dict[int, bool] = {}
        t = tallies[DATE]
        for hit in dates:
            line = line_of(hit.start)
            begin = starts[line]
            if line not in birth_lines:
                finish = starts[line + 1] if line + 1 < len(starts) else len(text)
                birth_lines[line] = _BIRTH.search(text, begin, finish) is not None
            t.count += 1
            if birth_lines[line]:
                t.birth += 1
            elif line in pseudonym_lines:
                t.beside_pseudonym += 1

    return _results(tallies, lambda _t: f"in {where}" if where else "")
