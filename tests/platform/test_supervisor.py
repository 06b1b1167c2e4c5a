"""The platform supervisor when something is wrong: each failure while starting is refused
with a message naming what failed, and what had been started is stopped again: no process,
socket, token, firewall table or lock is left. Processes a crashed run left are ended only
when they are still the platform's programs.

These run :class:`Platform` in the test's own process, with the real runtime, firewall and
hub, on a catalog made by ``agoria-tre init``.
"""

from __future__ import annotations

import dataclasses
import fcntl
import ipaddress
import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agoria_tre import audit, audit_witness
from agoria_tre.audit_witness import read_heads
from agoria_tre.config import Settings
from agoria_tre.errors import ConfigurationError
from agoria_tre.hub import firewall, processes
from agoria_tre.hub.platform import Platform, PlatformOptions
from agoria_tre.testing.platform import free_port, operator_env
from tests.integration.test_cli import agoria
from tests.platform.test_lifecycle import processes_of

pytestmark = pytest.mark.workspaces

VENV_BIN = str(Path(sys.executable).parent)


def make_platform(home: Path) -> Platform:
    if not (home / "catalog.sqlite").exists():
        assert agoria(operator_env({"AGORIA_HOME": str(home)}), "init").code == 0
    return Platform(
        Settings.from_env({"AGORIA_HOME": str(home)}),
        PlatformOptions(
            public_url=f"http://127.0.0.1:{free_port()}",
            api_port=free_port(),
            proxy_api_port=free_port(),
            auth="demo",
            demo=True,
            log_file=home.parent / "hub.log",
        ),
    )


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    return make_platform(tmp_path / "home")


def assert_nothing_left(platform: Platform) -> None:
    run = platform.run_dir
    assert sorted(p.name for p in run.iterdir() if p.name.endswith((".pid", ".json"))) == []
    assert not (run / "podman.sock").exists()
    assert not firewall.active()
    assert processes_of(platform.settings.home) == []
    with (run / "platform.lock").open("a") as handle:  # released: another start may take it
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_a_started_platform_stops_everything_when_its_hub_exits(platform: Platform) -> None:
    platform.start()
    assert firewall.active()
    assert platform.hub is not None
    os.killpg(platform.hub.pid, signal.SIGKILL)  # the hub and its proxy, as a crash would
    assert platform.wait() == -signal.SIGKILL
    assert_nothing_left(platform)


def test_a_second_platform_on_the_same_data_directory_is_refused(platform: Platform) -> None:
    platform.run_dir.mkdir(parents=True)
    with (platform.run_dir / "platform.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ConfigurationError, match="another platform is already running on"):
            platform.start()
    assert processes.marked(platform.run_dir) == []  # not even the runtime was started


def test_without_nftables_the_platform_refuses_to_start(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{VENV_BIN}:/usr/bin:/bin")  # nft lives in /usr/sbin
    with pytest.raises(ConfigurationError, match=r"nftables \(nft\) is not installed"):
        platform.start()
    monkeypatch.undo()
    assert_nothing_left(platform)


def test_without_podman_the_platform_refuses_to_start(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", VENV_BIN)
    with pytest.raises(ConfigurationError, match=r"container runtime is not installed \(podman\)"):
        platform.start()
    monkeypatch.undo()
    assert_nothing_left(platform)


def test_a_runtime_that_cannot_start_is_reported(tmp_path: Path) -> None:
    platform = make_platform(tmp_path / ("d" * 100) / "home")  # too long for a unix socket
    with pytest.raises(ConfigurationError, match="the container runtime did not start"):
        platform.start()
    assert (platform.run_dir / "podman.log").read_text() != ""
    assert_nothing_left(platform)


def test_a_hub_that_exits_while_starting_stops_the_platform(platform: Platform) -> None:
    with socket.socket() as taken:  # the hub cannot listen on its API port
        taken.bind(("127.0.0.1", platform.options.api_port))
        taken.listen()
        with pytest.raises(ConfigurationError, match="the hub exited while starting; see its log"):
            platform.start()
    assert "Address already in use" in (platform.settings.home.parent / "hub.log").read_text()
    assert_nothing_left(platform)


def test_a_hub_that_does_not_answer_in_time_is_stopped(platform: Platform) -> None:
    platform.options = dataclasses.replace(platform.options, log_file=None)  # to the terminal
    with pytest.raises(ConfigurationError, match=r"the hub did not answer within 0\.2 s"):
        platform.start(timeout=0.2)
    assert_nothing_left(platform)


STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready',"
    " flush=True); time.sleep(120)"
)


def test_a_hub_that_ignores_sigterm_is_killed_with_its_process_group(platform: Platform) -> None:
    stubborn = subprocess.Popen(
        [sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, start_new_session=True
    )
    assert stubborn.stdout is not None
    assert stubborn.stdout.readline() == b"ready\n"  # SIGTERM is ignored from now on
    stubborn.stdout.close()
    platform.hub = stubborn
    platform.hub_stop_timeout = 0.5
    platform.run_dir.mkdir(parents=True)
    platform.stop()
    assert stubborn.returncode == -signal.SIGKILL


def test_a_child_that_ignores_sigterm_is_killed() -> None:
    stubborn = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE)
    assert stubborn.stdout is not None
    assert stubborn.stdout.readline() == b"ready\n"
    stubborn.stdout.close()
    processes.end_process(stubborn, timeout=0.2)
    assert stubborn.returncode == -signal.SIGKILL
    processes.end_process(stubborn, timeout=0.2)  # already ended: nothing to do


def run_detached(*command: str, env: dict[str, str] | None = None) -> int:
    """Start a process that is not this one's child (as a crashed run's leftovers are not)."""
    done = subprocess.run(
        ["sh", "-c", 'setsid "$@" >/dev/null 2>&1 & echo $!', "sh", *command],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return int(done.stdout)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def ignores_sigterm(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    (mask,) = (line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(int(mask, 16) & (1 << (signal.SIGTERM - 1)))


def test_what_a_crashed_run_left_is_ended_and_nothing_else(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    marked = {**os.environ, **processes.mark(run_dir)}
    polite = run_detached("sleep", "60", env=marked)
    stubborn = run_detached(sys.executable, "-c", STUBBORN, env=marked)
    while not ignores_sigterm(stubborn):
        time.sleep(0.02)
    of_another_run = run_detached("sleep", "60", env={**os.environ, **processes.mark(tmp_path)})
    stranger = run_detached("sleep", "60")  # a program with no mark, say a reused pid
    try:
        assert processes.marked(run_dir) == sorted([polite, stubborn])
        assert processes.end_marked(run_dir, timeout=0.5) == sorted([polite, stubborn])
        assert not alive(polite)
        assert not alive(stubborn)  # killed once the timeout passed
        assert alive(of_another_run)
        assert alive(stranger)
        assert processes.end_marked(run_dir) == []
    finally:
        processes.end_marked(tmp_path)
        os.kill(stranger, signal.SIGKILL)


def test_a_ruleset_nftables_refuses_is_reported_and_nothing_is_loaded() -> None:
    pool = ipaddress.IPv4Network("10.213.0.0/16")
    with pytest.raises(ConfigurationError, match="workspaces cannot start") as refused:
        firewall.apply(pool, [70000])  # not a port
    assert "nft -f failed" in refused.value.log_message
    assert not firewall.active()
    firewall.remove()  # nothing there: not an error


def test_the_platform_runs_its_catalogs_witness_as_its_own_user(platform: Platform) -> None:
    """The embedded default: the hub starts the catalog's audit witness as ``agoria-witness``;
    every command's commit is witnessed while it runs, ``audit verify`` reads the witness by
    default, and the witness stops with the platform."""
    socket_path, heads = audit_witness.catalog_paths(platform.settings.home)
    env = operator_env({"AGORIA_HOME": str(platform.settings.home)})
    try:
        platform.start()
        witnesses = [
            pid for pid in processes.marked(platform.run_dir)
            if b"audit\0witness" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]  # fmt: skip
        assert len(witnesses) == 1
        owner = Path(f"/proc/{witnesses[0]}").stat().st_uid
        assert owner == pwd.getpwnam(audit_witness.WITNESS_USER).pw_uid != os.geteuid()
        made = agoria(env, "project", "create", "cardio", "--title", "C", "--legal-basis", "M")
        assert made.code == 0, made.err
        witnessed = read_heads(heads)
        assert witnessed.anchor == audit.anchor_identity(platform.settings.audit_anchor)
        assert 2 in witnessed.by_seq  # project.create, witnessed
        checked = agoria(env, "audit", "verify", "--json")
        assert checked.code == 0, checked.err
        assert json.loads(checked.out)["witness"] == str(heads)
    finally:
        platform.stop()
    assert not socket_path.exists()
    assert_nothing_left(platform)
    heads.unlink()


def test_the_witness_takes_the_chains_head_when_the_platform_starts(platform: Platform) -> None:
    """A platform that commits nothing while it runs still leaves its witness holding the
    head the chain had: what the command line writes afterwards, with no witness running,
    verifies against it."""
    _, heads = audit_witness.catalog_paths(platform.settings.home)
    env = operator_env({"AGORIA_HOME": str(platform.settings.home)})
    before = json.loads(agoria(env, "audit", "verify", "--json").out)
    try:
        platform.start()
        assert read_heads(heads).by_seq == {before["head_seq"]: before["head_hash"]}
    finally:
        platform.stop()
    made = agoria(env, "project", "create", "cardio", "--title", "C", "--legal-basis", "M")
    assert made.code == 0, made.err
    checked = agoria(env, "audit", "verify", "--json")
    assert checked.code == 0, checked.err
    assert json.loads(checked.out)["witness"] == str(heads)
    heads.unlink()


def test_a_witness_named_by_the_operator_is_not_started_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    platform = make_platform(home)
    platform.settings = dataclasses.replace(
        platform.settings, audit_witness=tmp_path / "elsewhere.sock"
    )
    try:
        platform.start()
        assert not [
            pid for pid in processes.marked(platform.run_dir)
            if b"audit\0witness" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]  # fmt: skip
    finally:
        platform.stop()
    assert_nothing_left(platform)


def test_a_witness_already_running_for_the_catalog_is_used(platform: Platform) -> None:
    socket_path, heads = audit_witness.catalog_paths(platform.settings.home)
    audit_witness.prepare(socket_path, heads, audit_witness.WITNESS_USER)
    server = audit_witness.WitnessServer(socket_path, heads)  # a service of its own
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        platform.start()
        assert platform.witness is None
        platform.stop()
        assert audit_witness.listening(socket_path)  # not the platform's to stop
    finally:
        server.shutdown()
        server.server_close()
        heads.unlink()
    assert_nothing_left(platform)
