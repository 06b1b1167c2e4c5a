"""The admin CLI as an operator uses it: real processes, both databases, exit statuses."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from agoria_tre import __version__
from agoria_tre.catalog import grants
from agoria_tre.catalog.db import Catalog
from agoria_tre.cli.main import main
from agoria_tre.config import Settings
from agoria_tre.testing.platform import operator_env
from tests.factories import make_version
from tests.support import disable_audit_protection, snapshot

AGORIA = str(Path(sys.executable).with_name("agoria-tre"))
OWN_USER = pwd.getpwuid(os.getuid()).pw_name


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)


def agoria(env: dict[str, str], *args: str) -> Run:
    """The installed console script, in a process of its own, as an operator runs it."""
    done = subprocess.run(
        [AGORIA, *args],
        env=operator_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


RunCli = Callable[..., Run]


@pytest.fixture
def cli(
    db_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> RunCli:
    """The same CLI in-process (fast), for the many refusal cases."""
    for key, value in db_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AGORIA_DB_URL", raising=False) if "AGORIA_DB_URL" not in db_env else None

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def test_scripted_session_leaves_a_verified_chain(db_env: dict[str, str]) -> None:
    assert agoria(db_env, "init").code == 0
    steps = [
        (
            "project",
            "create",
            "cardio-eap",
            "--title",
            "Cardiology early access",
            "--legal-basis",
            "MR-004",
        ),
        ("member", "add", "cardio-eap", "alice", "--role", "researcher"),
        ("member", "add", "cardio-eap", "bob", "--role", "reviewer"),
        ("member", "add", "cardio-eap", "carol", "--role", "reviewer"),
        ("member", "add", "cardio-eap", "dana", "--role", "lead"),
        ("member", "add", "cardio-eap", "dana", "--role", "researcher"),
    ]
    for step in steps:
        run = agoria(db_env, *step, "--actor", "admin-ops")
        assert run.code == 0, run.err
    # Versions enter only through ingest's internal function: there is no CLI for it.
    catalog = Catalog(Settings.from_env(db_env))
    ref = make_version(catalog, "patients", 1200)
    until = (grants.today(catalog.settings.timezone) + timedelta(days=90)).isoformat()
    run = agoria(
        db_env,
        "grant",
        "add",
        "cardio-eap",
        str(ref),
        "--reference",
        "CESREES-42",
        "--until",
        until,
        "--json",
    )
    assert run.code == 0, run.err
    granted = run.json()
    assert isinstance(granted, dict)
    # By default, the process's own user, not USER=operator from its environment.
    assert granted["granted_by"] == OWN_USER
    assert granted["effective"] is True
    shown = agoria(db_env, "project", "show", "cardio-eap", "--json").json()
    assert isinstance(shown, dict)
    assert shown["mountable"] == ["patients@1"]
    assert sorted((m["user"], m["role"]) for m in shown["members"]) == [
        ("alice", "researcher"),
        ("bob", "reviewer"),
        ("carol", "reviewer"),
        ("dana", "lead"),
        ("dana", "researcher"),
    ]
    assert agoria(db_env, "grant", "revoke", "cardio-eap", str(ref)).code == 0
    assert agoria(db_env, "member", "remove", "cardio-eap", "dana", "--role", "lead").code == 0
    assert agoria(db_env, "project", "archive", "cardio-eap", "--actor", "admin-ops").code == 0

    verify = agoria(db_env, "audit", "verify")
    assert verify.code == 0, verify.err
    assert "audit chain intact: 12 events" in verify.out
    events = agoria(db_env, "audit", "show", "--project", "cardio-eap", "--json").json()
    assert isinstance(events, list)
    assert [e["action"] for e in events] == [
        "project.create",
        *["member.add"] * 5,
        "grant.add",
        "grant.revoke",
        "member.remove",
        "project.archive",
    ]
    assert {e["actor"] for e in events} == {"admin-ops", OWN_USER}
    assert {e["os_user"] for e in events} == {OWN_USER}  # whoever the actor named
    assert events[6]["details"]["reference"] == "CESREES-42"
    table = agoria(db_env, "audit", "show", "--since", "1h")
    assert table.code == 0
    assert table.out.splitlines()[0].split()[:3] == ["SEQ", "AT", "ACTOR"]
    assert "dataset.register" in table.out

    # An attacker edits one row with raw SQL: verify exits 1 and names that event.
    with catalog.engine.begin() as conn:
        disable_audit_protection(conn)
        conn.execute(text("UPDATE audit_events SET actor = 'alice' WHERE seq = 9"))
    head_hash = _hash_at(catalog, 8)
    catalog.dispose()
    broken = agoria(db_env, "audit", "verify")
    assert broken.code == 1
    assert "event 9 was altered" in broken.err
    as_json = agoria(db_env, "audit", "verify", "--json")
    assert as_json.code == 1
    assert as_json.json() == {
        "ok": False,
        "events": 8,
        "head_seq": 8,
        "head_hash": head_hash,
        "broken_seq": 9,
        "problem": "event 9 was altered: its columns no longer match its hashed bytes",
        "witness": None,  # no witness runs for this catalog
    }


HELP_COMMANDS = [
    (),
    ("init",),
    ("project",),
    ("project", "create"),
    ("project", "list"),
    ("project", "show"),
    ("project", "archive"),
    ("member",),
    ("member", "add"),
    ("member", "remove"),
    ("grant",),
    ("grant", "add"),
    ("grant", "revoke"),
    ("grant", "list"),
    ("audit",),
    ("audit", "verify"),
    ("audit", "show"),
    ("dataset",),
    ("dataset", "list"),
]


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=" ".join)
def test_every_command_has_help(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    main([*command, "--help"])  # returns normally: exit status 0
    out = capsys.readouterr().out
    assert out.startswith(f"Usage: agoria-tre {' '.join(command)}".rstrip())
    assert "--help" in out


def test_the_console_script_is_installed(tmp_path: Path) -> None:
    run = agoria({"AGORIA_HOME": str(tmp_path)}, "--version")
    assert (run.code, run.out.strip()) == (0, f"agoria-tre, version {__version__}")


def _hash_at(catalog: Catalog, seq: int) -> str:
    with catalog.engine.connect() as conn:
        return str(
            conn.execute(text("SELECT hash FROM audit_events WHERE seq = :s"), {"s": seq}).scalar()
        )


def test_commands_before_init_are_refused_and_create_nothing(
    cli: RunCli, db_env: dict[str, str]
) -> None:
    run = cli("project", "list")
    assert run.code == 2
    assert "not initialised: run 'agoria-tre init'" in run.err
    assert not Path(db_env["AGORIA_HOME"]).exists()


def test_an_unknown_login_user_must_name_the_actor(
    cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_such_uid(uid: int) -> pwd.struct_passwd:
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", no_such_uid)  # a uid without a passwd entry
    run = cli("init")
    assert (run.code, run.err.strip()) == (
        2,
        "agoria-tre: error: cannot tell who is acting: pass --actor NAME",
    )
    assert cli("init", "--actor", "ops-admin").code == 0


def test_a_failed_anchor_append_exits_4_saying_the_change_happened(
    cli: RunCli, db_env: dict[str, str]
) -> None:
    assert cli("init").code == 0
    anchor = Path(db_env["AGORIA_HOME"]) / "audit" / "anchor.log"
    anchor.unlink()
    anchor.mkdir()
    run = cli("project", "create", "cardio-eap", "--title", "t", "--legal-basis", "MR-004")
    assert run.code == 4
    assert run.err.strip() == (
        "agoria-tre: error: the change was committed, but event 2 could not be anchored:"
        " tell the platform operators"
    )
    assert cli("project", "show", "cardio-eap").code == 0


@pytest.fixture
def seeded(cli: RunCli, db_env: dict[str, str]) -> Catalog:
    assert cli("init").code == 0
    assert (
        cli("project", "create", "cardio-eap", "--title", "Cardio", "--legal-basis", "MR-004").code
        == 0
    )
    assert (
        cli(
            "project", "create", "old-study", "--title", "Old", "--legal-basis", "CNIL 2019-123"
        ).code
        == 0
    )
    assert cli("member", "add", "cardio-eap", "alice", "--role", "researcher").code == 0
    assert cli("project", "archive", "old-study").code == 0
    catalog = Catalog(Settings.from_env(db_env))
    ref = make_version(catalog)
    until = (grants.today(catalog.settings.timezone) + timedelta(days=30)).isoformat()
    assert (
        cli("grant", "add", "cardio-eap", str(ref), "--reference", "R1", "--until", until).code == 0
    )
    return catalog


FUTURE = "2099-12-31"

BAD_INPUT = {
    "bad slug": (
        ["project", "create", "Cardio_EAP", "--title", "t", "--legal-basis", "b"],
        "invalid project slug",
    ),
    "short slug": (
        ["project", "create", "ab", "--title", "t", "--legal-basis", "b"],
        "invalid project slug",
    ),
    "duplicate project": (
        ["project", "create", "cardio-eap", "--title", "t", "--legal-basis", "b"],
        "project 'cardio-eap' already exists",
    ),
    "empty title": (
        ["project", "create", "new-one", "--title", " ", "--legal-basis", "b"],
        "title must be",
    ),
    "missing legal basis": (
        ["project", "create", "new-one", "--title", "t"],
        "Missing option '--legal-basis'",
    ),
    "unknown project (show)": (["project", "show", "nope-nope"], "unknown project 'nope-nope'"),
    "unknown project (archive)": (["project", "archive", "nope-nope"], "unknown project"),
    "archive twice": (["project", "archive", "old-study"], "is archived"),
    "unknown project (member)": (
        ["member", "add", "nope-nope", "bob", "--role", "reviewer"],
        "unknown project",
    ),
    "bad role": (["member", "add", "cardio-eap", "bob", "--role", "boss"], "'boss' is not one"),
    "bad user": (
        ["member", "add", "cardio-eap", "Bob Smith", "--role", "reviewer"],
        "invalid user name",
    ),
    "duplicate member": (
        ["member", "add", "cardio-eap", "alice", "--role", "researcher"],
        "already researcher",
    ),
    "member of archived": (
        ["member", "add", "old-study", "bob", "--role", "reviewer"],
        "is archived",
    ),
    "remove non-member": (["member", "remove", "cardio-eap", "bob"], "not a member"),
    "remove missing role": (
        ["member", "remove", "cardio-eap", "alice", "--role", "lead"],
        "not lead of",
    ),
    "unknown dataset version": (
        ["grant", "add", "cardio-eap", "patients@7", "--reference", "R", "--until", FUTURE],
        "unknown dataset version patients@7",
    ),
    "bad dataset ref": (
        ["grant", "add", "cardio-eap", "patients", "--reference", "R", "--until", FUTURE],
        "write NAME@VERSION",
    ),
    "date in the past": (
        ["grant", "add", "cardio-eap", "patients@1", "--reference", "R", "--until", "2020-01-01"],
        "end date 2020-01-01 is in the past",
    ),
    "bad date": (
        ["grant", "add", "cardio-eap", "patients@1", "--reference", "R", "--until", "31/12/2027"],
        "--until must be a date written YYYY-MM-DD",
    ),
    "duplicate grant": (
        ["grant", "add", "cardio-eap", "patients@1", "--reference", "R", "--until", FUTURE],
        "already holds a grant",
    ),
    "grant to archived": (
        ["grant", "add", "old-study", "patients@1", "--reference", "R", "--until", FUTURE],
        "is archived",
    ),
    "unknown project (grant)": (
        ["grant", "add", "nope-nope", "patients@1", "--reference", "R", "--until", FUTURE],
        "unknown project",
    ),
    "revoke nothing": (["grant", "revoke", "old-study", "patients@1"], "holds no grant"),
    "revoke unknown version": (
        ["grant", "revoke", "cardio-eap", "patients@3"],
        "unknown dataset version",
    ),
    "bad actor": (
        [
            "project",
            "create",
            "new-one",
            "--title",
            "t",
            "--legal-basis",
            "b",
            "--actor",
            "two words",
        ],
        "invalid actor",
    ),
    "bad since": (["audit", "show", "--since", "yesterday"], "--since must be"),
    "since overflows": (["audit", "show", "--since", "999999999d"], "--since must be"),
    "since before year 1": (
        ["audit", "show", "--since", "0001-01-01T00:00+01:00"],
        "--since must be",
    ),
    "huge dataset version": (
        [
            "grant",
            "add",
            "cardio-eap",
            "patients@99999999999999999999",
            "--reference",
            "R",
            "--until",
            FUTURE,
        ],
        "write NAME@VERSION",
    ),
    "non-ASCII digits": (
        ["grant", "revoke", "cardio-eap", "patients@\u0661"],
        "write NAME@VERSION",
    ),
    "unknown project (audit)": (["audit", "show", "--project", "nope-nope"], "unknown project"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    cli: RunCli, seeded: Catalog, case: str
) -> None:
    args, message = BAD_INPUT[case]
    before = snapshot(seeded)
    run = cli(*args)
    assert run.code == 2
    assert run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("agoria-tre: error: ")
    assert message in lines[0]
    assert snapshot(seeded) == before
    seeded.dispose()


def test_human_and_json_listings(cli: RunCli, seeded: Catalog) -> None:
    listing = cli("project", "list")
    assert listing.code == 0
    assert [line.split()[:2] for line in listing.out.splitlines()] == [
        ["SLUG", "STATUS"],
        ["cardio-eap", "active"],
        ["old-study", "archived"],
    ]
    active = cli("project", "list", "--active", "--json")
    assert [p["slug"] for p in json.loads(active.out)] == ["cardio-eap"]
    granted = json.loads(cli("grant", "list", "cardio-eap", "--json").out)
    assert [(g["dataset"], g["reference"], g["effective"]) for g in granted] == [
        ("patients@1", "R1", True)
    ]
    versions = json.loads(cli("dataset", "list", "--json").out)
    assert [v["dataset"] for v in versions] == ["patients@1"]
    seeded.dispose()


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    run = agoria(
        {
            "AGORIA_HOME": str(tmp_path),
            "AGORIA_DB_URL": f"postgresql+psycopg://nobody@/none?host={tmp_path}",
        },
        "project",
        "list",
    )
    assert run.code == 2
    assert len(run.err.splitlines()) == 1
    assert run.err.startswith("agoria-tre: error: cannot open the catalog database")


def test_the_command_prints_a_demo_users_password_once(tmp_path: Path) -> None:
    env = {"AGORIA_HOME": str(tmp_path / "home")}
    made = agoria(env, "hub", "demo-user", "alice")
    assert made.code == 0
    user, password = made.out.strip().split("\t")
    assert user == "alice"
    assert len(password) >= 16
    users = tmp_path / "home" / "hub" / "demo-users.json"
    assert password not in users.read_text()  # only its scrypt hash is kept
    assert (users.stat().st_mode & 0o777) == 0o600
    again = agoria(env, "hub", "demo-user", "alice")
    assert (again.code, again.out) == (2, "")
    assert "demo user 'alice' already exists" in again.err
    assert agoria(env, "hub", "demo-user", "Alice Smith").code == 2


def test_a_data_directory_open_to_others_is_made_owner_only(tmp_path: Path) -> None:
    """Created beforehand with the usual 0755, under a 022 umask: any local user could read
    the catalog (project uids, key salts, the audit log)."""
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    env = {"AGORIA_HOME": str(home)}
    assert agoria(env, "init").code == 0
    files = [home, home / "catalog.sqlite", home / "audit", home / "audit" / "anchor.log"]
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {
        "home": "0o700",
        "catalog.sqlite": "0o600",
        "audit": "0o700",
        "anchor.log": "0o600",
    }
    for path in files:  # loosened afterwards: the next command closes them again
        path.chmod(0o755 if path.is_dir() else 0o644)
    listed = agoria(env, "project", "list")
    assert listed.code == 0
    assert "made owner-only" in listed.err
    assert all(p.stat().st_mode & 0o077 == 0 for p in files)


def as_nobody(env: dict[str, str], *args: str) -> Run:
    """The console script run by another local account (not measured: that account may not
    write the test run's coverage files)."""
    user, group = "nobody", "nogroup"
    plain = {k: v for k, v in operator_env(env).items() if not k.startswith("COVERAGE_")}
    done = subprocess.run(
        ["setpriv", f"--reuid={user}", f"--regid={group}", "--init-groups", AGORIA, *args],
        env=plain,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def nobodys_home() -> Iterator[Path]:
    """A data directory of the unprivileged account ``nobody``."""
    folder = Path(tempfile.mkdtemp(prefix="agoria-nobody-"))
    folder.chmod(0o755)
    home = folder / "home"
    home.mkdir()
    shutil.chown(home, "nobody", "nogroup")
    yield home
    shutil.rmtree(folder)


def test_only_admins_may_record_someone_else_as_the_actor(nobodys_home: Path) -> None:
    env = {"AGORIA_HOME": str(nobodys_home), "USER": "alice", "SUDO_USER": "alice"}
    assert as_nobody(env, "init").code == 0
    forged = as_nobody(
        env, "project", "create", "cardio", "--title", "C",
        "--legal-basis", "MR-004", "--actor", "alice",
    )  # fmt: skip
    assert forged.code == 2
    assert "only members of the admin group 'agoria-admins' may act as someone else" in (forged.err)
    made = as_nobody(
        env, "project", "create", "cardio", "--title", "C",
        "--legal-basis", "MR-004",
    )  # fmt: skip
    assert made.code == 0, made.err
    events = json.loads(as_nobody(env, "audit", "show", "--json").out)
    assert [(e["action"], e["actor"], e["os_user"]) for e in events] == [
        ("catalog.init", "nobody", "nobody"),
        ("project.create", "nobody", "nobody"),
    ]
    # Root may name the actor; the event still says who ran the command.
    named = agoria(
        env, "member", "add", "cardio", "bob", "--role", "researcher", "--actor", "alice"
    )
    assert named.code == 0, named.err
    last = json.loads(agoria(env, "audit", "show", "--json").out)[-1]
    assert (last["action"], last["actor"], last["os_user"]) == ("member.add", "alice", OWN_USER)


def test_an_actor_name_that_only_looks_ascii_is_refused(cli: RunCli) -> None:
    assert cli("init").code == 0
    homoglyph = "\u0430lice"  # a Cyrillic a
    run = cli(
        "project", "create", "cardio", "--title", "C", "--legal-basis", "M", "--actor", homoglyph
    )
    assert run.code == 2
    assert "invalid actor" in run.err
    assert "lowercase ASCII" in run.err
