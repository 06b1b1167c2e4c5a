"""``dataset ingest``: a source extract in, an immutable pseudonymised dataset version out.

The source is streamed in chunks with bounded memory. Direct identifiers are dropped
(never converted), identifier columns are replaced by keyed pseudonyms (see
``ColumnPseudonymiser``), birth dates are cut to the year (or year-month), every other
column gets a type decided from the first chunk, and a k-anonymity report is computed on
the quasi-identifiers. The version is built in ``$AGORIA_HOME/datasets/.incoming``, verified,
then renamed into place inside the catalog transaction that registers it: a failure at any
point (bad row, missing column, disk full, Ctrl-C, SIGTERM) leaves no version and no
catalog row. A process killed outright leaves an incoming folder that the next ingest
removes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from agoria_tre.catalog import datasets
from agoria_tre.catalog.db import Catalog
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.errors import AgoriaError, InvalidInput
from agoria_tre.ingest import columns as column_roles
from agoria_tre.ingest import storage
from agoria_tre.ingest.columns import Declaration, Profile, Role
from agoria_tre.ingest.keys import (
    Key,
    Pseudonymiser,
    fixed_width_strings,
    native_pseudonyms,
)
from agoria_tre.ingest.sources import (
    BadRow,
    Source,
    batches,
    find_sources,
    number_bad_rows,
    sniff,
)
from agoria_tre.names import DatasetRef, check_dataset_name

MANIFEST_SCHEMA = "urn:agoria-tre:dataset-manifest:1"
DATA_FILE = "data.parquet"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class IngestOptions:
    """What the data manager declared: each column's role (options, or ``profile``)."""

    name: str
    id_columns: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    date_of_birth: tuple[str, ...] = ()
    birth_precision: str | None = None  # "year" (the default) or "month"
    quasi: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()
    free_text: tuple[str, ...] = ()
    text_columns: tuple[str, ...] = ()  # kept as text whatever their values look like
    keep_columns: tuple[str, ...] = ()  # checked by a person: the name does not identify
    encoding: str | None = None
    delimiter: str | None = None
    skip_bad_rows: int = 0
    profile: Path | None = None

    def roles(self) -> dict[Role, tuple[str, ...]]:
        return {
            Role.ID: self.id_columns,
            Role.DROP: self.drop,
            Role.BIRTH_DATE: self.date_of_birth,
            Role.QUASI: self.quasi,
            Role.ATTRIBUTE: self.attributes,
            Role.FREE_TEXT: self.free_text,
        }

    @property
    def quasi_identifiers(self) -> tuple[str, ...]:
        """What the k-anonymity report counts: birth dates (generalised) and quasi columns."""
        return self.date_of_birth + self.quasi


@dataclass
class Progress:
    """What a progress display reads: bytes and rows so far, of the total bytes."""

    total_bytes: int
    bytes_read: int = 0
    rows: int = 0


@dataclass(frozen=True)
class IngestResult:
    ref: DatasetRef
    path: Path
    manifest: dict[str, Any]


# --- column types ---------------------------------------------------------------------------

_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:[.,][0-9]+)?(?:[eE][-+]?[0-9]+)?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FR_DATE = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}")
TYPE_PATTERNS = {
    "int64": _INT.pattern,
    "float64": _FLOAT.pattern,
    "date": _ISO_DATE.pattern,
    "date_fr": _FR_DATE.pattern,
}


def _matches(array: pa.Array, pattern: str) -> pa.Array:
    return pc.match_substring_regex(array, f"^(?:{pattern})$")


def infer_type(array: pa.Array) -> str:
    """The narrowest type every non-empty value of ``array`` has; text otherwise.
    Numbers with leading zeros (codes such as ``06``) stay text."""
    present = array.drop_null()
    if len(present) == 0:
        return "string"
    for name, pattern in TYPE_PATTERNS.items():
        if pc.all(_matches(present, pattern)).as_py():
            if name.startswith("date") and _to_type(present, name) is None:
                continue  # 2026-13-45 has the form of a date, not its meaning
            return name
    return "string"


def _to_type(array: pa.Array, name: str) -> pa.Array | None:
    """The column in type ``name``, or None when a value does not convert."""
    try:
        if name == "int64":
            return pc.cast(array, pa.int64())
        if name == "float64":
            try:
                return pc.cast(array, pa.float64())
            except pa.ArrowInvalid:  # decimal commas, as French extracts write them
                return pc.cast(pc.replace_substring(array, ",", "."), pa.float64())
        if name == "date":
            return pc.cast(pc.strptime(array, "%Y-%m-%d", "s"), pa.date32())
        if name == "date_fr":
            return pc.cast(pc.strptime(array, "%d/%m/%Y", "s"), pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return array


# --- transforms -------------------------------------------------------------------------------


def identifier_text(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """An identifier column as it is hashed: Unicode NFC (``é`` typed either way links),
    surrounding spaces removed, and blank values null (they identify nobody: hashed, they
    would link every blank row together)."""
    column = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    if column.type != pa.string():
        column = column.cast(pa.string())
    if not pc.all(pc.string_is_ascii(column)).as_py():
        column = pc.utf8_normalize(column, "NFC")
    trimmed = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


class ColumnPseudonymiser:
    """Keyed pseudonyms of a whole column (see ``identifier_text``). With the native
    library (``keys.native_pseudonyms``), C hashes each value, reusing the pseudonym of an
    equal value just before it; without it, each distinct value of the chunk is hashed once
    in Python. Both give the same bytes."""

    def __init__(self, key: Key) -> None:
        self._key = key
        self._python = Pseudonymiser(key)
        self._native = native_pseudonyms()

    def __call__(self, array: pa.Array | pa.ChunkedArray) -> pa.Array:
        column = identifier_text(array)
        if self._native is not None:
            return self._native(self._key.secret, column)
        encoded = pc.dictionary_encode(column)
        values: list[str] = encoded.dictionary.to_pylist()
        made = self._python.many([v.encode() for v in values])
        return pc.take(fixed_width_strings(made, len(values)), encoded.indices)


def _birth(
    source: Source, name: str, array: pa.ChunkedArray, precision: str, before: int, plan: _Plan
) -> pa.Array | pa.ChunkedArray:
    """Birth dates cut to the year (a whole number) or to ``YYYY-MM``. ISO and French dates
    are read whole; a value that is no date is refused (it could be anything)."""
    for form in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = pc.strptime(pc.utf8_trim_whitespace(array), form, "s")
        except pa.ArrowInvalid:
            continue
        if precision == "year":
            return pc.cast(pc.year(parsed), pa.int16())
        return pc.strftime(parsed, "%Y-%m")
    generalised, bad = _birth_forms(array, precision)
    _refuse_first(source, name, bad, before, plan.bad_rows, "not a date")
    return pc.cast(generalised, pa.int16()) if precision == "year" else generalised


def _birth_forms(array: pa.ChunkedArray, precision: str) -> tuple[pa.Array, pa.Array]:
    """Mixed forms (ISO, French, a year alone, a date-time): cut, and which are not dates."""
    trimmed = pc.utf8_trim_whitespace(array)
    iso = _matches(trimmed, r"[0-9]{4}-[0-9]{2}(?:-[0-9]{2})?(?:[ T].*)?")
    french = _matches(trimmed, r"[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}")
    year_only = _matches(trimmed, r"[0-9]{4}")
    year = pc.if_else(
        iso,
        pc.utf8_slice_codeunits(trimmed, 0, 4),
        pc.if_else(french, pc.utf8_slice_codeunits(trimmed, -4), trimmed),
    )
    if precision == "month":
        month_iso = pc.utf8_slice_codeunits(trimmed, 5, 7)
        parts = pc.split_pattern(trimmed, "/")
        month_fr = pc.utf8_lpad(pc.list_element(pc.if_else(french, parts, None), 1), 2, "0")
        month = pc.if_else(iso, month_iso, month_fr)
        generalised = pc.if_else(
            pc.or_(iso, french), pc.binary_join_element_wise(year, month, "-"), None
        )
    else:
        generalised = pc.if_else(pc.or_(pc.or_(iso, french), year_only), year, None)
    known = pc.or_(pc.or_(iso, french), year_only if precision == "year" else iso)
    # A date must exist: 1950-13-45 or 99/99/1950 has the form of one, not its meaning.
    parts = pc.split_pattern(trimmed, "/")
    as_iso = pc.if_else(
        french,
        pc.binary_join_element_wise(
            pc.list_element(pc.if_else(french, parts, None), 2),
            pc.utf8_lpad(pc.list_element(pc.if_else(french, parts, None), 1), 2, "0"),
            pc.utf8_lpad(pc.list_element(pc.if_else(french, parts, None), 0), 2, "0"),
            "-",
        ),
        pc.utf8_slice_codeunits(trimmed, 0, 10),
    )
    full = pc.or_(french, pc.and_(iso, pc.greater_equal(pc.utf8_length(trimmed), 10)))
    parsed = pc.strptime(as_iso, "%Y-%m-%d", "s", error_is_null=True)
    month_ok = pc.and_(iso, pc.match_substring_regex(trimmed, r"^[0-9]{4}-(0[1-9]|1[0-2])"))
    real = pc.if_else(
        pc.fill_null(full, False),
        pc.is_valid(parsed),
        pc.if_else(pc.fill_null(iso, False), pc.fill_null(month_ok, False), True),
    )
    known = pc.and_(pc.fill_null(known, False), pc.fill_null(real, False))
    bad = pc.and_(pc.is_valid(trimmed), pc.invert(known))
    return generalised, bad


# --- the pipeline -----------------------------------------------------------------------------


def incoming_dir(home: Path) -> Path:
    return home / "datasets" / ".incoming"


def sweep_incoming(home: Path) -> list[Path]:
    return storage.sweep(incoming_dir(home))


@dataclass
class _Plan:
    sources: list[Source]
    columns: list[str]  # read and kept, in the source's order
    options: IngestOptions  # every role filled in from the declaration
    declaration: Declaration
    types: dict[str, str] = field(default_factory=dict)
    bad_rows: list[BadRow] = field(default_factory=list)


def _resolve(options: IngestOptions, profile: Profile | None) -> IngestOptions:
    """The options with the profile's settings in: a setting given both ways must agree."""
    if profile is None:
        return replace(options, birth_precision=options.birth_precision or "year")
    settings: dict[str, Any] = {}
    for setting in ("birth_precision", "encoding", "delimiter"):
        given, profiled = getattr(options, setting), profile.options.get(setting)
        if given is not None and profiled is not None and given != profiled:
            raise InvalidInput(
                f"{setting.replace('_', '-')} {given!r} differs from {profiled!r} in the ingest"
                f" profile {profile.path.name}"
            )
        settings[setting] = given if given is not None else profiled
    dataset = profile.options.get("dataset")
    if dataset is not None and dataset != options.name:
        raise InvalidInput(
            f"the ingest profile {profile.path.name} is for dataset {dataset!r}, not"
            f" {options.name!r}"
        )
    settings["birth_precision"] = settings["birth_precision"] or "year"
    return replace(options, **settings)


def _plan(sources: list[Source], options: IngestOptions, profile: Profile | None) -> _Plan:
    """Every column's role declared and consistent with its name, or a refusal."""
    first = sources[0]
    for source in sources[1:]:
        if sorted(source.columns) != sorted(first.columns):
            # Counts, not names: a part without a header would have a record echoed.
            raise InvalidInput(
                f"{source.name}, line 1: its {len(source.columns)} column names are not those"
                f" of {first.name} ({len(first.columns)} columns)"
            )
    if options.birth_precision not in ("year", "month"):
        raise InvalidInput("birth dates are kept to the year or to the month")
    if options.skip_bad_rows < 0:
        raise InvalidInput("--skip-bad-rows takes a count of 0 or more")
    declaration = column_roles.declare(
        first.columns,
        options.roles(),
        text=options.text_columns,
        checked=options.keep_columns,
        profile=profile,
        source=first.name,
    )
    if not declaration.having(Role.ID):
        raise InvalidInput("declare at least one --id-column: the identifier to pseudonymise")
    column_roles.check_names(declaration, first.name)
    declared = replace(
        options,
        id_columns=declaration.having(Role.ID),
        drop=declaration.having(Role.DROP),
        date_of_birth=declaration.having(Role.BIRTH_DATE),
        quasi=declaration.having(Role.QUASI),
        attributes=declaration.having(Role.ATTRIBUTE),
        free_text=declaration.having(Role.FREE_TEXT),
        text_columns=tuple(c for c in first.columns if c in declaration.text),
        keep_columns=tuple(c for c in first.columns if c in declaration.checked),
    )
    kept = [c for c in first.columns if declaration.roles[c] is not Role.DROP]
    return _Plan(sources, kept, declared, declaration)


def ingest(
    catalog: Catalog,
    source: Path,
    options: IngestOptions,
    *,
    key: Key,
    actor: str,
    progress: Callable[[Progress], None] | None = None,
) -> IngestResult:
    """Ingest ``source`` as the next version of ``options.name``; see the module's text."""
    check_dataset_name(options.name)
    home = catalog.settings.home
    profile = column_roles.load_profile(options.profile) if options.profile else None
    options = _resolve(options, profile)
    sources = find_sources(source)
    for one in sources:
        sniff(one, encoding=options.encoding, delimiter=options.delimiter)
    plan = _plan(sources, options, profile)
    options = plan.options
    sweep_incoming(home)
    (home / "datasets").mkdir(mode=0o700, exist_ok=True)
    final: Path | None = None
    try:
        with (
            storage.terminate_unwinds(),
            storage.build_folder(incoming_dir(home), options.name) as build,
        ):
            written = _write_data(plan, options, key, build / DATA_FILE, progress)
            with catalog.write() as session:
                number = datasets.next_version(session, options.name)
                final = home / "datasets" / options.name / f"v{number}"
                manifest = _manifest(plan, profile, key, written, actor, number)
                storage.write_json(build / MANIFEST_FILE, manifest)
                datasets.register_dataset_version(
                    session,
                    name=options.name,
                    content_hash=written["sha256"],
                    row_count=written["rows"],
                    schema={"columns": manifest["columns"]},
                    storage_path=str(final.relative_to(home)),
                    provenance={fact: manifest[fact] for fact in _PROVENANCE}
                    | {"manifest_sha256": storage.file_sha256(build / MANIFEST_FILE)},
                    actor=actor,
                )
                storage.install(build, final)
    except BaseException as exc:
        # A signal held during the commit is raised once it is done: a version the catalog
        # holds is complete and stays. One it does not hold is removed.
        if final is not None and final.exists() and not _registered(catalog, final, home):
            storage.remove_tree(final)
        if isinstance(exc, OSError):
            raise InvalidInput(
                f"cannot write the dataset version: {exc.strerror or exc}; nothing was registered"
            ) from None
        raise
    return IngestResult(DatasetRef(options.name, number), final, manifest)


_PROVENANCE = ("sources", "key_fingerprint", "options", "bad_rows", "k_anonymity", "identifiers")


def _registered(catalog: Catalog, folder: Path, home: Path) -> bool:
    with catalog.read() as session:
        return datasets.version_at(session, str(folder.relative_to(home))) is not None


CHUNK_ROWS = 1 << 19  # rows pseudonymised, typed and written together (one row group)


def _chunks(source: Source, plan: _Plan, max_bad_rows: int, text: set[str]) -> Iterator[pa.Table]:
    """The source's small read batches gathered into chunks of about CHUNK_ROWS rows."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches(source, plan.columns, plan.bad_rows, max_bad_rows=max_bad_rows, text=text):
        if batch.num_rows:
            pending.append(batch)
            count += batch.num_rows
        if count >= CHUNK_ROWS:
            yield pa.Table.from_batches(pending)
            pending, count = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


def _write_data(
    plan: _Plan,
    options: IngestOptions,
    key: Key,
    target: Path,
    progress: Callable[[Progress], None] | None,
) -> dict[str, Any]:
    pseudonyms = {c: ColumnPseudonymiser(key) for c in options.id_columns}
    births = set(options.date_of_birth)
    free_text = set(options.free_text)
    precision = options.birth_precision or "year"
    text = set(options.text_columns) | set(options.id_columns) | births | free_text
    screened = [c for c in plan.columns if plan.declaration.roles[c] in column_roles.KEPT_IN_CLEAR]
    status = Progress(total_bytes=sum(s.size for s in plan.sources))
    classes: list[Future[pa.Table]] = []
    counts: list[pa.Table] = []
    missing = dict.fromkeys(options.id_columns, 0)
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    rows = 0
    # Two threads: the native pseudonymiser, Arrow's kernels and Parquet release the GIL.
    with ThreadPoolExecutor(max_workers=2) as pool:
        try:
            for source in plan.sources:
                before = 0  # data rows of this source already read
                for chunk in _chunks(source, plan, options.skip_bad_rows, text):
                    hashed = {n: pool.submit(f, chunk.column(n)) for n, f in pseudonyms.items()}
                    columns: dict[str, Any] = {}
                    for name in plan.columns:
                        array = chunk.column(name)
                        if name in hashed:
                            continue
                        if name in births:
                            columns[name] = _birth(source, name, array, precision, before, plan)
                        elif name in text or not pa.types.is_string(array.type):
                            columns[name] = array  # text kept; Parquet types kept
                        else:
                            if name not in plan.types:
                                plan.types[name] = infer_type(array)
                            columns[name] = _typed(
                                source, name, array, plan.types[name], before, plan.bad_rows
                            )
                    for name in screened:
                        _screen(source, name, columns[name], before, plan, name not in free_text)
                    columns |= {name: future.result() for name, future in hashed.items()}
                    for name in hashed:
                        missing[name] += columns[name].null_count
                    table = pa.table({name: columns[name] for name in plan.columns})
                    if schema is None:
                        schema = table.schema
                        writer = pq.ParquetWriter(
                            target, schema, compression="zstd", write_statistics=True
                        )
                    else:
                        table = _same_types(table, schema, source, plan)
                    if writer is None:
                        raise RuntimeError("no Parquet writer")
                    if options.quasi_identifiers:
                        quasi = options.quasi_identifiers
                        classes.append(pool.submit(_class_counts, table, quasi))
                    writer.write_table(table, row_group_size=table.num_rows)
                    rows += table.num_rows
                    before += chunk.num_rows
                    status.rows = rows
                    status.bytes_read = sum(s.bytes_read for s in plan.sources)
                    if progress is not None:
                        progress(status)
            counts = [future.result() for future in classes]
        except OSError as exc:
            raise InvalidInput(
                f"cannot write the dataset version: {exc.strerror or exc}"
                " (is the disk full?); nothing was registered"
            ) from None
        finally:
            if writer is not None:
                writer.close()
    if rows == 0:
        raise InvalidInput(f"{plan.sources[0].name}: no data rows")
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())
    metadata = pq.read_metadata(target)
    if metadata.num_rows != rows:
        raise AgoriaError(f"verification failed: {metadata.num_rows} rows written, {rows} read")
    return {
        "rows": rows,
        "sha256": storage.file_sha256(target),
        "bytes": target.stat().st_size,
        "schema": table_schema(pq.read_schema(target), options),
        "k_anonymity": _k_report(counts, options, rows) if options.quasi_identifiers else None,
        "identifiers": {name: {"missing": n} for name, n in missing.items()},
    }


def _same_types(table: pa.Table, schema: pa.Schema, source: Source, plan: _Plan) -> pa.Table:
    """A later chunk (or part) in the types the version took from the first one; refused,
    naming the columns, when a value does not convert (Arrow's message would quote it)."""
    try:
        return table.cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        differ = [f for f in schema if table.schema.field(f.name).type != f.type]
        named = ", ".join(f"{f.name!r} ({f.type})" for f in differ)
        raise InvalidInput(
            f"{source.name}: a value of column(s) {named} does not convert to the type that"
            f" {plan.sources[0].name}'s first rows gave it; nothing was registered"
        ) from None


def _place(before: int, index: int, bad_rows: list[BadRow], source: Source) -> str:
    """Where a data row is: its file line in a CSV (header, rows before it, and skipped bad
    rows before it), its row number in a Parquet file."""
    if source.kind == "parquet":
        return f"row {before + index + 1}"
    if any(b.file == source.name and b.line is None for b in bad_rows):
        number_bad_rows(source, bad_rows)
    line = before + index + 2
    for bad in sorted(bad_rows, key=lambda b: b.line or 0):
        if bad.file == source.name and bad.line is not None and bad.line <= line:
            line += 1
    return f"line {line}"


def _screen(
    source: Source,
    name: str,
    array: pa.Array | pa.ChunkedArray,
    before: int,
    plan: _Plan,
    prose: bool,
) -> None:
    """Refuse a kept column holding a direct identifier, or undeclared free text, in any
    of its values: file, line and column, never the value."""
    try:
        found = column_roles.first_finding(array, column=name, prose=prose)
    except InvalidInput as exc:
        raise InvalidInput(f"{source.name}, column {name!r}: {exc}: --drop it") from None
    if found is None:
        return
    where = f"{source.name}, {_place(before, found.row, plan.bad_rows, source)}, column {name!r}"
    if found.what == column_roles.PROSE:
        raise InvalidInput(
            f"{where}: {found.what}: declare it --free-text (every value is then screened for"
            f" identifiers) or --drop it"
        )
    role = plan.declaration.roles[name]
    remedy = (
        "remove it at the source, or --drop the column"
        if role is Role.FREE_TEXT
        else f"--drop the column, or --id-column {name} to pseudonymise it"
    )
    raise InvalidInput(f"{where}: holds {found.what} ({role.value} columns are kept): {remedy}")


def _refuse_first(
    source: Source,
    column: str,
    bad: pa.Array | pa.ChunkedArray,
    before: int,
    bad_rows: list[BadRow],
    what: str,
) -> None:
    if not pc.any(bad).as_py():
        return
    index = pc.index(bad, True).as_py()
    # The value itself is never echoed: a source's values may be identifying.
    raise InvalidInput(
        f"{source.name}, {_place(before, index, bad_rows, source)}, column {column!r}:"
        f" the value is {what}"
    )


def _typed(
    source: Source,
    name: str,
    array: pa.ChunkedArray,
    kind: str,
    before: int,
    bad_rows: list[BadRow],
) -> pa.ChunkedArray:
    """The column converted to its type; the first value that does not fit is refused."""
    if kind == "string":
        return array
    converted = _to_type(array, kind)
    if converted is not None and not _loose(array, kind):
        return converted
    fits = pc.or_(pc.is_null(array), _matches(array, TYPE_PATTERNS[kind]))
    how = f"not {_TYPE_WORDS[kind]} like the first rows (pass --text-column {name} to keep it"
    _refuse_first(source, name, pc.invert(fits), before, bad_rows, how + " as text)")
    raise InvalidInput(
        f"{source.name}, column {name!r}: a value after line {before + 1} is not"
        f" {_TYPE_WORDS[kind]} (pass --text-column {name} to keep it as text)"
    )


def _loose(array: pa.ChunkedArray, kind: str) -> bool:
    """Whether a value converted that the type's form refuses: a cast reads ``06`` (a code,
    a phone number's leading zero), ``0x1F`` or ``+5`` as numbers; the first chunk's type
    does not. Cheap tests first; the form itself only when they find a suspect."""
    if kind not in ("int64", "float64"):
        return False
    suspect = pc.or_(
        pc.or_(pc.starts_with(array, "0"), pc.starts_with(array, "-0")),
        pc.starts_with(array, "+"),
    )
    suspect = pc.and_(suspect, pc.greater(pc.binary_length(array), 1))
    if kind == "float64":
        fraction = pc.or_(pc.starts_with(array, "0."), pc.starts_with(array, "0,"))
        suspect = pc.and_(suspect, pc.invert(fraction))
    if not pc.any(suspect).as_py():
        return False
    return not pc.all(pc.or_(pc.is_null(array), _matches(array, TYPE_PATTERNS[kind]))).as_py()


_TYPE_WORDS = {
    "int64": "a whole number",
    "float64": "a number",
    "date": "a date (YYYY-MM-DD)",
    "date_fr": "a date (DD/MM/YYYY)",
}


def _class_counts(table: pa.Table, quasi: Sequence[str]) -> pa.Table:
    return (
        table.select(list(quasi))
        .group_by(list(quasi), use_threads=False)
        .aggregate([([], "count_all")])
    )


def _merge_counts(parts: list[pa.Table], quasi: Sequence[str]) -> pa.Table:
    merged = (
        pa.concat_tables(parts)
        .group_by(list(quasi), use_threads=False)
        .aggregate([("count_all", "sum")])
    )
    return merged.rename_columns([*quasi, "count_all"])


def _k_report(classes: list[pa.Table], options: IngestOptions, rows: int) -> dict[str, Any]:
    """Equivalence classes of the quasi-identifiers: the smallest, and how many records sit
    in classes under the disclosure policy's threshold."""
    threshold = load_profile("fr").threshold
    quasi = options.quasi_identifiers
    sizes = _merge_counts(classes, quasi).column("count_all").to_pylist() if classes else []
    small = [int(s) for s in sizes if s < threshold]
    return {
        "quasi_identifiers": list(quasi),
        "threshold": threshold,
        "records": rows,
        "classes": len(sizes),
        "smallest_class": int(min(sizes)) if sizes else 0,
        "classes_under_threshold": len(small),
        "records_in_classes_under_threshold": sum(small),
        "share_in_classes_under_threshold": round(sum(small) / rows, 6) if rows else 0.0,
        "k_anonymous": not small,
    }


SCHEMA_ROLES = {
    Role.ID: "pseudonym",
    Role.QUASI: "quasi-identifier",
    Role.ATTRIBUTE: "attribute",
    Role.FREE_TEXT: "free text",
}
"""How the version's schema names each kept role (a birth date's names its precision)."""


def table_schema(schema: pa.Schema, options: IngestOptions) -> list[dict[str, str]]:
    roles = {column: role for role, names in options.roles().items() for column in names}

    def role(name: str) -> str:
        if roles.get(name) is Role.BIRTH_DATE:
            return f"birth date ({options.birth_precision})"
        return SCHEMA_ROLES[roles.get(name, Role.ATTRIBUTE)]

    return [{"name": f.name, "type": str(f.type), "role": role(f.name)} for f in schema]


def _manifest(
    plan: _Plan,
    profile: Profile | None,
    key: Key,
    written: dict[str, Any],
    actor: str,
    number: int,
) -> dict[str, Any]:
    options = plan.options
    return {
        "schema": MANIFEST_SCHEMA,
        "dataset": options.name,
        "version": number,
        "row_count": written["rows"],
        "files": [{"path": DATA_FILE, "sha256": written["sha256"], "bytes": written["bytes"]}],
        "columns": written["schema"],
        "sources": [
            {
                "file": s.name,
                "sha256": s.sha256,
                "bytes": s.size,
                "format": s.kind,
                "encoding": s.encoding if s.kind == "csv" else None,
                "delimiter": s.delimiter if s.kind == "csv" else None,
                "rows": s.rows,
            }
            for s in plan.sources
        ],
        "key_fingerprint": key.fingerprint,
        "options": {
            "id_columns": list(options.id_columns),
            "dropped": list(options.drop),
            "date_of_birth": list(options.date_of_birth),
            "birth_precision": options.birth_precision,
            "quasi": list(options.quasi),
            "attributes": list(options.attributes),
            "free_text": list(options.free_text),
            "text_columns": list(options.text_columns),
            "keep_columns": list(options.keep_columns),
            "skip_bad_rows": options.skip_bad_rows,
            "roles": {c: r.value for c, r in plan.declaration.roles.items()},
            "profile": ({"file": profile.path.name, "sha256": profile.sha256} if profile else None),
        },
        "bad_rows": [
            {"file": b.file, "line": b.line, "fields": b.fields, "expected": b.expected}
            for b in sorted(plan.bad_rows, key=lambda b: (b.file, b.line or 0))
        ],
        "k_anonymity": written["k_anonymity"],
        "identifiers": written["identifiers"],
        "created_by": actor,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
