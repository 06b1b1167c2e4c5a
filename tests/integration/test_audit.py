"""The audit chain on SQLite and PostgreSQL: tampering is named, concurrency never forks."""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError

from agoria_tre import audit
from agoria_tre.catalog import projects
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import AuditEvent, Role
from agoria_tre.errors import AnchorWriteFailed, ConfigurationError
from tests.factories import make_project, make_version
from tests.support import disable_audit_protection


def _verify(catalog: Catalog, settle: float = 0.2) -> audit.VerifyResult:
    with catalog.snapshot() as session:
        return audit.verify(session, catalog.anchor_path, settle_seconds=settle)


def add_reviewer(catalog: Catalog, user: str) -> None:
    with catalog.write() as session:
        projects.add_member(
            session, slug="cardio-eap", username=user, role=Role.REVIEWER, actor="admin-ops"
        )


@pytest.fixture
def chain(catalog: Catalog) -> Catalog:
    """A catalog whose chain holds seven events, each committed on its own."""
    # 1 is catalog.init
    make_project(catalog, "cardio-eap")  # 2
    for user in ("alice", "bob", "carol"):  # 3, 4, 5
        add_reviewer(catalog, user)
    make_version(catalog)  # 6
    make_version(catalog)  # 7
    result = _verify(catalog)
    assert (result.ok, result.events, result.head_seq) == (True, 7, 7)
    return catalog


def test_each_change_writes_one_linked_event(chain: Catalog) -> None:
    with chain.read() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6, 7]
    assert [e.action for e in events] == [
        "catalog.init",
        "project.create",
        *["member.add"] * 3,
        *["dataset.register"] * 2,
    ]
    assert events[0].prev_hash == audit.GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    for event in events:
        assert event.hash == hashlib.sha256(event.prev_hash.encode() + event.canonical).hexdigest()
    anchor = audit.read_anchor(chain.anchor_path)
    assert anchor.ranges == [(e.seq, e.seq, e.hash) for e in events]


def test_the_database_refuses_edits_and_deletes(chain: Catalog) -> None:
    for statement in (
        "UPDATE audit_events SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM audit_events WHERE seq = 7",
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
    "change who ran the command": (
        lambda c: _tamper(c, "UPDATE audit_events SET os_user = 'alice' WHERE seq = 3"),
        3,
        "event 3 was altered",
    ),
    "erase who ran the command": (
        lambda c: _tamper(c, "UPDATE audit_events SET os_user = NULL WHERE seq = 3"),
        3,
        "event 3 was altered",
    ),
    "edit details": (
        lambda c: _tamper(c, 'UPDATE audit_events SET details = \'{"role":"lead"}\' WHERE seq = 3'),
        3,
        "event 3 was altered",
    ),
    "store bytes in a text column": (
        lambda c: _tamper(c, "UPDATE audit_events SET actor = :b WHERE seq = 3", b=b"admin"),
        3,
        "event 3 was altered",
    ),
    "delete a middle row": (
        lambda c: _tamper(c, "DELETE FROM audit_events WHERE seq = 4"),
        4,
        "event 4 is missing",
    ),
    "delete the newest rows and fix the head": (
        lambda c: _tamper(
            c,
            "DELETE FROM audit_events WHERE seq >= 6",
            "UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM audit_events WHERE seq = 5)",
        ),
        6,
        "event 6 is missing: the anchor file records events up to 7",
    ),
    "delete every row and reset the head": (
        lambda c: _tamper(
            c, "DELETE FROM audit_events", f"UPDATE audit_head SET seq = 0, hash = '{'0' * 64}'"
        ),
        1,
        "event 1 is missing: the chain is empty",
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
    # The attacker recomputes event 3 entirely (bytes and hash).
    with chain.engine.begin() as conn:
        disable_audit_protection(conn)
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
        _forge(conn, 3, _hash_of(chain, 2), "mallory")
    result = _verify(chain)
    assert (result.ok, result.broken_seq) == (False, 3)
    assert "differs from the anchor file" in (result.problem or "")


def test_an_appended_forgery_stays_exposed_after_honest_writes(chain: Catalog) -> None:
    with chain.engine.begin() as conn:
        disable_audit_protection(conn)
        digest = _forge(conn, 8, _hash_of(chain, 7), "mallory")
        conn.execute(text("UPDATE audit_head SET seq = 8, hash = :h"), {"h": digest})
    result = _verify(chain)
    assert (result.ok, result.broken_seq) == (False, 8)
    assert "event 8 is not in the anchor file" in (result.problem or "")
    # An honest write chains onto the forgery and is anchored; the forgery is still named.
    add_reviewer(chain, "dave")
    result = _verify(chain)
    assert (result.ok, result.broken_seq) == (False, 8)
    assert "event 8 is not in the anchor file" in (result.problem or "")


def test_a_missing_anchor_file_is_reported(chain: Catalog) -> None:
    chain.anchor_path.unlink()
    result = _verify(chain)
    assert not result.ok
    assert f"the anchor file {chain.anchor_path} is missing" in (result.problem or "")


def test_an_edited_anchor_is_reported(chain: Catalog) -> None:
    lines = chain.anchor_path.read_text().splitlines()  # the anchor's identity, then events
    lines[2] = lines[2][:-1] + ("0" if lines[2][-1] != "0" else "1")
    chain.anchor_path.write_text("\n".join(lines) + "\n")
    result = _verify(chain)
    assert (result.ok, result.broken_seq) == (False, 2)
    assert "differs from the anchor file" in (result.problem or "")


def test_a_dropped_table_is_reported_not_raised(chain: Catalog) -> None:
    with chain.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_events"))
    result = _verify(chain)
    assert not result.ok
    assert "the audit events cannot be read" in (result.problem or "")


def test_a_new_catalog_verifies(catalog: Catalog) -> None:
    result = _verify(catalog)
    assert (result.ok, result.events, result.head_seq) == (True, 1, 1)


def test_a_rolled_back_change_leaves_no_event_and_no_anchor(catalog: Catalog) -> None:
    class Boom(Exception):
        pass

    anchor_before = catalog.anchor_path.read_bytes()
    with pytest.raises(Boom), catalog.write() as session:
        audit.record(session, actor="admin-ops", action="test.event", target="x")
        raise Boom
    assert catalog.anchor_path.read_bytes() == anchor_before
    with catalog.read() as session:
        assert list(session.scalars(select(AuditEvent.seq))) == [1]
    assert _verify(catalog).ok


def test_records_outside_catalog_write_are_refused(catalog: Catalog) -> None:
    with catalog.read() as session, pytest.raises(RuntimeError, match=r"Catalog\.write"):
        audit.record(session, actor="admin-ops", action="test.event", target="x")


def test_recording_inside_a_savepoint_is_refused(catalog: Catalog) -> None:
    with (
        pytest.raises(RuntimeError, match="savepoint"),
        catalog.write() as session,
        session.begin_nested(),
    ):
        audit.record(session, actor="admin-ops", action="test.event", target="x")
    assert _verify(catalog).ok


def test_one_anchor_line_per_transaction_covers_all_its_events(catalog: Catalog) -> None:
    with catalog.write() as session:
        for i in range(3):
            audit.record(session, actor="admin-ops", action="test.event", target=f"x{i}")
    anchor = audit.read_anchor(catalog.anchor_path)
    assert [(first, last) for first, last, _ in anchor.ranges] == [(1, 1), (2, 4)]
    assert _verify(catalog).ok


def test_a_failed_anchor_append_is_not_a_refusal(catalog: Catalog) -> None:
    catalog.anchor_path.unlink()
    catalog.anchor_path.mkdir()  # appending now fails
    with pytest.raises(AnchorWriteFailed) as failed, catalog.write() as session:
        audit.record(session, actor="admin-ops", action="test.event", target="x")
    assert failed.value.exit_code == 4
    assert "was committed" in failed.value.user_message
    with catalog.read() as session:
        assert list(session.scalars(select(AuditEvent.seq))) == [1, 2]


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
    assert result.events == writers * per_writer + 1
    with catalog.read() as session:
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, writers * per_writer + 2))
    assert len(audit.read_anchor(catalog.anchor_path).ranges) == writers * per_writer + 1


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
    assert result.events == 9


def test_verify_while_writers_run_raises_no_false_alarm(catalog: Catalog) -> None:
    stop = threading.Event()

    def write(worker: int) -> int:
        written = 0
        while not stop.is_set() and written < 400:
            with catalog.write() as session:
                audit.record(
                    session, actor=f"writer-{worker}", action="test.append", target=f"i:{written}"
                )
            written += 1
        return written

    results: list[audit.VerifyResult] = []
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(write, w) for w in range(2)]
        while len(results) < 40 and not all(f.done() for f in futures):
            results.append(_verify(catalog, settle=audit.SETTLE_SECONDS))
        stop.set()
        total = sum(f.result() for f in futures)
    assert len(results) >= 5
    assert [r.problem for r in results if not r.ok] == []
    assert _verify(catalog).events == total + 1


@pytest.mark.parametrize("honest", [True, False], ids=["late-anchor", "late-forged-anchor"])
def test_verify_waits_for_a_late_anchor_and_checks_it(chain: Catalog, honest: bool) -> None:
    """A writer between its commit and its anchor append: verify waits, then checks."""
    lines = chain.anchor_path.read_text().splitlines(keepends=True)
    chain.anchor_path.write_text("".join(lines[:-1]))  # event 7 not yet anchored
    late = lines[-1] if honest else lines[-1][:-2] + ("0" if lines[-1][-2] != "0" else "1") + "\n"
    timer = threading.Timer(0.3, lambda: audit.append_anchor_line(chain.anchor_path, late))
    timer.start()
    try:
        result = _verify(chain, settle=5.0)
    finally:
        timer.join()
    if honest:
        assert result.ok, result.problem
    else:
        assert (result.ok, result.broken_seq) == (False, 7)
        assert "differs from the anchor file" in (result.problem or "")


@pytest.mark.parametrize("completed", [True, False], ids=["completed", "torn"])
def test_a_torn_anchor_line_is_waited_for_then_reported(chain: Catalog, completed: bool) -> None:
    text = chain.anchor_path.read_text()
    last = text.splitlines(keepends=True)[-1]
    chain.anchor_path.write_text(text[: -len(last)] + last[:20])  # event 7's line half written
    if completed:
        timer = threading.Timer(0.3, lambda: audit.append_anchor_line(chain.anchor_path, last[20:]))
        timer.start()
        result = _verify(chain, settle=5.0)
        timer.join()
        assert result.ok, result.problem
    else:
        result = _verify(chain, settle=0.3)
        assert not result.ok
        assert "ends with an incomplete line" in (result.problem or "")


def test_a_dropped_head_table_is_reported_not_raised(chain: Catalog) -> None:
    with chain.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_head"))
    result = _verify(chain)
    assert not result.ok
    assert "the audit head cannot be read" in (result.problem or "")


def test_ctrl_c_at_commit_is_held_until_the_anchor_is_written(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal

    original = audit.flush_pending_anchor

    def interrupted(session: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # arrives between commit and anchor append
        original(session)  # type: ignore[arg-type]

    monkeypatch.setattr(audit, "flush_pending_anchor", interrupted)
    with pytest.raises(KeyboardInterrupt), catalog.write() as session:
        audit.record(session, actor="admin-ops", action="test.event", target="x")
    assert audit.read_anchor(catalog.anchor_path).last_seq == 2
    assert _verify(catalog).ok


# --- the anchor's identity ----------------------------------------------------------------


def test_a_new_catalog_claims_its_anchor_file(catalog: Catalog) -> None:
    first = catalog.anchor_path.read_text().splitlines()[0]
    identity = audit.read_anchor(catalog.anchor_path).identity
    assert first == f"agoria-audit-anchor {identity}"
    with catalog.read() as session:
        assert audit.recorded_anchor(session) == {
            "id": identity, "path": str(catalog.anchor_path)
        }  # fmt: skip


def test_an_anchor_file_chosen_by_whoever_runs_verify_is_refused(
    chain: Catalog, tmp_path: Path
) -> None:
    """``AGORIA_AUDIT_ANCHOR`` names the file verify reads: a file made to agree with the
    chain elsewhere is not the catalog's, with or without an identity, even an exact copy."""
    real = chain.anchor_path.read_text()
    identity = audit.read_anchor(chain.anchor_path).identity
    events = "".join(real.splitlines(keepends=True)[1:])
    own = "c" * 32
    cases = {
        "bare.log": (events, "it is an anchor without identity"),
        "other.log": (f"agoria-audit-anchor {own}\n{events}", f"it is anchor {own}"),
        "copy.log": (real, f"is a copy: this catalog's anchor {identity} is kept at"),
    }
    for name, (content, message) in cases.items():
        forged = tmp_path / name
        forged.write_text(content)
        with chain.snapshot() as session:
            result = audit.verify(session, forged, settle_seconds=0.1)
        assert (result.ok, result.broken_seq) == (False, None)
        assert message in (result.problem or ""), name
        if name != "copy.log":
            assert f"the catalog's is anchor {identity} at {chain.anchor_path}" in (
                result.problem or ""
            )


def test_the_anchor_named_through_a_link_is_still_the_catalogs_own(
    chain: Catalog, tmp_path: Path
) -> None:
    link = tmp_path / "anchor-link.log"
    link.symlink_to(chain.anchor_path)
    with chain.snapshot() as session:
        assert audit.verify(session, link, settle_seconds=0.1).ok


def test_verify_from_the_command_line_refuses_another_anchor(
    db_env: dict[str, str], tmp_path: Path
) -> None:
    from tests.integration.test_cli import agoria

    assert agoria(db_env, "init").code == 0
    real = Path(db_env["AGORIA_HOME"]) / "audit" / "anchor.log"
    forged = tmp_path / "forged.log"
    forged.write_text("".join(real.read_text().splitlines(keepends=True)[1:]))
    assert agoria(db_env, "audit", "verify").code == 0
    refused = agoria({**db_env, "AGORIA_AUDIT_ANCHOR": str(forged)}, "audit", "verify")
    assert refused.code == 1
    assert f"the anchor file {forged} is not this catalog's" in refused.err


def test_a_malformed_identity_line_is_reported(chain: Catalog) -> None:
    lines = chain.anchor_path.read_text().splitlines(keepends=True)
    chain.anchor_path.write_text("agoria-audit-anchor not-hex\n" + "".join(lines[1:]))
    assert _verify(chain).problem == "anchor file line 1 is malformed"
    chain.anchor_path.write_text(lines[0] + lines[1] + "2 2 nothex\n" + "".join(lines[3:]))
    assert _verify(chain).problem == "anchor file line 3 is malformed"


def test_an_anchor_is_claimed_once_and_a_used_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "anchor.log"
    identity = audit.claim_anchor(path)
    assert audit.claim_anchor(path) == identity  # an interrupted init claims it again
    audit.append_anchor(path, 1, 1, "a" * 64)
    for used in (path, tmp_path / "text.log"):
        if used != path:
            used.write_text("notes\n")
        with pytest.raises(ConfigurationError, match="already holds another catalog's chain"):
            audit.claim_anchor(used)
    empty = tmp_path / "empty.log"
    empty.touch()
    assert len(audit.claim_anchor(empty)) == 32
    with pytest.raises(ConfigurationError, match="cannot read the anchor file"):
        audit.claim_anchor(tmp_path)  # a folder


@pytest.mark.parametrize("details", ["not json", "[1, 2]", '{"anchor": "elsewhere"}'])
def test_an_altered_first_event_is_named_by_the_walk(chain: Catalog, details: str) -> None:
    """Event 1 carries the anchor's identity: altered, it is the altered event that verify
    names, not a foreign anchor."""
    with chain.engine.begin() as conn:
        disable_audit_protection(conn)
        conn.execute(text("UPDATE audit_events SET details = :d WHERE seq = 1"), {"d": details})
    result = _verify(chain)
    assert (result.ok, result.broken_seq) == (False, 1)
    assert "event 1 was altered" in (result.problem or "")
