"""The audit witness: heads kept by another account expose a rewrite of the chain that the
anchor file was made to agree with."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from agoria_tre import audit
from agoria_tre.audit_witness import (
    WITNESS_USER,
    Heads,
    WitnessRefused,
    WitnessServer,
    catalog_paths,
    listening,
    prepare,
    read_heads,
    send_head,
)
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import AuditEvent
from agoria_tre.config import Settings
from tests.factories import make_project
from tests.integration.test_audit import add_reviewer
from tests.integration.test_cli import agoria
from tests.support import disable_audit_protection


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[WitnessServer]:
    """A witness serving in this process (its own account is tested below)."""
    server = WitnessServer(tmp_path / "witness.sock", tmp_path / "heads.log")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def witnessed(catalog: Catalog, witness: WitnessServer) -> Catalog:
    """A catalog sending its heads to the witness, with five events, one per commit."""
    settings = dataclasses.replace(catalog.settings, audit_witness=witness.socket_path)
    witnessed = Catalog(settings, engine=catalog.engine)
    make_project(witnessed, "cardio-eap")  # 2 (1 is catalog.init, before the witness)
    for user in ("alice", "bob", "carol"):  # 3, 4, 5
        add_reviewer(witnessed, user)
    return witnessed


def verify(catalog: Catalog, witness: Path | None) -> audit.VerifyResult:
    with catalog.snapshot() as session:
        return audit.verify(session, catalog.anchor_path, settle_seconds=0.2, witness=witness)


def rewrite(
    catalog: Catalog, first: int = 1, *, actor: str | None = None, anchor: str | None = None
) -> None:
    """What the platform's account can do: rewrite events from ``first`` on (their actor,
    or event 1's recorded anchor identity), recompute the chain, and rewrite the anchor file
    to match, one line per event (under ``anchor`` as its identity, when given)."""
    header = catalog.anchor_path.read_text().splitlines(keepends=True)[:1]
    with catalog.engine.begin() as conn:
        disable_audit_protection(conn)
        rows = conn.execute(select(AuditEvent.__table__).order_by(AuditEvent.seq)).all()
        prev = audit.GENESIS_HASH
        lines = [f"agoria-audit-anchor {anchor}\n"] if anchor else header
        for row in rows:
            who = actor if actor is not None and row.seq >= first else row.actor
            details = row.details
            if anchor is not None and row.seq == 1:
                recorded = json.loads(details)
                recorded["anchor"]["id"] = anchor
                details = audit.canonical_details(recorded)
            canonical = audit.canonical_bytes(
                row.seq, row.occurred_at, who, row.action, row.target, row.project,
                details, row.os_user,
            )  # fmt: skip
            digest = audit.chain_hash(prev, canonical)
            conn.execute(
                text(
                    "UPDATE audit_events SET actor = :a, details = :d, canonical = :c,"
                    " prev_hash = :p, hash = :h WHERE seq = :s"
                ),
                {"a": who, "d": details, "c": canonical, "p": prev, "h": digest, "s": row.seq},
            )
            lines.append(f"{row.seq} {row.seq} {digest}\n")
            prev = digest
        conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    catalog.anchor_path.write_text("".join(lines))


def test_heads_are_witnessed_and_a_consistent_rewrite_is_named(
    witnessed: Catalog, witness: WitnessServer
) -> None:
    heads = read_heads(witness.log_path)
    assert sorted(heads.by_seq) == [2, 3, 4, 5]
    assert verify(witnessed, witness.log_path).ok
    rewrite(witnessed, 4, actor="mallory")
    assert verify(witnessed, None).ok  # the anchor file alone was made to agree
    result = verify(witnessed, witness.log_path)
    assert (result.ok, result.broken_seq) == (False, 4)
    assert result.problem == "event 4 differs from the witness: the chain was rewritten"


def test_a_rewrite_between_two_witnessed_heads_is_bounded_by_them(
    witnessed: Catalog, witness: WitnessServer
) -> None:
    lines = witness.log_path.read_text().splitlines()
    witness.log_path.write_text("\n".join(lines[:1] + lines[3:]) + "\n")  # heads 2 and 5
    rewrite(witnessed, 4, actor="mallory")
    result = verify(witnessed, witness.log_path)
    assert (result.ok, result.broken_seq) == (False, 3)
    assert result.problem == "events 3 to 5 differ from the witness: the chain was rewritten"


def test_deleted_newest_events_are_named_from_the_witness(
    witnessed: Catalog, witness: WitnessServer
) -> None:
    with witnessed.engine.begin() as conn:
        disable_audit_protection(conn)
        conn.execute(text("DELETE FROM audit_events WHERE seq = 5"))
        digest = conn.execute(text("SELECT hash FROM audit_events WHERE seq = 4")).scalar_one()
        conn.execute(text("UPDATE audit_head SET seq = 4, hash = :h"), {"h": digest})
    witnessed.anchor_path.write_text(  # the identity and events 1 to 4
        "".join(witnessed.anchor_path.read_text().splitlines(keepends=True)[:5])
    )
    result = verify(witnessed, witness.log_path)
    assert (result.ok, result.broken_seq) == (False, 5)
    assert "the witness took events up to 5 but the chain ends at 4" in (result.problem or "")


def test_a_witness_that_cannot_be_reached_does_not_stop_a_change(
    catalog: Catalog, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    absent = tmp_path / "absent.sock"
    settings = dataclasses.replace(catalog.settings, audit_witness=absent)
    with caplog.at_level(logging.WARNING, logger="agoria_tre.audit"):
        make_project(Catalog(settings, engine=catalog.engine), "cardio-eap")
    assert f"the audit witness at {absent} did not take event 2" in caplog.text
    assert verify(catalog, None).ok


def test_the_witness_takes_only_well_formed_heads(witness: WitnessServer) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(witness.socket_path))
        sock.sendall(b"2 not-a-hash\n")
        assert sock.recv(16) == b"refused\n"
    with pytest.raises(OSError, match="the witness refused head 0"):
        send_head(witness.socket_path, 0, "a" * 64)
    assert witness.log_path.read_bytes() == b""


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"2 " + b"a" * 64 + b"\nbad line\n", "line 2 is malformed"),
        (b"2 " + b"a" * 64 + b"\n2 " + b"b" * 64 + b"\n", "holds two hashes for event 2"),
    ],
)
def test_a_damaged_witness_file_is_reported(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "heads.log"
    path.write_bytes(content)
    assert problem in (read_heads(path).problem or "")


def test_an_empty_witness_proves_nothing_and_says_so(catalog: Catalog, tmp_path: Path) -> None:
    empty = tmp_path / "heads.log"
    empty.write_bytes(b"")
    result = verify(catalog, empty)
    assert not result.ok
    assert "holds no head: the witness has seen nothing of this chain" in (result.problem or "")


def test_a_witness_run_as_root_keeps_existing_folders_their_owners(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    prepare(shared / "w.sock", tmp_path / "own" / "heads.log", "nobody")
    assert shared.stat().st_uid == os.getuid()  # was there: not handed to the witness
    assert (tmp_path / "own").stat().st_uid == pwd.getpwnam("nobody").pw_uid


def test_a_witness_file_being_written_or_absent(tmp_path: Path) -> None:
    path = tmp_path / "heads.log"
    path.write_bytes(b"2 " + b"a" * 64 + b"\n3 " + b"b" * 10)  # the last line is being written
    assert read_heads(path).by_seq == {2: "a" * 64}
    assert "cannot read the witness file" in (read_heads(tmp_path / "absent").problem or "")


def test_folders_for_a_witness_run_by_this_account(tmp_path: Path) -> None:
    drop = prepare(tmp_path / "run" / "w.sock", tmp_path / "lib" / "heads.log", None)
    drop()  # nothing to drop
    assert (tmp_path / "run").is_dir()
    assert (tmp_path / "lib").is_dir()


def test_the_witness_runs_as_its_own_account_and_verify_reads_it(tmp_path: Path) -> None:
    """The embedded default: ``agoria-tre audit witness --user`` as root drops to its own
    account; the platform (root here) sends heads; ``audit verify --witness`` reads them."""
    folder = Path(tempfile.mkdtemp(prefix="agoria-witness-"))
    folder.chmod(0o755)
    sock, heads = folder / "run" / "witness.sock", folder / "lib" / "heads.log"
    env = {"AGORIA_HOME": str(tmp_path / "home"), "AGORIA_AUDIT_WITNESS": str(sock)}
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("agoria-tre")), "audit", "witness",
         "--socket", str(sock), "--log", str(heads), "--user", "nobody"],
        env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8"},
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        while not sock.exists():
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            time.sleep(0.05)
        assert agoria(env, "init").code == 0
        assert (
            agoria(env, "project", "create", "cardio", "--title", "C", "--legal-basis", "M").code
            == 0
        )
        nobody = pwd.getpwnam("nobody")
        assert (heads.stat().st_uid, heads.stat().st_mode & 0o777) == (nobody.pw_uid, 0o644)
        assert sorted(read_heads(heads).by_seq) == [1, 2]
        checked = agoria(env, "audit", "verify", "--witness", str(heads), "--json")
        assert checked.code == 0, checked.err
        assert json.loads(checked.out)["ok"] is True
        catalog = Catalog(Settings.from_env(env))
        rewrite(catalog, 2, actor="mallory")  # chain and anchor, consistently
        catalog.dispose()
        assert agoria(env, "audit", "verify").code == 0  # the anchor alone agrees
        caught = agoria(env, "audit", "verify", "--witness", str(heads))
        assert caught.code == 1
        assert "event 2 differs from the witness: the chain was rewritten" in caught.err
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=10)
        shutil.rmtree(folder)


def test_a_catalog_sends_its_heads_to_its_own_witness_on_this_host(catalog: Catalog) -> None:
    """Without AGORIA_AUDIT_WITNESS, heads go to the witness named after the catalog's data
    directory, while one listens there; its file is bound to the chain's anchor."""
    identity = audit.anchor_identity(catalog.anchor_path)
    socket_path, heads = catalog_paths(catalog.settings.home)
    assert catalog.witness_socket() is None  # none runs yet
    prepare(socket_path, heads, WITNESS_USER)  # as `agoria-tre hub` makes them
    server = WitnessServer(socket_path, heads, identity)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert listening(socket_path)
        assert catalog.witness_socket() == socket_path
        make_project(catalog, "cardio-eap")  # event 2
        with catalog.read() as session:
            digest = session.scalars(select(AuditEvent.hash).where(AuditEvent.seq == 2)).one()
        assert read_heads(heads) == Heads({2: digest}, anchor=identity)
    finally:
        server.shutdown()
        server.server_close()
        heads.unlink()
    assert not listening(socket_path)
    assert catalog.witness_socket() is None  # a stopped witness takes its socket away


def test_a_chain_replaced_under_a_new_anchor_does_not_escape_its_witness(
    catalog: Catalog, tmp_path: Path
) -> None:
    identity = audit.anchor_identity(catalog.anchor_path)
    heads = tmp_path / "heads.log"
    server = WitnessServer(tmp_path / "w.sock", heads, identity)
    server.server_close()  # the file is bound to the chain at its first start
    fresh = "e" * 32
    rewrite(catalog, anchor=fresh)  # the whole chain, under a new anchor identity
    with catalog.snapshot() as session:
        assert audit.verify(session, catalog.anchor_path, settle_seconds=0.1).ok  # alone
        result = audit.verify(session, catalog.anchor_path, settle_seconds=0.1, witness=heads)
    assert not result.ok
    assert result.problem == (
        f"the witness {heads} took the heads of the chain of anchor {identity}, and this"
        f" chain's anchor is {fresh}: the chain was replaced"
    )
    with pytest.raises(WitnessRefused, match=f"witnesses the chain of anchor {identity}, not"):
        WitnessServer(tmp_path / "w.sock", heads, fresh)  # nor does it take the new one's heads


def test_an_anchor_without_identity_gives_a_witness_file_without_one(tmp_path: Path) -> None:
    assert audit.anchor_identity(tmp_path / "absent.log") is None
    legacy = tmp_path / "anchor.log"
    legacy.write_text("1 1 " + "a" * 64 + "\n")
    assert audit.anchor_identity(legacy) is None
    heads = tmp_path / "heads.log"
    WitnessServer(tmp_path / "w.sock", heads, None).server_close()
    assert heads.read_bytes() == b""
    assert not listening(tmp_path / "nothing.sock")
