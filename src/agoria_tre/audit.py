"""The tamper-evident audit log: a hash chain written in the caller's transaction.

Every state change calls :func:`record` inside the same database transaction as the change,
so the change and its event commit or roll back together. Each event is serialised to
*canonical bytes*; its hash is ``sha256(previous hash + canonical bytes)``.

Writers are serialised for their whole transaction: ``Catalog.write()`` calls
:func:`lock_chain` first, which locks the single ``audit_head`` row (``SELECT ... FOR
UPDATE`` on PostgreSQL; on SQLite every write transaction is ``BEGIN IMMEDIATE``). Concurrent
writers queue instead of forking the chain, sequence numbers have no gaps, and the checks a
change makes ("does this grant already exist?") cannot race another writer.

After each commit, one line ``FIRST LAST HASH`` is appended to the *anchor file*, outside the
database: the events the transaction wrote and the hash of its last one. Every event must lie
in some line's range, and every line's hash must match the chain: deleting the newest rows,
recomputing the chain, or inserting events without passing through the platform all
disagree with the anchor. :func:`verify` walks the chain and names the first event that does
not hold.

The anchor file has an identity: its first line, ``agoria-audit-anchor ID``, written when the
catalog is made, whose ``catalog.init`` event records the same random ID and the file's
location. :func:`verify` refuses an anchor file that is not the catalog's own, so that
whoever names the anchor file (``AGORIA_AUDIT_ANCHOR``) does not choose the answer.
"""

from __future__ import annotations

import hashlib
import logging
import operator
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from json import dumps, loads
from json.encoder import encode_basestring as _quote
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from agoria_tre.audit_witness import read_heads, send_head
from agoria_tre.catalog.models import AuditEvent, AuditHead
from agoria_tre.errors import AnchorWriteFailed, ConfigurationError, InvalidInput
from agoria_tre.identity import process_user
from agoria_tre.jsontext import json_default
from agoria_tre.names import check_actor

log = logging.getLogger(__name__)

CANONICAL_VERSION = 2  # version 1: events recorded before os_user
GENESIS_HASH = "0" * 64
ANCHOR_PATH_KEY = "agoria_audit_anchor"
WITNESS_KEY = "agoria_audit_witness"
_PENDING_KEY = "agoria_audit_pending"
_HEAD_KEY = "agoria_audit_head"
ACTION_RE = re.compile(r"[a-z][a-z_]*(?:\.[a-z][a-z_]*)+")
# How long verify waits for writers that committed but have not yet appended their anchor.
SETTLE_SECONDS = 2.0


def canonical_details(details: Mapping[str, Any] | None) -> str:
    """The one JSON text of an event's details: sorted keys, no spaces, UTF-8."""
    return dumps(
        dict(details or {}),
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        default=json_default,
    )


def canonical_bytes(
    seq: int,
    occurred_at: str,
    actor: str,
    action: str,
    target: str,
    project: str | None,
    details: str,
    os_user: str | None = None,
) -> bytes:
    """The exact bytes hashed for one event.

    The UTF-8 JSON array ``[version, seq, occurred_at, actor, action, target, project,
    details]`` with no spaces, where ``details`` is the canonical JSON text stored in the row,
    embedded verbatim; version 2 (every event since the operating-system user is recorded)
    puts ``os_user`` after ``actor``. Equal to ``json.dumps([...], ensure_ascii=False,
    separators=(",", ":"))`` with the details spliced in, but written out: this runs once per
    event on every verification.
    """
    quoted_project = "null" if project is None else _quote(project)
    if os_user is None:  # version 1
        return (
            f"[1,{int(seq)},{_quote(occurred_at)},{_quote(actor)},"
            f"{_quote(action)},{_quote(target)},{quoted_project},{details}]"
        ).encode()
    return (
        f"[{CANONICAL_VERSION},{int(seq)},{_quote(occurred_at)},{_quote(actor)},{_quote(os_user)},"
        f"{_quote(action)},{_quote(target)},{quoted_project},{details}]"
    ).encode()


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds, fixed width (27 characters)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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


def lock_chain(session: Session) -> None:
    """Take the chain's lock for the rest of this transaction and remember its head.

    ``Catalog.write()`` calls this first thing, so a whole write transaction (its checks,
    its changes and its events) runs while no other writer can append.
    """
    head = session.connection().execute(_LOCK_HEAD).one_or_none()
    if head is None:
        raise ConfigurationError(
            "the audit log has no head row: the catalog was not initialised by agoria-tre init"
        )
    session.info[_HEAD_KEY] = (session.get_transaction(), head[0], head[1])


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

    ``session`` must come from ``Catalog.write()``, which locks the chain and anchors the
    events after the commit. The caller commits (or rolls back) the change and its event
    together. ``action`` is a dotted name such as ``project.create``; ``target`` names what
    changed (``project:covid-eap``); ``project`` is the slug the event belongs to. Pending
    ORM changes are flushed first, so a change that the database refuses gets no event.
    """
    check_actor(actor)
    if not ACTION_RE.fullmatch(action):
        raise InvalidInput(f"invalid audit action {action!r}")
    if ANCHOR_PATH_KEY not in session.info:
        raise RuntimeError("audit events are recorded only in a Catalog.write() transaction")
    if session.in_nested_transaction():
        # A savepoint rolled back after the append would leave the chain's head (cached
        # below, and pending for the anchor) ahead of the database.
        raise RuntimeError("audit events cannot be recorded inside a savepoint")
    session.flush()
    transaction = session.get_transaction()
    cached = session.info.get(_HEAD_KEY)
    if cached is None or cached[0] is not transaction:
        lock_chain(session)
        cached = session.info[_HEAD_KEY]
    _, prev_seq, prev_hash = cached
    seq = prev_seq + 1
    occurred_at = format_timestamp(datetime.now(UTC))
    details_text = canonical_details(details)
    os_user = process_user()
    canonical = canonical_bytes(
        seq, occurred_at, actor, action, target, project, details_text, os_user
    )
    digest = chain_hash(prev_hash, canonical)
    connection = session.connection()
    connection.execute(
        _INSERT_EVENT,
        {
            "seq": seq,
            "occurred_at": occurred_at,
            "actor": actor,
            "os_user": os_user,
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
    pending = session.info.get(_PENDING_KEY)
    first = pending[0] if pending is not None else seq
    session.info[_PENDING_KEY] = (first, seq, digest)
    return Recorded(seq, digest, occurred_at)


# --- the anchor file -----------------------------------------------------------------------


def append_anchor_line(path: Path, line: str) -> None:
    """Append one line to the anchor file, durably. Lines are only ever appended."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data = line.encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        written = os.write(fd, data)  # one small O_APPEND write: atomic between writers
        while written < len(data):  # a full disk or a file size limit: finish or fail
            more = os.write(fd, data[written:])
            if more == 0:
                raise OSError(f"short write: {written} of {len(data)} bytes")
            written += more
        os.fsync(fd)
    finally:
        os.close(fd)


ANCHOR_HEADER = "agoria-audit-anchor"
_HEADER_RE = re.compile(rb"agoria-audit-anchor ([0-9a-f]{32})\n")


def anchor_identity(path: Path) -> str | None:
    """The anchor file's identity, from its first line only; None when it has none."""
    try:
        with path.open("rb") as handle:
            header = _HEADER_RE.match(handle.read(len(ANCHOR_HEADER) + 34))
    except OSError:
        return None
    return header.group(1).decode() if header else None


def claim_anchor(path: Path) -> str:
    """The identity of a new catalog's anchor file: a header-only file's own, else a fresh
    one written as its first line. A file that already anchors events is refused."""
    reading = read_anchor(path)
    if not reading.exists and reading.problem:
        raise ConfigurationError(f"the audit anchor {path}: {reading.problem}")
    # Any content but a header (or nothing) is a line the parser read, or refused.
    used = reading.problem is not None or bool(reading.lasts) or reading.incomplete_tail
    if used:
        raise ConfigurationError(
            f"the audit anchor {path} already holds another catalog's chain: move it away,"
            " or set AGORIA_AUDIT_ANCHOR to a new file for this catalog"
        )
    if reading.identity is not None:
        return reading.identity
    identity = secrets.token_hex(16)
    append_anchor_line(path, f"{ANCHOR_HEADER} {identity}\n")
    return identity


def append_anchor(path: Path, first: int, last: int, digest: str) -> None:
    """Anchor events ``first`` to ``last`` of one committed transaction."""
    try:
        append_anchor_line(path, f"{first} {last} {digest}\n")
    except OSError as exc:
        events = f"event {last}" if first == last else f"events {first} to {last}"
        raise AnchorWriteFailed(
            f"the change was committed, but {events} could not be anchored: tell the"
            " platform operators",
            f"cannot append to audit anchor {path}: {exc}",
        ) from exc


def flush_pending_anchor(session: Session) -> None:
    """Called after a commit: anchor the events this transaction wrote, if any."""
    session.info.pop(_HEAD_KEY, None)
    pending = session.info.pop(_PENDING_KEY, None)
    path = session.info.get(ANCHOR_PATH_KEY)
    if pending is not None and path is not None:
        append_anchor(Path(path), *pending)
        witness = session.info.get(WITNESS_KEY)
        if witness is not None:
            _, last, digest = pending
            try:
                send_head(Path(witness), last, digest)
            except OSError as exc:  # the next head it takes covers this one
                log.warning("the audit witness at %s did not take event %d: %s", witness, last, exc)


def discard_pending_anchor(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(_HEAD_KEY, None)


@dataclass(frozen=True)
class AnchorReading:
    """The anchor file, parsed into parallel lists sorted by ``firsts``.

    Line *i* says: events ``firsts[i]`` to ``lasts[i]`` were committed together, and the
    last of them has hash ``digests[i]``. Parallel lists rather than tuples: a catalog
    written one event per transaction has one line per event, and this is read on every
    verification.
    """

    exists: bool
    firsts: list[int] = field(default_factory=list)
    lasts: list[int] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    problem: str | None = None
    incomplete_tail: bool = False  # a line being appended while we read, or a torn write
    identity: str | None = None  # the header's anchor id (None: an anchor made without one)

    @property
    def ranges(self) -> list[tuple[int, int, str]]:
        return list(zip(self.firsts, self.lasts, self.digests, strict=True))

    @property
    def last_seq(self) -> int:
        return self.lasts[-1] if self.lasts else 0

    @property
    def ends(self) -> dict[int, str]:
        return dict(zip(self.lasts, self.digests, strict=True))

    def contiguous(self) -> bool:
        """Whether the lines cover 1..last_seq exactly once (the normal case)."""
        firsts, lasts = self.firsts, self.lasts
        return not firsts or (
            firsts[0] == 1
            and all(map(operator.le, firsts, lasts))
            and all(map(operator.eq, firsts[1:], map((1).__add__, lasts)))
        )

    def first_uncovered(self, upto: int) -> int | None:
        """The first event in ``1..upto`` that no line covers, or None."""
        if self.contiguous():
            return None if upto <= self.last_seq else self.last_seq + 1
        expected = 1
        for first, last in zip(self.firsts, self.lasts, strict=True):
            if first > upto:
                break
            if first > expected:
                return expected
            expected = max(expected, last + 1)
        return expected if expected <= upto else None


_ANCHOR_FILE_RE = re.compile(rb"(?:[0-9]{1,18} [0-9]{1,18} [0-9a-f]{64}\n)*")
_NOT_HEX = {ord(c): None for c in "0123456789abcdef"}


def _first_malformed_line(raw: bytes) -> int:
    good = _ANCHOR_FILE_RE.match(raw)
    return raw[: good.end() if good else 0].count(b"\n") + 1


def read_anchor(path: Path) -> AnchorReading:
    """Parse and check the anchor file; a damaged file is a ``problem``, never an error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return AnchorReading(exists=False)
    except OSError as exc:
        return AnchorReading(exists=False, problem=f"cannot read the anchor file: {exc}")
    # A writer's append may be half visible (page by page); its line is not there yet.
    incomplete = bool(raw) and not raw.endswith(b"\n")
    if incomplete:
        raw = raw[: raw.rfind(b"\n") + 1]
    identity = None
    skipped = 0
    if raw.startswith(ANCHOR_HEADER.encode()):
        header = _HEADER_RE.match(raw)
        if header is None:
            return AnchorReading(True, problem="anchor file line 1 is malformed")
        identity = header.group(1).decode()
        raw = raw[header.end() :]
        skipped = 1
    lines = raw.count(b"\n")
    text = raw.decode("ascii", errors="replace")
    tokens = text.split()
    firsts, lasts, digests = tokens[0::3], tokens[1::3], tokens[2::3]
    numbers = firsts + lasts
    well_formed = (
        (not raw or raw.endswith(b"\n"))
        and len(tokens) == 3 * lines
        and raw.count(b" ") == 2 * lines
        and len(raw) == sum(map(len, tokens)) + 3 * lines  # no other whitespace
        and (not numbers or ("".join(numbers).isdecimal() and "".join(numbers).isascii()))
        and max(map(len, numbers), default=1) <= 18
        and set(map(len, digests)) <= {64}
        and not "".join(digests).translate(_NOT_HEX)
    )
    if not well_formed:
        line = _first_malformed_line(raw) + skipped
        return AnchorReading(True, problem=f"anchor file line {line} is malformed")
    first_ints, last_ints = list(map(int, firsts)), list(map(int, lasts))
    if not all(map(operator.lt, first_ints, first_ints[1:])):  # writers may append out of order
        order = sorted(range(len(first_ints)), key=first_ints.__getitem__)
        first_ints = [first_ints[i] for i in order]
        last_ints = [last_ints[i] for i in order]
        digests = [digests[i] for i in order]
    reading = AnchorReading(
        True, first_ints, last_ints, digests, incomplete_tail=incomplete, identity=identity
    )
    if reading.contiguous():
        return reading
    previous_last = 0
    for first, last in zip(first_ints, last_ints, strict=True):
        if first < 1 or last < first:
            problem = f"anchor file names an empty range {first}-{last}"
            return replace(reading, problem=problem)
        if first <= previous_last:
            problem = f"anchor file lines overlap at event {first}"
            return replace(reading, problem=problem)
        previous_last = last
    return reading


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
    " prev_hash, hash, os_user FROM audit_events ORDER BY seq"
)
_VERIFY_BATCH = 20_000


class _Unreadable(Exception):
    """The driver could not read the events (a dropped table, a broken connection)."""


def _rows(session: Session) -> Iterator[tuple[Any, ...]]:
    """Every event in order, streamed through the driver's own cursor.

    Verification is the hot path of the audit log (target: 200,000 events/s), so it reads
    rows without the ORM. On PostgreSQL a named (server-side) cursor in binary format keeps
    memory bounded and skips text decoding of the hashed bytes.
    """
    connection = session.connection()
    dbapi = connection.connection.dbapi_connection
    if dbapi is None:  # pragma: no cover - a live connection always has one
        raise _Unreadable("no database connection")
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
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
    except driver_error as exc:
        raise _Unreadable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc


def verify(
    session: Session,
    anchor_path: Path,
    *,
    settle_seconds: float = SETTLE_SECONDS,
    witness: Path | None = None,
) -> VerifyResult:
    """:func:`verify_chain`, then, given the witness's file, :func:`verify_witnessed`."""
    result = verify_chain(session, anchor_path, settle_seconds=settle_seconds)
    if not result.ok or witness is None:
        return result
    return verify_witnessed(session, witness, result, anchor=anchor_identity(anchor_path))


def verify_witnessed(
    session: Session, witness: Path, chain: VerifyResult, *, anchor: str | None = None
) -> VerifyResult:
    """Compare an intact chain with the heads its witness took. A rewrite that the anchor
    file was made to agree with shows here: the first witnessed head that differs bounds the
    rewrite from above, the last one that agrees from below. A witness file that names the
    anchor of its chain refuses a chain with another anchor (``anchor``): one replaced whole."""

    def broken(seq: int | None, problem: str) -> VerifyResult:
        return VerifyResult(False, chain.events, chain.head_seq, chain.head_hash, seq, problem)

    heads = read_heads(witness)
    if heads.problem is not None:
        return broken(None, heads.problem)
    if heads.anchor is not None and heads.anchor != anchor:
        return broken(
            None,
            f"the witness {witness} took the heads of the chain of anchor {heads.anchor}, and"
            f" this chain's anchor is {anchor or '(none)'}: the chain was replaced",
        )
    if not heads.by_seq:
        return broken(
            None,
            f"the witness file {witness} holds no head: the witness has seen nothing of this"
            " chain (is AGORIA_AUDIT_WITNESS set where the platform runs?)",
        )
    agreed = 0
    for seq, digest in session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq)
    ):
        seen = heads.by_seq.get(seq)
        if seen is None:
            continue
        if seen != digest:
            first = agreed + 1
            where = f"event {seq} differs" if first == seq else f"events {first} to {seq} differ"
            return broken(first, f"{where} from the witness: the chain was rewritten")
        agreed = seq
    newest = max(heads.by_seq, default=0)
    if newest > chain.head_seq:
        return broken(
            chain.head_seq + 1,
            f"event {chain.head_seq + 1} is missing: the witness took events up to {newest}"
            f" but the chain ends at {chain.head_seq} (the newest events were deleted)",
        )
    return chain


def verify_chain(
    session: Session, anchor_path: Path, *, settle_seconds: float = SETTLE_SECONDS
) -> VerifyResult:
    """Walk the whole chain; stop at the first event that does not hold.

    ``session`` should read one consistent snapshot (``Catalog.snapshot()``): writers may run
    meanwhile. Checks, for every event in ``seq`` order: no gap or duplicate; the stored bytes
    equal the bytes rebuilt from the columns (an edited column); ``prev_hash`` equals the
    previous event's hash; ``hash`` equals ``sha256(prev_hash + bytes)``; and the anchor's
    hash where a line ends at that event. Then: no anchored event is missing past the end,
    the head row names the last event, and every event lies in some anchor line. Events
    committed by a writer that has not yet appended its anchor line are waited for, up to
    ``settle_seconds``.
    """
    anchor = read_anchor(anchor_path)  # before the snapshot: it names only committed events
    prev_hash = GENESIS_HASH
    expected = 1
    count = 0

    def broken(seq: int | None, problem: str) -> VerifyResult:
        return VerifyResult(False, count, expected - 1, prev_hash, seq, problem)

    if anchor.problem:
        return broken(None, anchor.problem)
    if not anchor.exists:
        return broken(None, f"the anchor file {anchor_path} is missing")
    try:
        foreign = _foreign_anchor(session, anchor, anchor_path)
    except _Unreadable as exc:
        return broken(None, f"the audit events cannot be read: {exc}")
    if foreign is not None:
        return broken(None, foreign)
    ends = anchor.ends
    sha256 = hashlib.sha256
    try:
        for row in _rows(session):
            seq, occurred_at, actor, action, target, project, details, stored, prev, digest, who = (
                row
            )
            if type(seq) is not int:
                return broken(
                    expected, f"event {expected} was altered: its sequence is not a number"
                )
            if seq != expected:
                if seq > expected:
                    return broken(
                        expected,
                        f"event {expected} is missing: the chain jumps from {expected - 1}"
                        f" to {seq} (a row was deleted or renumbered)",
                    )
                return broken(seq, f"event {seq} is out of sequence after {expected - 1}")
            try:
                rebuilt = canonical_bytes(
                    seq, occurred_at, actor, action, target, project, details, who
                )
                intact = stored == rebuilt
                linked = prev == prev_hash
                hashed = sha256(prev.encode("ascii") + rebuilt).hexdigest() == digest
            except (TypeError, AttributeError, ValueError, UnicodeError):
                return broken(seq, f"event {seq} was altered: its columns are malformed")
            if not intact:
                return broken(
                    seq, f"event {seq} was altered: its columns no longer match its hashed bytes"
                )
            if not linked:
                return broken(
                    seq, f"event {seq} does not link to event {seq - 1} (prev_hash differs)"
                )
            if not hashed:
                return broken(seq, f"event {seq} was altered: its hash does not match its content")
            anchored = ends.get(seq)
            if anchored is not None and anchored != digest:
                return broken(
                    seq, f"event {seq} differs from the anchor file: the chain was rewritten"
                )
            prev_hash = digest
            expected += 1
            count += 1
    except _Unreadable as exc:
        return broken(None, f"the audit events cannot be read: {exc}")

    last = expected - 1
    if count == 0:
        return broken(1, "event 1 is missing: the chain is empty, yet init always records one")
    if anchor.last_seq > last:
        return broken(
            last + 1,
            f"event {last + 1} is missing: the anchor file records events up to"
            f" {anchor.last_seq} but the chain ends at {last} (the newest events were deleted)",
        )
    try:
        head = session.execute(select(AuditHead.seq, AuditHead.hash)).one_or_none()
    except DBAPIError as exc:
        return broken(None, f"the audit head cannot be read: {str(exc.orig).splitlines()[0]}")
    if head is None or tuple(head) != (last, prev_hash):
        return broken(
            None,
            "the audit head row does not name the last event"
            f" (head {tuple(head) if head else None}, chain ends at {last})",
        )
    gap = anchor.first_uncovered(last)
    deadline = time.monotonic() + settle_seconds
    while (gap is not None or anchor.incomplete_tail) and time.monotonic() < deadline:
        time.sleep(0.05)
        later = read_anchor(anchor_path)
        if later.problem:
            return broken(None, later.problem)
        try:
            mismatch = _first_mismatch(session, later, known=anchor, upto=last)
        except DBAPIError as exc:
            return broken(None, f"the audit events cannot be read: {str(exc.orig).splitlines()[0]}")
        if mismatch is not None:
            return broken(
                mismatch, f"event {mismatch} differs from the anchor file: the chain was rewritten"
            )
        anchor = later
        gap = anchor.first_uncovered(last)
    if anchor.incomplete_tail:
        return broken(None, "the anchor file ends with an incomplete line (a torn write)")
    if gap is not None:
        return broken(
            gap,
            f"event {gap} is not in the anchor file: it was written without passing through"
            " the platform, or its writer stopped before anchoring it",
        )
    return VerifyResult(True, count, last, prev_hash)


def current_head(session: Session) -> tuple[int, str] | None:
    """The newest event's sequence number and hash; None while the chain is empty."""
    head = session.get(AuditHead, 1)
    if head is None or head.seq == 0:
        return None
    return head.seq, head.hash


def recorded_anchor(session: Session) -> dict[str, str] | None:
    """The anchor identity the catalog's ``catalog.init`` event records (``id``, ``path``),
    or None for a catalog made before anchors had one."""
    return _init_anchor(session)[1]


def _init_anchor(session: Session) -> tuple[bool, dict[str, str] | None]:
    """Whether event 1 is a readable ``catalog.init``, and the anchor identity it records."""
    try:
        row = session.execute(
            select(AuditEvent.action, AuditEvent.details).where(AuditEvent.seq == 1)
        ).one_or_none()
    except DBAPIError as exc:
        raise _Unreadable(str(exc.orig).splitlines()[0]) from exc
    if row is None or row.action != "catalog.init":
        return False, None
    try:
        details = loads(row.details)
    except (ValueError, TypeError):
        return False, None
    if not isinstance(details, dict):
        return False, None
    recorded = details.get("anchor")
    if recorded is not None and not isinstance(recorded, dict):
        return False, None
    return True, recorded


def _foreign_anchor(session: Session, anchor: AnchorReading, path: Path) -> str | None:
    """Why the anchor file is not the catalog's own, or None when it is. When event 1 is
    not a readable ``catalog.init`` (deleted, altered), the walk names that instead."""
    readable, recorded = _init_anchor(session)
    if recorded is None:
        if anchor.identity is None or not readable:
            return None  # both from before anchors had an identity, or no event 1 to tell
        return (
            f"the anchor file {path} belongs to another catalog (anchor {anchor.identity});"
            " this catalog records no anchor of its own"
        )
    own, where = recorded.get("id"), recorded.get("path")
    if anchor.identity != own:
        named = f"anchor {anchor.identity}" if anchor.identity else "an anchor without identity"
        return (
            f"the anchor file {path} is not this catalog's: it is {named}, and the catalog's"
            f" is anchor {own} at {where}"
        )
    if where is None or Path(where).resolve() != path.resolve():
        return f"the anchor file {path} is a copy: this catalog's anchor {own} is kept at {where}"
    return None


def _first_mismatch(
    session: Session, later: AnchorReading, *, known: AnchorReading, upto: int
) -> int | None:
    """Check anchor lines that appeared during verification against the snapshot."""
    seen = known.ends
    fresh = {
        last: digest for last, digest in later.ends.items() if last <= upto and last not in seen
    }
    if not fresh:
        return None
    query = select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.in_(list(fresh)))
    stored = dict(session.execute(query).all())  # rows are (seq, hash) pairs
    for seq in sorted(fresh):
        if stored.get(seq) != fresh[seq]:
            return seq
    return None
