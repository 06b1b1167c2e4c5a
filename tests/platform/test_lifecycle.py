"""``agoria-tre hub`` starts everything the platform needs and, stopped or crashed, leaves
nothing behind: no process, container, network, firewall table, mount or token."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from agoria_tre.testing.platform import AGORIA, TrialPlatform, prepare

pytestmark = pytest.mark.workspaces


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrialPlatform]:
    platform = prepare(tmp_path_factory.mktemp("lifecycle"), datasets=["patients"])
    platform.cli("project", "create", "cardio", "--title", "C", "--legal-basis", "MR-004")
    platform.cli("member", "add", "cardio", "alice", "--role", "researcher")
    until = (date.today() + timedelta(days=30)).isoformat()
    platform.cli("grant", "add", "cardio", "patients@1", "--reference", "R", "--until", until)
    yield platform
    platform.stop(signal.SIGKILL)


def processes_of(home: Path) -> list[str]:
    """Command lines of live processes started for this data directory."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if str(home).encode() in environ or str(home) in command:
            found.append(command)
    return found


def leftovers(home: Path) -> dict[str, object]:
    """What a platform on the data directory ``home`` has running or set up on this host."""
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout
    mounts = [line for line in Path("/proc/mounts").read_text().splitlines() if str(home) in line]
    env = {**os.environ, "CONTAINERS_CONF": str(home / "run" / "containers.conf")}
    containers = subprocess.run(
        ["podman", "ps", "-a", "--filter", "label=org.agoria-tre.project", "--format",
         "{{.Names}}"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.split()  # fmt: skip
    networks = subprocess.run(
        ["podman", "network", "ls", "--filter", "label=org.agoria-tre.network", "--format",
         "{{.Name}}"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.split()  # fmt: skip
    return {
        "processes": processes_of(home),
        "firewall": [t for t in tables.splitlines() if "agoria_tre" in t],
        "mounts": mounts,
        "containers": containers,
        "networks": networks,
        "run files": sorted(
            p.name for p in (home / "run").iterdir() if p.name in {"hub.json", "podman.sock"}
        ),
    }


NOTHING: dict[str, object] = {
    "processes": [],
    "firewall": [],
    "mounts": [],
    "containers": [],
    "networks": [],
    "run files": [],
}


def test_a_stopped_platform_leaves_nothing(trial: TrialPlatform) -> None:
    trial.start()
    trial.hub.ensure_user("alice")
    trial.hub.start("alice", "cardio")
    running = leftovers(trial.home)
    assert running["containers"] == ["agoria-ws-cardio-alice"]
    assert running["networks"] == ["agoria-ws-cardio"]
    assert len(running["firewall"]) == 2  # type: ignore[arg-type]
    assert running["run files"] == ["hub.json", "podman.sock"]
    assert (trial.home / "run" / "hub.json").stat().st_mode & 0o777 == 0o600
    assert trial.stop(signal.SIGTERM) == 0
    assert leftovers(trial.home) == NOTHING
    log = trial.log.read_text()
    assert "workspace.stop" not in log  # audit events go to the catalog, not the log
    events = json.loads(trial.cli("audit", "show", "--project", "cardio", "--json").stdout)
    assert [e["action"] for e in events][-2:] == ["workspace.start", "workspace.stop"]


def test_a_start_after_a_crash_clears_what_the_crash_left(trial: TrialPlatform) -> None:
    trial.start()
    trial.hub.ensure_user("alice")
    trial.hub.start("alice", "cardio")
    assert trial.stop(signal.SIGKILL) == -signal.SIGKILL  # the supervisor dies; its children stay
    time.sleep(0.5)
    crashed = leftovers(trial.home)
    assert crashed["processes"], crashed
    assert crashed["containers"] == ["agoria-ws-cardio-alice"]
    trial.start()
    assert leftovers(trial.home)["containers"] == []  # the old workspace is gone
    trial.hub.start("alice", "cardio")  # and a new one starts
    assert trial.stop(signal.SIGINT) == 0
    assert leftovers(trial.home) == NOTHING


def test_without_an_identity_provider_the_hub_refuses_to_start(trial: TrialPlatform) -> None:
    done = subprocess.run(
        [AGORIA, "hub", "--url", "http://127.0.0.1:18990"],
        env=trial.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "OpenID Connect login needs AGORIA_OIDC_CLIENT_ID" in done.stderr
    assert "Traceback" not in done.stderr
    assert leftovers(trial.home) == NOTHING


def test_an_idle_workspace_is_stopped(trial: TrialPlatform) -> None:
    trial.start("--idle-timeout", "10")
    try:
        trial.hub.ensure_user("alice")
        trial.hub.start("alice", "cardio")
        deadline = time.monotonic() + 120
        while trial.hub.server("alice", "cardio") is not None:
            assert time.monotonic() < deadline, "the idle workspace was not culled"
            time.sleep(1)
        events = json.loads(trial.cli("audit", "show", "--project", "cardio", "--json").stdout)
        assert events[-1]["action"] == "workspace.stop"
    finally:
        trial.stop()
