"""The audit chain on SQLite and PostgreSQL: tampering is named, concurrency never forks."""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError

from agoria_tre import audit
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import AuditEvent, Role
from tests.factories import make_project, make_version
from tests.support import disable_audit_protection


def _verify(catalog: Catalog) -> audit.VerifyResult:
    with catalog.read() as session:
        return audit.verify(session, catalog.anchor_path)


@pytest.fixture
def chain(catalog: Catalog) -> Catalog:
    """A catalog whose chain holds six events, each committed on its own."""
    make_project(catalog, "cardio-eap")  # 1
    for user in ("alice", "bob", "carol"):  # 2, 3, 4
        make_project_member(catalog, user)
    make_version(catalog)  # 5
    make_version(catalog)  # 6
    result = _verify(catalog)
    assert (result.ok, result.events, result.head_seq) == (True, 6, 6)
    return catalog


def make_project_member(catalog: Catalog, user: str) -> None:
    from agoria_tre.catalog import projects

    with catalog.write() as session:
        projects.add_member(
            session, slug="cardio-eap", username=user, role=Role.REVIEWER, actor="admin-ops"
        )


def test_each_change_writes_one_linked_event(chain: Catalog) -> None:
    with chain.read() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e.action for e in events] == [
        "project.create",
        "member.add",
        "member.add",
        "member.add",
        "dataset.register",
        "dataset.register",
    ]
    assert events[0].prev_hash == audit.GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    for event in events:
        assert event.hash == hashlib.sha256(event.prev_hash.encode() + event.canonical).hexdigest()
    anchored = audit.read_anchor(chain.anchor_path).entries
    assert anchored == {e.seq: e.hash for e in events}


def test_the_database_refuses_edits_and_deletes(chain: Catalog) -> None:
    for statement in (
        "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 6",
    ):
        with pytest.raises(DBAPIError, match="append-only"), chain.engine.begin() as conn:
            conn.execute(text(statement))
    assert _verify(chain).ok


def _tamper(catalog: Catalog, *statements: str, **params: object) -> None:
    with catalog.engine.begin() as conn:
        disable_audit_protection(conn)
        for statement in statements:
            conn.execute(text(statement), params)


def _forge(conn: Connection, seq: int, prev_hash: str, actor: str) -> str:
    """Write a self-consistent event as an attacker with the source code would."""
    details = "{}"
    when = "2026-01-01T00:00:00.000000Z"
    canonical = audit.canonical_bytes(
        seq, when, actor, "project.create", "project:x", None, details
    )
    digest = audit.chain_hash(prev_hash, canonical)
    conn.execute(
        text(
            "INSERT INTO audit_events (seq, occurred_at, actor, action, target, project,"
            " details, canonical, prev_hash, hash) VALUES (:seq, :at, :actor,"
            " 'project.create', 'project:x', NULL, :details, :canonical, :prev, :hash)"
        ),
        {
            "seq": seq,
            "at": when,
            "actor": actor,
            "details": details,
            "canonical": canonical,
            "prev": prev_hash,
            "hash": digest,
        },
    )
    return digest


def _hash_of(catalog: Catalog, seq: int) -> str:
    with catalog.engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT hash FROM audit_events WHERE seq = :s"), {"s": seq}
            ).scalar_one()
        )


TAMPERING: dict[str, tuple[Callable[[Catalog], None], int | None, str]] = {
    "edit a column": (
        lambda c: _tamper(c, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3"),
        3,
        "event 3 was altered",
    ),
    "edit details": (
        lambda c: _tamper(c, 'UPDATE audit_events SET details = \'{"role":"lead"}\' WHERE seq = 2'),
        2,
        "event 2 was altered",
    ),
    "delete a middle row": (
        lambda c: _tamper(c, "DELETE FROM audit_events WHERE seq = 4"),
        4,
        "event 4 is missing",
    ),
    "delete the newest rows and fix the head": (
        lambda c: _tamper(
            c,
            "DELETE FROM audit_events WHERE seq >= 5",
            "UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_events WHERE seq = 4)",
        ),
        6,
        "event 6 is missing: the anchor file records it",
    ),
    "reorder two rows": (
        lambda c: _tamper(
            c,
            "UPDATE audit_events SET seq = 100 WHERE seq = 2",
            "UPDATE audit_events SET seq = 2 WHERE seq = 3",
            "UPDATE audit_events SET seq = 3 WHERE seq = 100",
        ),
        2,
        "event 2 was altered",
    ),
    "edit the head row": (
        lambda c: _tamper(c, "UPDATE audit_head SET seq = 5"),
        None,
        "head row does not name the last event",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_detected_and_named(chain: Catalog, case: str) -> None:
    tamper, seq, message = TAMPERING[case]
    tamper(chain)
    result = _verify(chain)
    assert not result.ok
    assert result.broken_seq == seq
    assert result.problem is not None
    assert message in result.problem


def test_a_rewritten_event_is_caught_by_the_anchor(chain: Catalog) -> None:
    # The attacker recomputes event 3 entirely (bytes and hash) and relinks event 4.
    with chain.engine.begin() as conn:
        disable_audit_protection(conn)
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
        _forge(conn, 3, _hash_of(chain, 2), "mallory")
    result = _verify(chain)
    assert (result.ok, result.broken_seq) == (False, 3)
    assert "differs from the anchor file" in (result.problem or "")


def test_an_appended_forgery_is_not_anchored(chain: Catalog) -> None:
    with chain.engine.begin() as conn:
        disable_audit_protection(conn)
        digest = _forge(conn, 7, _hash_of(chain, 6), "mallory")
        conn.execute(text("UPDATE audit_head SET seq = 7, hash = :h"), {"h": digest})
    result = _verify(chain)
    assert (result.ok, result.broken_seq) == (False, 7)
    assert "events 7 to 7 are not in the anchor file" in (result.problem or "")


def test_a_missing_anchor_file_is_reported(chain: Catalog) -> None:
    chain.anchor_path.unlink()
    result = _verify(chain)
    assert (result.ok, result.broken_seq) == (False, 1)
    assert "anchor file anchor.log is missing" in (result.problem or "")


def test_an_edited_anchor_is_reported(chain: Catalog) -> None:
    lines = chain.anchor_path.read_text().splitlines()
    lines[1] = lines[1][:-1] + ("0" if lines[1][-1] != "0" else "1")
    chain.anchor_path.write_text("\n".join(lines) + "\n")
    result = _verify(chain)
    assert (result.ok, result.broken_seq) == (False, 2)


def test_an_empty_catalog_verifies(catalog: Catalog) -> None:
    result = _verify(catalog)
    assert (result.ok, result.events, result.head_hash) == (True, 0, audit.GENESIS_HASH)


def test_a_rolled_back_change_leaves_no_event_and_no_anchor(catalog: Catalog) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), catalog.write() as session:
        audit.record(session, actor="admin-ops", action="test.event", target="x")
        raise Boom
    assert not catalog.anchor_path.exists()
    with catalog.read() as session:
        assert session.scalar(select(AuditEvent.seq)) is None
    assert _verify(catalog).ok


def test_concurrent_writers_never_fork_the_chain(catalog: Catalog) -> None:
    writers, per_writer = 6, 25

    def write(worker: int) -> None:
        for i in range(per_writer):
            with catalog.write() as session:
                audit.record(
                    session,
                    actor=f"writer-{worker}",
                    action="test.append",
                    target=f"item:{i}",
                    details={"i": i},
                )

    with ThreadPoolExecutor(writers) as pool:
        for future in [pool.submit(write, w) for w in range(writers)]:
            future.result()
    result = _verify(catalog)
    assert result.ok, result.problem
    assert result.events == writers * per_writer
    with catalog.read() as session:
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, writers * per_writer + 1))
    assert len(audit.read_anchor(catalog.anchor_path).entries) == writers * per_writer


def test_concurrent_processes_never_fork_the_chain(
    catalog: Catalog, db_env: dict[str, str], tmp_path: Path
) -> None:
    """Separate CLI processes, each its own connection, create projects at the same time."""
    env = {"PATH": str(Path(sys.executable).parent), **db_env}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agoria_tre.cli.main",
                "project",
                "create",
                f"proj-{i}",
                "--title",
                f"P{i}",
                "--legal-basis",
                "MR-004",
                "--actor",
                f"admin-{i}",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(8)
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    result = _verify(catalog)
    assert result.ok, result.problem
    assert result.events == 8


def test_recording_inside_a_savepoint_is_refused(catalog: Catalog) -> None:
    with (
        pytest.raises(RuntimeError, match="savepoint"),
        catalog.write() as session,
        session.begin_nested(),
    ):
        audit.record(session, actor="admin-ops", action="test.event", target="x")
    assert _verify(catalog).ok
