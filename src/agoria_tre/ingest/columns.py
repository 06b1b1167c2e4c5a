"""What each column of an extract is, and what its name and values say it is.

Every column of an extract has exactly one declared **role** (:class:`Role`), given on the
command line or by the source's ingest profile (:func:`load_profile`); a column without one
refuses the ingest. Two checks then hold the declaration to what the column is:

- its **name**, cut into words whatever its case style (``nomPatient``, ``NUM_DOSSIER``,
  ``date.décès``, ``ippmere``), is matched against French and English hospital vocabularies
  (:data:`VOCABULARY`); a name that says "a person's name or contact", "a patient or stay
  number", "a birth date" or "a date of death, a place of residence" allows only the roles of
  its :class:`NameKind`;
- its **values**, every one of them, are screened (:func:`first_finding`) for NIRs, e-mail
  addresses and phone numbers (the disclosure checker's identifier rules), and, in a column
  not declared free text, for prose (a value of :data:`PROSE_WORDS` words or more).

The screen is vectorised: each chunk's distinct values are found once (Arrow dictionary
encoding), a linear-time RE2 pattern picks the few that could hold an identifier (an ``@``,
or nine digits in a row with separators allowed), and only those are checked exactly in
Python. Whole numbers are screened as numbers: only 13 digits or more can be a NIR.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from agoria_tre.disclosure.rules import identifiers
from agoria_tre.errors import InvalidInput


class Role(StrEnum):
    """What a column of an extract is, and so what ingest does with it."""

    ID = "id"  # replaced by its keyed pseudonym
    DROP = "drop"  # never read, never written
    BIRTH_DATE = "date_of_birth"  # cut to the year (or month); a quasi-identifier
    QUASI = "quasi"  # kept, counted in the k-anonymity report
    ATTRIBUTE = "attribute"  # kept
    FREE_TEXT = "free_text"  # kept as text; may hold prose


OPTIONS: dict[Role, str] = {
    Role.ID: "--id-column",
    Role.DROP: "--drop",
    Role.BIRTH_DATE: "--date-of-birth",
    Role.QUASI: "--quasi",
    Role.ATTRIBUTE: "--attribute",
    Role.FREE_TEXT: "--free-text",
}
"""The command-line option that declares each role."""

KEPT_IN_CLEAR = frozenset({Role.QUASI, Role.ATTRIBUTE, Role.FREE_TEXT})
"""Roles whose values are written as they are: the ones screened."""


# --- names ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NameKind:
    """What a column's name says it holds, and the roles that fit it."""

    what: str
    roles: tuple[Role, ...]  # the fitting roles, the likeliest first


PERSON = NameKind(
    "a person's name, address, phone, e-mail or social security number",
    (Role.DROP, Role.ID),
)
RECORD = NameKind("a patient or stay number", (Role.ID, Role.DROP))
BIRTH = NameKind("a birth date", (Role.BIRTH_DATE, Role.DROP))
QUASI = NameKind("a date of death or a place of residence", (Role.QUASI, Role.DROP))

# Phrases are sequences of words, matched as consecutive words of a column's name after
# accents are removed and the name is cut at every case change, digit run and punctuation.
VOCABULARY: dict[tuple[str, ...], NameKind] = {
    phrase: kind
    for kind, phrases in (
        (PERSON, (
            "nom", "noms", "prenom", "prenoms", "name", "names", "firstname", "lastname",
            "surname", "given name", "first name", "last name", "family name", "patronyme",
            "adresse", "adresses", "address", "rue", "street", "voie", "telephone", "tel",
            "phone", "mobile", "portable", "fax", "mail", "email", "courriel", "nir", "nss",
            "insee", "secu", "securite sociale", "ssn", "social security", "iban",
        )),
        (RECORD, (
            "ipp", "nip", "nda", "iep", "ins", "mrn", "rpps", "adeli",
            "num dossier", "numero dossier", "no dossier", "n dossier", "nr dossier",
            "id dossier", "num sejour", "numero sejour", "no sejour", "num venue",
            "numero venue", "id patient", "patient id", "identifiant patient", "num patient",
            "numero patient", "no patient", "patient number", "medical record",
            "record number", "hospital number",
        )),
        (BIRTH, (
            "naissance", "naiss", "nais", "birth", "birthdate", "birthday", "dob", "ddn",
            "date of birth",
        )),
        (QUASI, (
            "date deces", "dt deces", "deces date", "date dc", "dt dc", "date of death",
            "death date",
            "date death", "dod", "date mort", "code postal", "cp", "postcode", "postal code",
            "zip", "zipcode", "commune", "ville", "city", "town",
        )),
    )
    for phrase in (tuple(p.split()) for p in phrases)
}  # fmt: skip

# Words a name may be glued from without a separator ("nompatient", "datedeces",
# "NUMDOSSIER"): the vocabulary's own words and these. A word outside the list is never cut,
# so "nombre" (a count) is not "nom" + "bre".
_GLUE = frozenset({
    "patient", "patients", "date", "dt", "dat", "num", "numero", "no", "nr", "n", "id",
    "identifiant", "code", "de", "du", "des", "la", "le", "of", "the", "mere", "pere",
    "enfant", "usage", "usuel", "jeune", "fille", "marital", "naissance", "deces", "death",
    "domicile", "personne", "contact", "medecin", "traitant", "number", "record", "hospital",
    "postal", "sejour", "venue", "dossier", "first", "last", "given", "family",
})  # fmt: skip
_WORDS = _GLUE | {word for phrase in VOCABULARY for word in phrase}
_LONGEST_WORD = max(len(w) for w in _WORDS)


def name_words(name: str) -> list[str]:
    """A column name as lower-case ASCII words: accents removed, cut at case changes
    (``nomPatient``, ``IPPMere``), between letters and digits, at punctuation, and glued
    words split when every piece is a known word (``datedeces``)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    words: list[str] = []
    current = ""
    for i, char in enumerate(plain):
        if not char.isalnum() or not char.isascii():
            if current:
                words.append(current)
            current = ""
            continue
        if current:
            before = current[-1]
            after = plain[i + 1] if i + 1 < len(plain) else ""
            if (
                (before.islower() and char.isupper())
                or (before.isdigit() != char.isdigit())
                or (before.isupper() and char.isupper() and after.islower())
            ):
                words.append(current)
                current = ""
        current += char
    if current:
        words.append(current)
    return [piece for word in words for piece in _unglue(word.lower())]


@cache
def _unglue(word: str) -> tuple[str, ...]:
    """``word`` as the fewest known words it is glued from, or itself."""
    if word in _WORDS or word.isdigit():
        return (word,)
    best: list[tuple[str, ...] | None] = [()] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - _LONGEST_WORD), end):
            head = best[start]
            if head is not None and word[start:end] in _WORDS:
                candidate = (*head, word[start:end])
                known = best[end]
                if known is None or len(candidate) < len(known):
                    best[end] = candidate
    return best[-1] or (word,)


def name_kind(name: str) -> NameKind | None:
    """What a column's name says it holds (the strictest kind it names), or None."""
    words = name_words(name)
    found: list[NameKind] = []
    for phrase, kind in VOCABULARY.items():
        n = len(phrase)
        if any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1)):
            found.append(kind)
    for kind in (PERSON, RECORD, BIRTH, QUASI):
        if kind in found:
            return kind
    return None


# --- declarations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Declaration:
    """Each column's role, and where it was declared (an option, or the profile)."""

    roles: dict[str, Role]
    origin: dict[str, str]
    text: frozenset[str] = frozenset()  # kept as text whatever their values look like
    checked: frozenset[str] = frozenset()  # a person checked the name does not identify

    def having(self, *roles: Role) -> tuple[str, ...]:
        return tuple(c for c, r in self.roles.items() if r in roles)


@dataclass
class Profile:
    """An operator's ingest profile for one source: each column's role, and options."""

    path: Path
    sha256: str
    roles: dict[str, Role] = field(default_factory=dict)
    text: frozenset[str] = frozenset()
    checked: frozenset[str] = frozenset()
    options: dict[str, str] = field(default_factory=dict)


PROFILE_OPTIONS = ("dataset", "birth_precision", "encoding", "delimiter")


def load_profile(path: Path) -> Profile:
    """Read an ingest profile (TOML): ``[columns]`` maps each column to a role, or to a
    table ``{ role = "...", text = true, checked = true }``; top-level ``dataset``,
    ``birth_precision``, ``encoding`` and ``delimiter`` are optional."""
    import hashlib

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"ingest profile {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"ingest profile {path.name}: not valid TOML ({exc})") from None
    unknown = sorted(set(data) - {"columns", *PROFILE_OPTIONS})
    if unknown:
        raise InvalidInput(f"ingest profile {path.name}: unknown setting {unknown[0]!r}")
    profile = Profile(path, hashlib.sha256(raw).hexdigest())
    for option in PROFILE_OPTIONS:
        if option in data:
            if not isinstance(data[option], str):
                raise InvalidInput(f"ingest profile {path.name}: {option} is a string")
            profile.options[option] = data[option]
    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise InvalidInput(f"ingest profile {path.name}: no [columns] table")
    text: set[str] = set()
    checked: set[str] = set()
    for column, entry in columns.items():
        where = f"ingest profile {path.name}, column {column!r}"
        spec = {"role": entry} if isinstance(entry, str) else entry
        if not isinstance(spec, dict) or set(spec) - {"role", "text", "checked"}:
            raise InvalidInput(f"{where}: a role, or a table of role, text and checked")
        profile.roles[column] = _role(spec.get("role"), where)
        for flag, into in (("text", text), ("checked", checked)):
            value = spec.get(flag, False)
            if not isinstance(value, bool):
                raise InvalidInput(f"{where}: {flag} is true or false")
            if value:
                into.add(column)
    profile.text, profile.checked = frozenset(text), frozenset(checked)
    return profile


def _role(value: object, where: str) -> Role:
    for role in Role:
        if value == role.value:
            return role
    known = ", ".join(r.value for r in Role)
    raise InvalidInput(f"{where}: role {value!r} is none of {known}")


def declare(
    columns: list[str],
    options: Mapping[Role, Iterable[str]],
    *,
    text: Iterable[str] = (),
    checked: Iterable[str] = (),
    profile: Profile | None = None,
    source: str,
) -> Declaration:
    """Each column's one role, from the options and the profile; refused when a column
    has none or two, or when an option names a column the extract does not have."""
    roles: dict[str, Role] = {}
    origin: dict[str, str] = {}
    given: list[tuple[str, Role, str]] = []
    if profile is not None:
        given += [(c, r, f"profile {profile.path.name}") for c, r in profile.roles.items()]
    given += [(c, role, OPTIONS[role]) for role, names in options.items() for c in names]
    known = set(columns)
    text = set(text) | (profile.text if profile else set())
    checked = set(checked) | (profile.checked if profile else set())
    extra = [("--text-column", c) for c in text] + [("--keep-column", c) for c in checked]
    for column, _role_given, where in given:
        if column not in known:
            _no_such_column(column, where, columns, source)
    for where, column in extra:
        if column not in known:
            _no_such_column(column, where, columns, source)
    for column, role, where in given:
        if column in roles and roles[column] != role:
            raise InvalidInput(
                f"column {column!r} has two roles: {roles[column].value} ({origin[column]})"
                f" and {role.value} ({where})"
            )
        roles[column] = role
        origin.setdefault(column, where)
    missing = [c for c in columns if c not in roles]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:8])
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        raise InvalidInput(
            f"{source}: {len(missing)} column(s) without a role: {shown}{more}. Declare each"
            " one (--id-column, --drop, --date-of-birth, --quasi, --attribute, --free-text)"
            " or in an ingest profile (--profile)"
        )
    for where, column in extra:
        if roles[column] not in KEPT_IN_CLEAR:
            raise InvalidInput(
                f"column {column!r}: {where} applies to kept columns (quasi, attribute,"
                f" free_text), not to a column with role {roles[column].value}"
            )
    ordered = {c: roles[c] for c in columns}
    return Declaration(ordered, origin, frozenset(text), frozenset(checked))


def _no_such_column(column: str, where: str, columns: list[str], source: str) -> None:
    # Counts, not names: when an option names no column of the first line, that line may
    # well be a record (a patient's name, town...).
    raise InvalidInput(
        f"{source}, line 1: no column {column!r} for {where} (the header has {len(columns)}"
        " columns; is its first line a header?)"
    )


def check_names(declaration: Declaration, source: str) -> None:
    """Refuse a column kept in a role its name rules out: ``telephone`` as an attribute,
    ``date_naissance`` kept whole, ``num_dossier`` in clear."""
    for column, role in declaration.roles.items():
        kind = name_kind(column)
        if kind is None or role in kind.roles or column in declaration.checked:
            continue
        fits = " or ".join(OPTIONS[r] for r in kind.roles)
        raise InvalidInput(
            f"{source}, column {column!r}: its name says it holds {kind.what}, and it is"
            f" declared {role.value}: declare it {fits}, or --keep-column {column} once a"
            " person has checked that it does not"
        )


# --- values -----------------------------------------------------------------------------------

PROSE_WORDS = 8
"""A value of this many words or more is free text: its column must be declared so."""

_SEP = "[ .,'\\-\\x{00a0}\\x{202f}]"
# An @, or nine digits in a row (separators allowed; 2A/2B of a Corsican NIR counted):
# what every NIR, phone number and e-mail address has. RE2 runs in linear time.
_CANDIDATE = f"@|[0-9](?:{_SEP}?[0-9AaBb]){{8}}"
_PROSE = f"(?:[^\\s\\pZ]+[\\s\\pZ]+){{{PROSE_WORDS - 1}}}[^\\s\\pZ]"  # no-break spaces too
_SHORTEST_IDENTIFIER = 6  # a@b.fr
_SAMPLE = 2048  # values that tell whether a column's values repeat
_SHORTEST_PROSE = 2 * PROSE_WORDS - 1
_PHONE_FLOOR = 331 * 10**8  # 33 then 1 to 9 then 8 digits: a phone number with its country code

WHAT: dict[str, str] = {
    identifiers.NIR: "a social security number (NIR)",
    identifiers.EMAIL: "an e-mail address",
    identifiers.PHONE: "a phone number",
}
PROSE = f"free text (a value of {PROSE_WORDS} words or more)"


@dataclass(frozen=True)
class Finding:
    row: int  # in the array screened
    what: str  # never the value


def first_finding(array: pa.Array | pa.ChunkedArray, *, column: str, prose: bool) -> Finding | None:
    """The first row of a kept column holding a direct identifier, or (``prose``) free
    text; None when every value is clean. The value itself is never returned."""
    values = screenable(array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array)
    kind = values.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return _numbers(values, column)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return None  # dates, times, booleans: no text to hold an identifier
    longest = _longest(values)
    if longest < _SHORTEST_IDENTIFIER:
        return None
    # Distinct values (in the order they first appear, so that the first one found is the
    # first row) when they repeat: codes, labels. Every value when most are distinct (notes):
    # finding the distinct ones would cost more than screening them all.
    sample = values.slice(0, _SAMPLE)
    space = values if 2 * len(pc.unique(sample)) > len(sample) else pc.unique(values)
    context = " ".join(name_words(column))  # "numNir" names a NIR as "num nir" does
    first: int | None = None
    what = ""
    seen: dict[str, list[str]] = {}  # a value repeated among every value is checked once
    for i in pc.indices_nonzero(pc.match_substring_regex(space, _CANDIDATE)).to_pylist():
        value = space[i].as_py()
        rules = seen.get(value)
        if rules is None:
            rules = seen[value] = identifiers.direct_identifiers(value, context=context)
        if rules:
            first, what = i, WHAT[rules[0]]
            break
    if prose and longest >= _SHORTEST_PROSE:
        before = space if first is None else space.slice(0, first)
        hits = pc.indices_nonzero(pc.match_substring_regex(before, _PROSE))
        if len(hits):
            first, what = hits[0].as_py(), PROSE
    if first is None:
        return None
    if space is values:
        return Finding(first, what)
    return Finding(pc.index(values, space[first]).as_py(), what)


_NO_TEXT = (
    pa.types.is_temporal,
    pa.types.is_boolean,
    pa.types.is_null,
)


def screenable(values: pa.Array) -> pa.Array:
    """``values`` in a type the screen reads: text as ``string`` (binary as written by Hive
    or Impala, string views), decimals as numbers. Raises InvalidInput for what cannot be
    screened value by value (lists, structs, maps, binary that is not UTF-8 text)."""
    kind = values.type
    if pa.types.is_dictionary(kind):
        return screenable(values.cast(kind.value_type))
    if (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or any(test(kind) for test in _NO_TEXT)
    ):
        return values
    if pa.types.is_decimal(kind):
        return values.cast(pa.float64())  # a NIR's 15 digits are exact in a float64
    try:
        if (
            pa.types.is_binary(kind)
            or pa.types.is_large_binary(kind)
            or str(kind).endswith("_view")
        ):
            return values.cast(pa.string())
    except pa.ArrowInvalid:
        raise InvalidInput(f"{kind} values that are not UTF-8 text cannot be screened") from None
    raise InvalidInput(f"{kind} values cannot be screened for identifiers")


def _longest(values: pa.Array) -> int:
    """The longest value's length in bytes (null slots may count: a bound, not a measure)."""
    if len(values) == 0:
        return 0
    width = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(values.buffers()[1], dtype=width)
    return int(np.diff(offsets[values.offset : values.offset + len(values) + 1]).max())


_NIR_FIRST = np.zeros(10, dtype=bool)
_NIR_FIRST[[1, 2, 3, 4, 7, 8]] = True


def _numbers(values: pa.Array, column: str) -> Finding | None:
    """NIRs and phone numbers written as numbers, found with numpy: 15 digits whose last two
    are the key of the first 13, or 13 digits when the column's name names a NIR, and 33
    followed by 9 digits (``direct_identifiers`` on the digits, vectorised). A number that
    is not whole is neither. (A phone number written with its leading zero is text: ingest
    types a column as numbers only when no value has one.)"""
    bounds = pc.min_max(values)
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is None or max(abs(low), abs(high)) < _PHONE_FLOOR:
        return None  # the usual case, in one pass: no value has 11 digits
    if pa.types.is_unsigned_integer(values.type) and high > 2**63 - 1:
        fits = pc.less_equal(values, pa.scalar(2**63 - 1, values.type))
        values = pc.if_else(fits, values, None)  # 19 digits and more: neither
    whole = values
    if pa.types.is_floating(values.type):
        integral = pc.and_(pc.equal(values, pc.floor(values)), pc.less(pc.abs(values), 1e15))
        whole = pc.cast(pc.if_else(integral, values, None), pa.int64())
    n = np.abs(pc.fill_null(pc.cast(whole, pa.int64()), 0).to_numpy(zero_copy_only=False))
    with_key = (n >= 10**14) & (n < 10**15)
    body = np.where(with_key, n // 100, n)
    keyless = (body >= 10**12) & (body < 10**13) & ~with_key
    if not identifiers.names_nir(" ".join(name_words(column))):
        keyless[:] = False
    month = (body // 10**8) % 100
    nir = (
        (with_key | keyless)
        & _NIR_FIRST[(body // 10**12) % 10]
        & (((month >= 1) & (month <= 12)) | ((month >= 20) & (month <= 42)) | (month >= 50))
        & (~with_key | (n % 100 == 97 - body % 97))
    )
    # A French number written as a whole number with its country code: 33 6 12 34 56 78.
    phone = (n >= _PHONE_FLOOR) & (n < 34 * 10**9)
    rows = np.flatnonzero(nir | phone)
    if not len(rows):
        return None
    return Finding(int(rows[0]), WHAT[identifiers.NIR if nir[rows[0]] else identifiers.PHONE])
