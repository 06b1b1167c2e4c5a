"""ACRO output folders: what the researcher's own checking tool recorded, read as evidence.

Why: researchers who use ACRO (``acro`` on PyPI, AI-SDC) in the environment end their
session with ``acro.finalise(folder, "json")``. The folder holds ``results.json`` (one
record per output: ACRO's verdict, the command that made it, the cells each check
flagged, and the researcher's request for an exception), the outputs themselves (tables
as ``output_N_M.csv``, plots, custom files), ``config.json`` (ACRO's risk appetite) and
``checksums/<file>.txt`` (the SHA-256 of each file when ACRO wrote it). Reviewers want
ACRO's findings beside ours, cell for cell, and the exception requests in plain sight.

Contract: ACRO's record is the researcher's, not ours. Every rule read from it is named
``acro.<rule>`` and marked ``asserted=True``, so it is told apart from our own checks of
the same files. The folder's ``results.json``, ``config.json`` and ``checksums/`` are its
evidence, never items. As an evidence sidecar does, ACRO's records answer what a file alone
cannot (a table's contributors, from its threshold, dominance and p% checks; a model's
residual degrees of freedom): those reviews of ours are dropped, with a note. They never
take a failure of ours away (the checker still checks every file itself). The folder is
untrusted: ``results.json`` is parsed within the policy's limits
(:func:`agoria_tre.disclosure.readers.notebook.load_json`), anything not shaped as ACRO
writes it is refused as ``file.unreadable``, and every file it names must be a regular
file inside the folder (no absolute paths, no ``..``, no link that leads out). Refusals
come back as failing :class:`RuleResult` values, never as exceptions.

Layout written by ACRO 1.0.2 (``acro/record.py``, ``Records.finalise_json``)::

    {"version": "1.0.2", "tool": {...},
     "results": {"output_0": {"uid": "output_0", "status": "fail", "type": "table",
                  "properties": {"method": "crosstab", "mitigation": "none"},
                  "files": [{"name": "output_0_0.csv",
                             "sdc": {"summary": {"MinimumThresholdCheck": 2, ...},
                                     "cells": {"MinimumThresholdCheck": [[0, 2], ...]}}}],
                  "outcome": {...}, "command": "...", "summary": "...", "timestamp": "...",
                  "comments": [...], "exception": "...",
                  "fair": {"check_status": {"MinimumThresholdCheck": "fail", ...}, ...}}}}

ACRO's cells are (row, column) positions in its DataFrame's values, index and header
excluded: for a table written with a one-line header they are the positions in our
:class:`~agoria_tre.disclosure.readers.table.Table`'s data part
(:meth:`AcroOutput.cells_apply_to` tells). Other outputs' positions (histogram bins) name
no place in their file and are only counted. ACRO 0.4's names (``threshold``, ``p-ratio``,
``nk-rule``…) are read too.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from agoria_tre.disclosure.files import Refusal, read_once
from agoria_tre.disclosure.policy import Limits
from agoria_tre.disclosure.readers.notebook import load_json
from agoria_tre.disclosure.report import Cell, RuleResult, flagged
from agoria_tre.disclosure.status import Status

RESULTS = "results.json"
CHECKSUMS = "checksums"
# ACRO's own bookkeeping in the folder: not outputs of the research.
BOOKKEEPING = (RESULTS, "config.json", CHECKSUMS)
_SNIFF_BYTES = 65536
_MAX_TEXT = 100_000  # characters of one text field (summary, command, exception…)
_MAX_NAME = 255
_HEX64 = re.compile(r"[0-9a-f]{64}")
_STATUSES = {s.value: s for s in Status}

# ACRO's check names -> our rules (ACRO 1.0.2 first, then ACRO 0.4's names).
CHECK_RULES: Mapping[str, str] = {
    "MinimumThresholdCheck": "acro.threshold",
    "NKCheck": "acro.dominance",
    "PPercentCheck": "acro.p_percent",
    "MinimumDoFCheck": "acro.model.dof",
    "PresenceOfZeroCheck": "acro.zeros",
    "AllSameValuesCheck": "acro.all_same_values",
    "MissingCheck": "acro.missing_values",
    "PresenceOfLinkedTableCheck": "acro.differencing",
    "StatbarnDataCheck": "acro.manual_check",
    "threshold": "acro.threshold",
    "nk-rule": "acro.dominance",
    "p-ratio": "acro.p_percent",
    "all-values-are-same": "acro.all_same_values",
    "negative": "acro.negative_values",
    "missing": "acro.missing_values",
}
# What a reviewer reads for each rule.
_WORDS = {
    "acro.threshold": "threshold",
    "acro.dominance": "dominance (n, k)",
    "acro.p_percent": "p% (p-ratio)",
    "acro.model.dof": "residual degrees of freedom",
    "acro.zeros": "zero cells",
    "acro.all_same_values": "all values the same",
    "acro.missing_values": "missing values",
    "acro.negative_values": "negative values",
    "acro.differencing": "linked tables (differencing)",
    "acro.manual_check": "manual check",
    "acro.other": "other",
}
# Informational in ACRO: they record a setting, not a verdict.
_SETTINGS = {"RequiredZeroCheck", "suppressed"}


@dataclass(frozen=True)
class AcroOutput:
    """One output of an ACRO session, as its ``results.json`` records it.

    ``status`` and ``summary`` are ACRO's verdict and text. ``files`` are the output's files
    inside the folder (checked to stay inside it). ``checks`` are ACRO's per-check records
    mapped to our rules (``acro.threshold``…), researcher-asserted; ``exception`` is the
    researcher's request for an exception, when there is one.
    """

    uid: str
    type: str
    status: Status
    summary: str
    command: str
    files: tuple[Path, ...]
    checks: tuple[RuleResult, ...]
    expected: tuple[str | None, ...] = ()  # ACRO's SHA-256 of each file, when recorded
    unrecorded: tuple[str, ...] = ()  # why a file has no usable recorded checksum
    exception: str | None = None
    comments: tuple[str, ...] = ()
    table_shape: tuple[int, int] | None = None

    def checksum_rule(self, read: Sequence[bytes | None]) -> RuleResult | None:
        """Whether the bytes the checker read of each file (None: refused unread) are those
        ACRO checked: compared with ACRO's checksums, never by reading the files again."""
        if not self.files:
            return None
        problems = list(self.unrecorded)
        for path, want, data in zip(self.files, self.expected, read, strict=True):
            if want is None:
                continue
            if data is None:
                problems.append(f"{_show(path.name)} was not read: it cannot be compared")
            elif hashlib.sha256(data).hexdigest() != want:
                problems.append(
                    f"{_show(path.name)} changed after ACRO checked it: ACRO's record describes"
                    " another file"
                )
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            return flagged("acro.checksum", Status.REVIEW, problems[0] + more, asserted=True)
        return flagged(
            "acro.checksum",
            Status.PASS,
            "the files are those ACRO checked (their SHA-256 match ACRO's checksums)",
            asserted=True,
        )

    def cells_apply_to(self, shape: tuple[int, int]) -> bool:
        """Whether ACRO's cells are positions in a parsed table of ``shape``.

        They are when ACRO's table (its ``outcome``) has the same rows and columns: a table
        written with a one-line header. A multi-level header (a pivot table with several
        statistics) adds header lines, and then its cells name ACRO's positions only.
        """
        return self.type == "table" and self.table_shape == shape


class _Refused(Exception):
    """results.json is not what ACRO writes, or names a file it must not: one message."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def _show(text: str, limit: int = 60) -> str:
    """An untrusted text, quoted and cut, for a message."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _unreadable(message: str) -> _Refused:
    return _Refused("file.unreadable", f"not an ACRO output folder: {message}")


def is_acro_folder(path: Path) -> bool:
    """Whether ``path`` is a directory with a ``results.json`` that looks like ACRO's.

    A cheap sniff (the first 64 KiB: a JSON object naming ``version`` and ``results``), for
    choosing how to read a directory. :func:`read_acro_folder` then validates everything;
    a folder that is sniffed as ACRO's and is not refuses as unreadable.
    """
    results = path / RESULTS
    try:
        if not path.is_dir() or results.is_symlink() or not results.is_file():
            return False
        with results.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"{") and b'"results"' in head and b'"version"' in head


def _text(value: object, what: str, *, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise _unreadable(f"{what} is not a text")
    if len(value) > _MAX_TEXT:
        raise _unreadable(f"{what} is longer than {_MAX_TEXT:,} characters")
    return value


def _mapping(value: object, what: str, *, optional: bool = False) -> dict[str, Any]:
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise _unreadable(f"{what} is not a JSON object")
    return value


def _inside(folder: Path, name: object, what: str) -> Path:
    """The path of a file ``results.json`` names, refused unless it stays in ``folder``."""
    if not isinstance(name, str) or not name or len(name) > _MAX_NAME:
        raise _unreadable(f"{what} has no usable file name")
    windows = PureWindowsPath(name)
    posix = PurePosixPath(name)
    if (
        "\x00" in name
        or "\\" in name
        or posix.is_absolute()
        or windows.drive
        or windows.root
        or ".." in posix.parts
    ):
        raise _Refused(
            "file.path",
            f"{what} names {_show(name)}, a path outside the ACRO folder: refused",
        )
    path = folder / posix
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise _Refused(
            "file.path", f"{what} names {_show(name)}, which is not in the ACRO folder"
        ) from None
    if not resolved.is_relative_to(folder.resolve()):
        raise _Refused(
            "file.path",
            f"{what} names {_show(name)}, a link that leads outside the ACRO folder: refused",
        )
    if not resolved.is_file():
        raise _Refused("file.path", f"{what} names {_show(name)}, which is not a file")
    return path


def _cells(value: object, what: str, limits: Limits) -> list[Cell]:
    if not isinstance(value, list) or len(value) > limits.max_cells:
        raise _unreadable(f"{what} is not a list of at most {limits.max_cells:,} cells")
    cells: list[Cell] = []
    for cell in value:
        if (
            not isinstance(cell, list)
            or len(cell) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in cell)
        ):
            raise _unreadable(f"{what} holds {_show(str(cell))}, not a (row, column) pair")
        cells.append((cell[0], cell[1]))
    return cells


def _status(value: object, what: str) -> Status:
    if not isinstance(value, str) or value.lower() not in _STATUSES:
        raise _unreadable(f"{what} is {_show(str(value))}, not pass, fail or review")
    return _STATUSES[value.lower()]


def _check(
    name: str,
    cells: list[Cell],
    recorded: Status | None,
    *,
    mitigation: str | None,
    table_dof: bool,
    positions: bool = True,
) -> RuleResult:
    """One of ACRO's checks as an asserted rule: ACRO's status, ACRO's cells.

    Cells are kept for tables only: for a histogram ACRO 1.0.2 records positions in its
    bin counts sorted by frequency, which name no bin and no place in the image.
    """
    rule = CHECK_RULES.get(name, "acro.other")
    shown_name = name if re.fullmatch(r"[A-Za-z0-9_.-]{1,60}", name) else "an unnamed check"
    if table_dof:
        # ACRO 1.0.2 records a table's residual-dof values here, not a mask of failures:
        # its non-zero positions are not flagged cells.
        cells = []
    status = recorded or (Status.FAIL if cells else Status.PASS)
    on = f" on {len(cells)} cell{'' if len(cells) == 1 else 's'}" if cells else ""
    summary = f"ACRO's {_WORDS[rule]} check ({shown_name}): {status.value}{on}"
    if not positions:
        cells = []
    if status is Status.FAIL and mitigation in {"suppress", "round"}:
        status = Status.REVIEW
        done = "suppressed" if mitigation == "suppress" else "rounded"
        summary += f"; ACRO {done} them before writing the table"
    return flagged(rule, status, summary, cells, asserted=True)


def _dof_check(properties: Mapping[str, Any], recorded: Status | None, status: Status) -> str:
    dof = properties.get("dof")
    verdict = (recorded or status).value
    if isinstance(dof, int | float) and not isinstance(dof, bool):
        return f"ACRO recorded {dof:g} residual degrees of freedom; its check: {verdict}"
    return f"ACRO's residual degrees of freedom check: {verdict}"


def _recorded_checksum(folder: Path, name: str) -> str:
    """ACRO's recorded SHA-256 of the file ``name``; raises _Unrecorded saying why not."""
    record = folder / CHECKSUMS / f"{PurePosixPath(name).name}.txt"
    if "/" in name:
        raise _Unrecorded(f"ACRO recorded no checksum for {_show(name)}")
    data = read_once(record, 1024)
    if isinstance(data, Refusal):
        if data.rule == "file.limits":
            raise _Unrecorded(f"ACRO's checksum for {_show(name)} is not a SHA-256")
        raise _Unrecorded(f"ACRO recorded no checksum for {_show(name)}")
    expected = data.decode("utf-8", errors="replace").strip().lower()
    if not _HEX64.fullmatch(expected):
        raise _Unrecorded(f"ACRO's checksum for {_show(name)} is not a SHA-256")
    return expected


class _Unrecorded(Exception):
    """ACRO's record holds no usable checksum for a file."""


def _shape(outcome: object) -> tuple[int, int] | None:
    """ACRO's table shape from its ``outcome`` (``{column: {row: verdict}}``), if regular."""
    if not isinstance(outcome, dict) or not outcome:
        return None
    columns = list(outcome.values())
    if not all(isinstance(c, dict) for c in columns):
        return None
    rows = {len(c) for c in columns}
    return (rows.pop(), len(columns)) if len(rows) == 1 else None


def _output(folder: Path, key: str, entry: object, limits: Limits) -> AcroOutput:
    """One record of ``results.json``, validated field by field."""
    where = f"output {_show(key)}"
    record = _mapping(entry, where)
    uid = _text(record.get("uid"), f"the uid of {where}")
    status = _status(record.get("status"), f"the status of {where}")
    kind = _text(record.get("type"), f"the type of {where}")
    command = _text(record.get("command"), f"the command of {where}")
    summary = _text(record.get("summary"), f"the summary of {where}")
    exception = _text(record.get("exception"), f"the exception of {where}", optional=True)
    properties = _mapping(record.get("properties"), f"the properties of {where}", optional=True)
    fair = _mapping(record.get("fair"), f"the description of {where}", optional=True)
    comments_value = record.get("comments") or []
    if not isinstance(comments_value, list):
        raise _unreadable(f"the comments of {where} are not a list")
    comments = tuple(_text(c, f"a comment of {where}") for c in comments_value)
    files_value = record.get("files")
    if not isinstance(files_value, list) or len(files_value) > limits.max_outputs:
        raise _unreadable(f"{where} has no list of files")
    recorded: dict[str, Status] = {}
    for name, value in _mapping(
        fair.get("check_status"), f"the check statuses of {where}", optional=True
    ).items():
        recorded[name] = _status(value, f"ACRO's status for {_show(name)} in {where}")
    mitigation = properties.get("mitigation")
    mitigation = mitigation if isinstance(mitigation, str) else None

    files: list[Path] = []
    expected: list[str | None] = []
    checks: list[RuleResult] = []
    seen_sdc: list[dict[str, Any]] = []
    unrecorded: list[str] = []
    for number, file_entry in enumerate(files_value, start=1):
        what = f"file {number} of {where}"
        described = _mapping(file_entry, what)
        path = _inside(folder, described.get("name"), what)
        files.append(path)
        try:
            expected.append(_recorded_checksum(folder, str(described["name"])))
        except _Unrecorded as exc:
            expected.append(None)
            unrecorded.append(str(exc))
        sdc = _mapping(described.get("sdc"), f"the checks of {what}", optional=True)
        if not sdc or sdc in seen_sdc:
            continue  # ACRO repeats one record's checks on each of its files
        seen_sdc.append(sdc)
        sdc_cells = _mapping(sdc.get("cells"), f"the flagged cells of {what}", optional=True)
        old_summary = _mapping(sdc.get("summary"), f"the check counts of {what}", optional=True)
        if old_summary.get("suppressed") is True and mitigation is None:
            mitigation = "suppress"  # ACRO 0.4 recorded suppression here
        for check_name in [*sdc_cells, *(n for n in recorded if n not in sdc_cells)]:
            if check_name in _SETTINGS:
                continue
            cells = _cells(
                sdc_cells.get(check_name, []), f"the cells of {_show(check_name)} in {what}", limits
            )
            checks.append(
                _check(
                    check_name,
                    cells,
                    recorded.get(check_name),
                    mitigation=mitigation,
                    table_dof=check_name == "MinimumDoFCheck",
                    positions=kind == "table",
                )
            )
    if not seen_sdc:
        # Models (regressions): no per-cell record, only ACRO's verdict and the dof.
        for check_name, check_status in recorded.items():
            if check_name in _SETTINGS:
                continue
            rule = _check(check_name, [], check_status, mitigation=mitigation, table_dof=True)
            if rule.rule == "acro.model.dof":
                rule = flagged(
                    rule.rule,
                    rule.status,
                    _dof_check(properties, check_status, status),
                    asserted=True,
                )
            checks.append(rule)
        if "dof" in properties and not any(c.rule == "acro.model.dof" for c in checks):
            checks.append(
                flagged(
                    "acro.model.dof",
                    status,
                    _dof_check(properties, None, status),
                    asserted=True,
                )
            )
    if "DONT_RELEASE" in uid or any("DO NOT RELEASE" in c for c in comments):
        checks.append(
            flagged(
                "acro.not_for_release",
                Status.FAIL,
                "ACRO marks this output as a summary for the output checker, not for release",
                asserted=True,
            )
        )
    return AcroOutput(
        table_shape=_shape(record.get("outcome")),
        uid=uid,
        type=kind,
        status=status,
        summary=summary,
        command=command,
        files=tuple(files),
        expected=tuple(expected),
        unrecorded=tuple(unrecorded),
        checks=tuple(checks),
        exception=exception or None,
        comments=comments,
    )


def read_acro_folder(path: Path, limits: Limits) -> list[AcroOutput] | RuleResult:
    """Every output recorded in the ACRO folder ``path``, or one failing rule saying why not.

    Refusals: ``file.limits`` (results.json too large or nested too deep, too many
    outputs), ``file.type`` (not UTF-8), ``file.unreadable`` (not JSON, or not shaped as
    ACRO writes it), ``file.path`` (a file named outside the folder, a link leading out, or
    a file that is missing).
    """
    results = path / RESULTS
    try:
        data = read_once(results, limits.max_bytes)
        if isinstance(data, Refusal):
            if data.rule == "file.limits":
                return flagged("file.limits", Status.FAIL, f"ACRO's {RESULTS}: {data.summary}")
            return flagged(
                "file.unreadable",
                Status.FAIL,
                f"not an ACRO output folder: its {RESULTS} is {data.summary}",
            )
        document = load_json(data, limits, what=f"ACRO's {RESULTS}")
        if isinstance(document, RuleResult):
            return document
        top = _mapping(document, RESULTS)
        _text(top.get("version"), f"the version in {RESULTS}")
        records = _mapping(top.get("results"), f"the results in {RESULTS}")
        if len(records) > limits.max_outputs:
            return flagged(
                "file.limits",
                Status.FAIL,
                f"ACRO's {RESULTS} records {len(records):,} outputs, over the limit of"
                f" {limits.max_outputs:,}",
            )
        return [_output(path, key, entry, limits) for key, entry in records.items()]
    except _Refused as refused:
        return flagged(refused.rule, Status.FAIL, refused.message)
    except OSError as exc:
        return flagged(
            "file.unreadable",
            Status.FAIL,
            f"the ACRO folder cannot be read ({exc.__class__.__name__})",
        )
