"""``agoria-tre check``: the automated disclosure checker on files and folders."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from agoria_tre.disclosure.policy import PROFILES
from agoria_tre.disclosure.status import Status
from agoria_tre.errors import InvalidInput

if TYPE_CHECKING:
    from agoria_tre.disclosure.report import ItemReport, Report

MARK = {Status.PASS: "pass  ", Status.REVIEW: "REVIEW", Status.FAIL: "FAIL  "}


_DELIMITERS = "\t,;|"


def _parquet_pseudonyms(path: Path, column: str | None) -> Sequence[object]:
    import pyarrow.parquet as pq

    names = list(pq.read_schema(path).names)
    if not column:
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise InvalidInput(
            f"--pseudonyms with a Parquet file needs --pseudonym-column (its columns: {shown})"
        )
    if column not in names:
        raise InvalidInput(f"--pseudonym-column {column!r}: {path} has no such column")
    return list(pq.read_table(path, columns=[column]).column(column).to_pylist())


def _delimiter(path: Path, first: str) -> str | None:
    """The delimiter of a CSV/TSV file, or None for one value per line."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    found = [d for d in _DELIMITERS if d in first]
    if path.suffix.lower() == ".csv":
        return max(found, key=first.count) if found else ","
    return max(found, key=first.count) if found else None


def _text_pseudonyms(path: Path, text: str, column: str | None) -> Sequence[object]:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    delimiter = _delimiter(path, lines[0])
    if delimiter is None:
        mixed = next((n for n, line in enumerate(lines, start=1) if _has_delimiter(line)), None)
        if mixed is not None:
            raise InvalidInput(
                f"--pseudonyms {path}, line {mixed}: several fields where the first line has"
                " one value"
            )
        if column:
            if lines[0].strip() != column:
                raise InvalidInput(
                    f"--pseudonym-column {column!r}: the first line of {path} is not that"
                    " column's name"
                )
            lines = lines[1:]
        return [line.strip() for line in lines]
    rows = list(csv.reader(lines, delimiter=delimiter))
    header = [name.strip() for name in rows[0]]
    if column:
        if column not in header:
            shown = ", ".join(header[:5]) + (", …" if len(header) > 5 else "")
            raise InvalidInput(
                f"--pseudonym-column {column!r}: {path} has no such column (its header: {shown})"
            )
        j = header.index(column)
        short = next((n for n, row in enumerate(rows[1:], start=2) if len(row) <= j), None)
        if short is not None:
            raise InvalidInput(f"{path}, line {short}: no value in column {column!r}")
        return [row[j].strip() for row in rows[1:]]
    if max(len(row) for row in rows) > 1:
        shown = ", ".join(header[:5]) + (", …" if len(header) > 5 else "")
        raise InvalidInput(
            f"--pseudonyms {path} has several columns ({shown}): name the pseudonyms' one"
            " with --pseudonym-column"
        )
    values = [row[0].strip() if row else "" for row in rows]
    if (
        len(values) > 1
        and not _HAS_DIGIT.search(values[0])
        and all(_HAS_DIGIT.search(v) for v in values[1:])
    ):
        values = values[1:]  # a header: a name among coded values
    return values


_HAS_DIGIT = re.compile(r"[0-9]")


def _has_delimiter(line: str) -> bool:
    return any(d in line for d in _DELIMITERS)


def load_pseudonyms(path: Path, column: str | None) -> frozenset[str]:
    """The project's pseudonyms: one value per line, a column of a CSV/TSV file with a
    header (``--pseudonym-column``, needed when it has several columns), or a column of a
    Parquet file. A column that does not exist, a file with several columns and no column
    named, or a file with no pseudonym in it is a usage error: the check must not run
    silently without them."""
    try:
        if path.suffix.lower() == ".parquet":
            values = _parquet_pseudonyms(path, column)
        else:
            values = _text_pseudonyms(path, path.read_text(encoding="utf-8-sig"), column)
    except InvalidInput:
        raise
    except (OSError, UnicodeError, KeyError, ValueError, csv.Error) as exc:
        raise InvalidInput(f"cannot read pseudonyms from {path}: {exc}") from None
    found = frozenset(str(v).strip() for v in values if v is not None and str(v).strip())
    if not found:
        raise InvalidInput(f"--pseudonyms {path} holds no pseudonym")
    return found


def printable(text: str) -> str:
    """``text`` safe for a terminal: control and format characters (escape sequences, a
    carriage return, bidirectional overrides) written as escapes, so that a file name or
    an ACRO comment cannot redraw the report (a forged PASS line)."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def _print_item(item: ItemReport, indent: str = "") -> None:
    click.echo(f"{indent}{MARK[item.status]}  {printable(item.path)}  ({printable(item.kind)})")
    for note in item.notes:
        click.echo(f"{indent}          note: {printable(note)}")
    for rule in item.rules:
        if rule.status is Status.PASS:
            continue
        where = ""
        if rule.cells:
            shown = ", ".join(f"({r},{c})" for r, c in rule.cells[:6])
            where = f" cells {shown}{' …' if len(rule.cells) > 6 else ''}"
        asserted = " [researcher-asserted]" if rule.asserted else ""
        mark = MARK[rule.status].strip()
        summary = printable(rule.summary)
        click.echo(f"{indent}          {mark:6}  {rule.rule}: {summary}{where}{asserted}")
    for child in item.children:
        _print_item(child, indent + "    ")


def print_report(report: Report) -> None:
    policy = report.policy
    click.echo(
        f"policy {policy.name}: threshold {policy.threshold}, dominance"
        f" ({policy.dominance_n}, {policy.dominance_k}), p% {policy.p_percent:.0%},"
        f" dof {policy.min_dof}"
    )
    for note in report.notes:
        click.echo(f"note: {printable(note)}")
    for item in report.items:
        _print_item(item)
    counts = {s: sum(1 for i in report.items if i.status is s) for s in Status}
    click.echo(
        f"{report.status.value.upper()}: {counts[Status.PASS]} pass,"
        f" {counts[Status.REVIEW]} review, {counts[Status.FAIL]} fail"
    )


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="fr",
    show_default=True,
    help="Named disclosure policy.",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your own policy YAML (overrides --profile).",
)
@click.option(
    "--pseudonyms",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The project's pseudonyms: one per line, or a column of a CSV/TSV or Parquet file.",
)
@click.option(
    "--pseudonym-column",
    help="Column of the file given to --pseudonyms (needed when it has several columns).",
)
@click.option(
    "--released",
    "released_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of outputs already released (or in open requests): differencing, and hidden"
    " cells they give back. Repeatable.",
)
@click.option(
    "--canonical-out",
    type=click.Path(file_okay=False, writable=True, path_type=Path),
    help="Also write the canonical form of each file checked (what is reviewed and released)"
    " into this folder, each named by its SHA-256.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Readable tables, or the versioned JSON report.",
)
def check(
    paths: tuple[Path, ...],
    profile: str,
    policy_file: Path | None,
    pseudonyms: Path | None,
    pseudonym_column: str | None,
    released_dirs: tuple[Path, ...],
    canonical_out: Path | None,
    fmt: str,
) -> None:
    """Check outputs for disclosure risk: exit 0 all pass, 1 any fail, 3 review, 2 usage.

    PATHS are files or folders (walked); ACRO output folders are recognised. An output's
    evidence sidecar (NAME.evidence.json beside it) is used for its check and never
    released. Tables of counts are compared with each other and with --released ones.
    """
    from agoria_tre.disclosure.checker import Context, check_paths  # numpy, scipy, Pillow
    from agoria_tre.disclosure.policy import load_policy_file, load_profile
    from agoria_tre.disclosure.report import exit_status
    from agoria_tre.disclosure.rules.differencing import load_released

    if pseudonym_column and not pseudonyms:
        raise click.UsageError("--pseudonym-column needs --pseudonyms")
    policy = load_policy_file(policy_file) if policy_file else load_profile(profile)
    known = load_pseudonyms(pseudonyms, pseudonym_column) if pseudonyms else frozenset()
    released, notes = load_released(list(released_dirs), policy.limits)
    canonical: dict[str, bytes] = {}
    report = check_paths(list(paths), Context(policy, known, tuple(released)), canonical=canonical)
    report.notes += notes
    if not report.items:
        raise click.UsageError("nothing to check: no files under the paths given")
    if canonical_out is not None:
        canonical_out.mkdir(parents=True, exist_ok=True)
        for digest, data in canonical.items():
            (canonical_out / digest).write_bytes(data)
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        print_report(report)
    raise SystemExit(exit_status(report.status))
