"""Source extracts: CSV (encoding and delimiter detected or given) and Parquet files, or a
folder of either, read as a stream of Arrow record batches of text columns.

Everything is read as text: the pipeline decides each column's type itself, so that codes
such as département ``06`` or a patient number ``080000001`` keep their leading zeros.
Rows with the wrong number of fields are refused with their file and line, or skipped up to
a limit and listed.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from agoria_tre.errors import InvalidInput
from agoria_tre.ingest import storage

# Arrow's reader keeps about 32 blocks in flight whatever the pace: small blocks bound the
# memory (and are the fastest); the pipeline gathers them into larger chunks.
BLOCK_SIZE = 4 << 20
SNIFF_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class BadRow:
    file: str
    line: int | None  # the header is line 1; None if the reader could not tell
    fields: int
    expected: int  # the row's text is never kept: it holds the raw identifiers

    def describe(self) -> str:
        where = f"line {self.line}" if self.line is not None else "a line"
        return f"{self.file}, {where}: {self.fields} fields where the header has {self.expected}"


@dataclass
class Source:
    """One input file, and what was learnt reading it."""

    path: Path
    kind: str  # "csv" or "parquet"
    size: int
    encoding: str = "utf-8"
    delimiter: str = ","
    columns: list[str] = field(default_factory=list)
    sha256: str = ""
    bytes_read: int = 0
    rows: int = 0

    @property
    def name(self) -> str:
        return self.path.name


class _HashingReader(io.RawIOBase):
    """A file read once, sequentially, by Arrow: hashed and counted as it goes."""

    def __init__(self, source: Source) -> None:
        self._file = source.path.open("rb")
        self._hash = hashlib.sha256()
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._file.readinto(buffer)
        if n:
            self._hash.update(memoryview(buffer)[:n])
            self._source.bytes_read += n
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._hash.update(data)
        self._source.bytes_read += len(data)
        return data

    def finish(self) -> None:
        rest = self._file.read()  # Arrow may stop before the end (a trailing blank line)
        self._hash.update(rest)
        self._source.sha256 = self._hash.hexdigest()

    def close(self) -> None:
        self._file.close()
        super().close()


def find_sources(path: Path) -> list[Source]:
    """The files of a source: one file, or every CSV/Parquet file of a folder (sorted)."""
    if not path.exists():
        raise InvalidInput(f"source {path} does not exist")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise InvalidInput(f"source folder {path} holds no file")
    else:
        files = [path]
    sources = []
    for file in files:
        suffix = file.suffix.lower()
        kind = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet"}.get(suffix)
        if kind is None:
            raise InvalidInput(f"{file.name}: not a CSV or Parquet file (by its name)")
        size = file.stat().st_size
        if size == 0:
            raise InvalidInput(f"{file.name} is empty")
        sources.append(Source(file, kind, size))
    kinds = {s.kind for s in sources}
    if len(kinds) > 1:
        raise InvalidInput(f"source folder {path} mixes CSV and Parquet files: ingest them apart")
    return sources


def _decodes(sample: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        decoder.decode(sample, final=False)  # a character cut at the sample's end is fine
    except UnicodeError:
        return False
    return True


def _ascii_compatible(encoding: str) -> bool:
    """CSV delimiters and line ends are ASCII: UTF-16 and the like cannot be read here."""
    try:
        return 'a,;\t|\n\r"'.encode(encoding) == b'a,;\t|\n\r"'
    except (UnicodeError, LookupError):
        return False


def sniff(source: Source, *, encoding: str | None, delimiter: str | None) -> None:
    """Fill the source's encoding, delimiter and columns from its first bytes."""
    if source.kind == "parquet":
        try:
            schema = pq.read_schema(source.path)
        except (pa.ArrowException, OSError) as exc:
            raise InvalidInput(f"{source.name}: not a readable Parquet file ({exc})") from None
        source.columns = list(schema.names)
        return
    with source.path.open("rb") as handle:
        sample = handle.read(SNIFF_BYTES)
    if encoding is None:
        if sample.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif _decodes(sample, "utf-8"):
            encoding = "utf-8"
        elif _decodes(sample, "cp1252"):
            encoding = "cp1252"  # Windows exports: œ, € and curly quotes where Latin-1 has controls
        else:
            encoding = "latin-1"
    else:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InvalidInput(f"unknown encoding {encoding!r}") from None
        if not _ascii_compatible(encoding):
            raise InvalidInput(f"encoding {encoding!r} is not read here: convert the file to UTF-8")
        if not _decodes(sample, encoding):
            raise InvalidInput(f"{source.name} is not {encoding} text")
    if b"\0" in sample:
        raise InvalidInput(f"{source.name}: binary content, not a CSV file")
    text = sample.decode(encoding, errors="replace")
    first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    if not first.strip():
        raise InvalidInput(f"{source.name}, line 1: no header")
    if delimiter is None:
        counts = {d: first.count(d) for d in DELIMITERS}
        delimiter = max(DELIMITERS, key=lambda d: counts[d])
        if counts[delimiter] == 0:
            delimiter = "\t" if source.path.suffix.lower() == ".tsv" else ","
    elif len(delimiter) != 1 or delimiter in '"\r\n':
        raise InvalidInput(f"a delimiter is one character, not {delimiter!r}")
    header = next(csv.reader([first], delimiter=delimiter))
    names = [h.strip() for h in header]
    if any(not n for n in names):
        raise InvalidInput(f"{source.name}, line 1: column {names.index('') + 1} has no name")
    duplicates = [i + 1 for i, n in enumerate(names) if names.index(n) != i]
    if duplicates:
        # Positions, not names: a file without a header would have its first record echoed.
        raise InvalidInput(
            f"{source.name}, line 1: column {duplicates[0]} has the name of an earlier one"
        )
    source.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    source.delimiter = delimiter
    source.columns = names


def batches(
    source: Source,
    columns: list[str],
    bad_rows: list[BadRow],
    *,
    max_bad_rows: int,
    text: set[str] | frozenset[str] = frozenset(),
) -> Iterator[pa.RecordBatch]:
    """The source's rows as batches (only ``columns``, in that order): all text for CSV;
    for Parquet, ``text`` columns as text and the others in their own types."""
    if source.kind == "parquet":
        yield from _parquet_batches(source, columns, text)
        return
    expected = len(source.columns)

    def on_bad_row(row: Any) -> str:
        bad_rows.append(BadRow(source.name, row.number, row.actual_columns, expected))
        return "skip" if len(bad_rows) <= max_bad_rows else "error"

    reader_file = _HashingReader(source)
    try:
        reader = pacsv.open_csv(
            pa.PythonFile(reader_file, mode="r"),
            read_options=pacsv.ReadOptions(
                use_threads=True,
                block_size=BLOCK_SIZE,
                column_names=source.columns,
                skip_rows=1,
                encoding=source.encoding,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=source.delimiter,
                newlines_in_values=True,  # quoted addresses span lines
                invalid_row_handler=on_bad_row,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in source.columns},
                include_columns=columns,
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=[""],
                check_utf8=True,
            ),
        )
        for batch in reader:
            source.rows += batch.num_rows
            yield batch
        reader_file.finish()
    except pa.ArrowInvalid as exc:
        number_bad_rows(source, bad_rows)
        raise _csv_error(source, exc, bad_rows, max_bad_rows) from None
    finally:
        reader_file.close()
    number_bad_rows(source, bad_rows)


def number_bad_rows(source: Source, bad_rows: list[BadRow]) -> None:
    """Give this source's bad rows their line numbers, by reading it again on one thread
    (only when there are bad rows: a threaded reader cannot number them). Also called before
    a refusal names a line, so that the rows skipped before it count."""
    mine = [i for i, b in enumerate(bad_rows) if b.file == source.name]
    if not mine or all(bad_rows[i].line is not None for i in mine):
        return
    found: list[BadRow] = []

    def on_bad_row(row: Any) -> str:
        found.append(BadRow(source.name, row.number, row.actual_columns, len(source.columns)))
        return "skip" if len(found) < len(mine) else "error"

    try:
        reader = pacsv.open_csv(
            source.path,
            read_options=pacsv.ReadOptions(
                use_threads=False,
                block_size=BLOCK_SIZE,
                column_names=source.columns,
                skip_rows=1,
                encoding=source.encoding,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=source.delimiter, newlines_in_values=True, invalid_row_handler=on_bad_row
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={source.columns[0]: pa.string()},
                include_columns=[source.columns[0]],
            ),
        )
        for _ in reader:
            pass
    except pa.ArrowInvalid:
        pass
    for index, numbered in zip(mine, found, strict=False):
        bad_rows[index] = numbered


def _csv_error(
    source: Source, exc: pa.ArrowInvalid, bad_rows: list[BadRow], max_bad_rows: int
) -> InvalidInput:
    if bad_rows and len(bad_rows) > max_bad_rows:
        bad = bad_rows[-1]
        allowed = f"; --skip-bad-rows {max_bad_rows} allows no more" if max_bad_rows else ""
        return InvalidInput(f"{bad.describe()}{allowed}")
    # Arrow's messages may end with the offending row's text ("Expected 3 columns, got 4:
    # 1,ROBERT,…"): only their first two parts are kept, never a record.
    message = ": ".join(str(exc).splitlines()[0].split(": ")[:2])
    if "UTF8" in message or "UTF-8" in message:
        return InvalidInput(
            f"{source.name}: not UTF-8 text after its first MB ({message}): pass --encoding"
            " latin-1 (or the file's encoding)"
        )
    return InvalidInput(f"{source.name}: cannot be read as CSV ({message})")


def _parquet_batches(
    source: Source, columns: list[str], text: set[str] | frozenset[str]
) -> Iterator[pa.RecordBatch]:
    source.sha256 = storage.file_sha256(source.path)
    try:
        parquet = pq.ParquetFile(source.path)
        batches = parquet.iter_batches(batch_size=1 << 16, columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInput(f"{source.name}: cannot be read as Parquet ({exc})") from None
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            break
        except (pa.ArrowException, OSError) as exc:
            raise InvalidInput(f"{source.name}: cannot be read as Parquet ({exc})") from None
        arrays = []
        for name in columns:
            array = batch.column(name)
            if name in text and not pa.types.is_string(array.type):
                try:
                    array = array.cast(pa.string())
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    raise InvalidInput(
                        f"{source.name}, column {name!r}: {array.type} values cannot be read"
                        " as text identifiers or dates"
                    ) from None
            elif pa.types.is_dictionary(array.type):
                array = array.cast(array.type.value_type)
            arrays.append(array)
        source.rows += batch.num_rows
        source.bytes_read = min(source.size, source.bytes_read + batch.nbytes)
        yield pa.RecordBatch.from_arrays(arrays, names=columns)
    source.bytes_read = source.size
