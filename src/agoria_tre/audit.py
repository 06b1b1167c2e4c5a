"""The tamper-evident audit log: a hash chain written in the caller's transaction.

Every state change calls :func:`record` inside the same database transaction as the change,
so the change and its event commit or roll back together. Each event is serialised to
*canonical bytes*; its hash is ``sha256(previous hash + canonical bytes)``.

Appends are serialised by locking the single ``audit_head`` row (``SELECT ... FOR UPDATE``
on PostgreSQL; on SQLite every write transaction of the catalog is ``BEGIN IMMEDIATE``), so
concurrent writers queue instead of forking the chain, and sequence numbers have no gaps.

After each commit the newest ``(seq, hash)`` is appended to the *anchor file*, outside the
database. Deleting the newest rows, or rewriting the whole chain, then disagrees with the
anchor. :func:`verify` walks the chain and names the first event that does not hold.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from json.encoder import encode_basestring as _quote
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from agoria_tre.catalog.models import AuditEvent, AuditHead
from agoria_tre.errors import ConfigurationError, InvalidInput

CANONICAL_VERSION = 1
GENESIS_HASH = "0" * 64
ANCHOR_PATH_KEY = "agoria_audit_anchor"
_PENDING_KEY = "agoria_audit_pending"
_HEAD_KEY = "agoria_audit_head"
MAX_NAME = 64


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"audit details must be JSON values, not {type(value).__name__}")


def canonical_details(details: Mapping[str, Any] | None) -> str:
    """The one JSON text of an event's details: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        dict(details or {}),
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=_json_default,
    )


def canonical_bytes(
    seq: int,
    occurred_at: str,
    actor: str,
    action: str,
    target: str,
    project: str | None,
    details: str,
) -> bytes:
    """The exact bytes hashed for one event.

    A JSON array ``[version, seq, occurred_at, actor, action, target, project, details]``
    where ``details`` is the canonical JSON text stored in the row, embedded verbatim.
    """
    # Equal to json.dumps([...], ensure_ascii=False, separators=(",", ":")) with the details
    # spliced in, but written out: this runs once per event on every verification.
    quoted_project = "null" if project is None else _quote(project)
    return (
        f"[{CANONICAL_VERSION},{int(seq)},{_quote(occurred_at)},{_quote(actor)},"
        f"{_quote(action)},{_quote(target)},{quoted_project},{details}]"
    ).encode()


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds, fixed width (27 characters)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_name(kind: str, value: str) -> None:
    if not value or len(value) > MAX_NAME or not value.isprintable():
        raise InvalidInput(f"{kind} must be 1 to {MAX_NAME} printable characters, got {value!r}")


@dataclass(frozen=True)
class Recorded:
    """What :func:`record` appended: the event's place and hash in the chain."""

    seq: int
    hash: str
    occurred_at: str


_EVENTS = cast(Table, AuditEvent.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
_INSERT_EVENT = insert(_EVENTS)
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    project: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Recorded:
    """Append one event to the chain, inside ``session``'s current transaction.

    The caller commits (or rolls back) the change and its event together. ``action`` is a
    dotted name such as ``project.create``; ``target`` names what changed
    (``project:covid-eap``); ``project`` is the slug the event belongs to, for filtering.
    Pending ORM changes are flushed first, so a change that the database refuses never
    gets an event.
    """
    _check_name("actor", actor)
    _check_name("action", action)
    if session.in_nested_transaction():
        # A savepoint rolled back after the append would leave the chain's head (cached
        # below, and pending for the anchor) ahead of the database.
        raise RuntimeError("audit events cannot be recorded inside a savepoint")
    session.flush()  # the change first: if the database refuses it, no event is written
    connection = session.connection()
    transaction = session.get_transaction()
    cached = session.info.get(_HEAD_KEY)
    if cached is not None and cached[0] is transaction:
        # This transaction already holds the head lock and moved the head itself.
        prev_seq, prev_hash = cached[1], cached[2]
    else:
        head = connection.execute(_LOCK_HEAD).one_or_none()
        if head is None:
            raise ConfigurationError(
                "the audit log has no head row: the catalog was not initialised by agoria-tre init"
            )
        prev_seq, prev_hash = head
    seq = prev_seq + 1
    occurred_at = format_timestamp(datetime.now(UTC))
    details_text = canonical_details(details)
    canonical = canonical_bytes(seq, occurred_at, actor, action, target, project, details_text)
    digest = chain_hash(prev_hash, canonical)
    connection.execute(
        _INSERT_EVENT,
        {
            "seq": seq,
            "occurred_at": occurred_at,
            "actor": actor,
            "action": action,
            "target": target,
            "project": project,
            "details": details_text,
            "canonical": canonical,
            "prev_hash": prev_hash,
            "hash": digest,
        },
    )
    connection.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": digest})
    session.info[_HEAD_KEY] = (transaction, seq, digest)
    session.info[_PENDING_KEY] = (seq, digest)
    return Recorded(seq, digest, occurred_at)


# --- the anchor file -----------------------------------------------------------------------


def append_anchor(path: Path, seq: int, digest: str) -> None:
    """Append ``seq hash`` to the anchor file. Lines are only ever appended."""
    line = f"{seq} {digest}\n".encode("ascii")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)  # one small write with O_APPEND: atomic between writers
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ConfigurationError(
            f"the change was committed, but event {seq} could not be anchored",
            f"cannot append to audit anchor {path}: {exc}",
        ) from exc


def flush_pending_anchor(session: Session) -> None:
    """Called after a commit: anchor the newest event this transaction wrote, if any."""
    session.info.pop(_HEAD_KEY, None)
    pending = session.info.pop(_PENDING_KEY, None)
    path = session.info.get(ANCHOR_PATH_KEY)
    if pending is not None and path is not None:
        append_anchor(Path(path), *pending)


def discard_pending_anchor(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(_HEAD_KEY, None)


@dataclass(frozen=True)
class AnchorReading:
    exists: bool
    entries: dict[int, str]
    problem: str | None = None

    @property
    def last_seq(self) -> int:
        return max(self.entries, default=0)


def read_anchor(path: Path) -> AnchorReading:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return AnchorReading(exists=False, entries={})
    except OSError as exc:
        return AnchorReading(exists=False, entries={}, problem=f"cannot read anchor: {exc}")
    entries: dict[int, str] = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        parts = line.split()
        if (
            len(parts) != 2
            or not parts[0].isdigit()
            or len(parts[1]) != 64
            or parts[1].strip(b"0123456789abcdef")
        ):
            return AnchorReading(True, entries, f"anchor file line {number} is malformed")
        seq, digest = int(parts[0]), parts[1].decode("ascii")
        if entries.get(seq, digest) != digest:
            return AnchorReading(
                True, entries, f"anchor file names two different hashes for event {seq}"
            )
        entries[seq] = digest
    return AnchorReading(exists=True, entries=entries)


# --- verification --------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "broken_seq": self.broken_seq,
            "problem": self.problem,
        }


_VERIFY_SQL = (
    "SELECT seq, occurred_at, actor, action, target, project, details, canonical,"
    " prev_hash, hash FROM audit_events ORDER BY seq"
)
_VERIFY_BATCH = 20_000


def _rows(session: Session) -> Iterator[tuple[Any, ...]]:
    """Every event in order, streamed through the driver's own cursor.

    Verification is the hot path of the audit log (target: 200,000 events/s), so it reads
    rows without the ORM. On PostgreSQL a named (server-side) cursor in binary format keeps
    memory bounded and skips text decoding of the hashed bytes.
    """
    connection = session.connection()
    dbapi = connection.connection.dbapi_connection
    if dbapi is None:  # pragma: no cover - a live connection always has one
        raise RuntimeError("no database connection")
    if connection.dialect.name == "postgresql":
        cursor = dbapi.cursor(name="agoria_audit_verify", binary=True)
    else:
        cursor = dbapi.cursor()
    try:
        cursor.execute(_VERIFY_SQL)
        while batch := cursor.fetchmany(_VERIFY_BATCH):
            yield from batch
    finally:
        cursor.close()


def verify(session: Session, anchor_path: Path) -> VerifyResult:
    """Walk the whole chain; stop at the first event that does not hold.

    Checks, for every event in sequence order: no gap or duplicate in ``seq``; the stored
    bytes equal the bytes rebuilt from the row's columns (an edited column); ``prev_hash``
    equals the previous event's hash; ``hash`` equals ``sha256(prev_hash + bytes)``; and the
    anchor file's hash for that ``seq``. Then: the head row names the last event, no
    anchored event is missing from the end, and no event past the last anchor exists.
    """
    anchor = read_anchor(anchor_path)  # read before the table: it only names committed events
    prev_hash = GENESIS_HASH
    expected = 1
    count = 0
    sha256 = hashlib.sha256
    entries = anchor.entries

    def broken(seq: int | None, problem: str) -> VerifyResult:
        return VerifyResult(False, count, expected - 1, prev_hash, seq, problem)

    if anchor.problem:
        return broken(None, anchor.problem)

    for row in _rows(session):
        seq, occurred_at, actor, action, target, project, details, stored, prev, digest = row
        if seq != expected:
            if seq > expected:
                return broken(
                    expected,
                    f"event {expected} is missing: the chain jumps from {expected - 1} to {seq}"
                    " (a row was deleted or renumbered)",
                )
            return broken(seq, f"event {seq} is out of sequence after {expected - 1}")
        rebuilt = canonical_bytes(seq, occurred_at, actor, action, target, project, details)
        if stored != rebuilt:
            return broken(
                seq, f"event {seq} was altered: its columns no longer match its hashed bytes"
            )
        if prev != prev_hash:
            return broken(seq, f"event {seq} does not link to event {seq - 1} (prev_hash differs)")
        if sha256(prev.encode("ascii") + rebuilt).hexdigest() != digest:
            return broken(seq, f"event {seq} was altered: its hash does not match its content")
        anchored = entries.get(seq)
        if anchored is not None and anchored != digest:
            return broken(seq, f"event {seq} differs from the anchor file: the chain was rewritten")
        prev_hash = digest
        expected += 1
        count += 1

    last = expected - 1
    if anchor.last_seq > last:
        return broken(
            anchor.last_seq,
            f"event {anchor.last_seq} is missing: the anchor file records it but the chain ends"
            f" at {last} (the newest events were deleted)",
        )
    head = session.execute(select(AuditHead.seq, AuditHead.hash)).one_or_none()
    if head is None or tuple(head) != (last, prev_hash):
        return broken(
            None,
            "the audit head row does not name the last event"
            f" (head {tuple(head) if head else None}, chain ends at {last})",
        )
    # Events past the newest anchor line were added without passing through the platform,
    # or a writer died between its commit and its anchor append. Read the file again: a
    # writer may have committed and anchored while we walked.
    latest = read_anchor(anchor_path)
    if latest.last_seq < last:
        first = latest.last_seq + 1
        where = "" if latest.exists else f" (anchor file {anchor_path.name} is missing)"
        return broken(first, f"events {first} to {last} are not in the anchor file{where}")
    return VerifyResult(True, count, last, prev_hash)
