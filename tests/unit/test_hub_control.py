"""Stopping workspaces from outside the hub: which ones, and what happens when the hub
cannot be asked."""

from __future__ import annotations

import gc
import json
import socket
from pathlib import Path

import pytest

from agoria_tre.hub import control
from agoria_tre.hub.control import HubEndpoint, RunningWorkspace, WorkspacesNotStopped

RUNNING = [
    RunningWorkspace("alice", "cardio", ("patients@1", "treatments@1")),
    RunningWorkspace("bob", "cardio", ("patients@1",)),
    RunningWorkspace("carol", "onco", ("patients@1",)),
    RunningWorkspace("dana", "cardio", None),  # the hub did not say what it mounts
]


@pytest.mark.parametrize(
    ("user", "labels", "chosen"),
    [
        (None, (), ["alice", "bob", "dana"]),  # the whole project (archive)
        ("bob", (), ["bob"]),  # one member (member remove)
        (None, ("treatments@1",), ["alice", "dana"]),  # one copy (revoke); unknown mounts too
        (None, ("outcomes@1",), ["dana"]),
    ],
)
def test_which_workspaces_are_stopped(
    user: str | None, labels: tuple[str, ...], chosen: list[str]
) -> None:
    found = control.select(RUNNING, project="cardio", user=user, labels=labels)
    assert [w.user for w in found] == chosen


def test_the_platforms_hub_is_found_from_its_run_file(tmp_path: Path) -> None:
    assert HubEndpoint.of_platform(tmp_path) is None  # no platform runs
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "hub.json").write_text(
        json.dumps({"api_url": "http://127.0.0.1:8081/hub/api", "token": "t"})
    )
    assert HubEndpoint.of_platform(tmp_path) == HubEndpoint("http://127.0.0.1:8081/hub/api", "t")


def test_a_service_uses_its_own_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "service-token")
    assert HubEndpoint.of_service() == HubEndpoint("http://127.0.0.1:8081/hub/api", "service-token")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there now


def test_an_unreachable_hub_stops_nothing_and_says_so(tmp_path: Path) -> None:
    endpoint = HubEndpoint(f"http://127.0.0.1:{closed_port()}/hub/api", "t")
    with pytest.raises(WorkspacesNotStopped) as refused:
        control.stop_workspaces(tmp_path, "cardio", endpoint=endpoint)
    assert refused.value.user_message == (
        "the hub cannot be reached to stop workspaces; its reconciler retries"
    )
    assert refused.value.exit_code == 5
    callback = control.stop_callback(tmp_path, endpoint)
    with pytest.raises(WorkspacesNotStopped):
        callback("cardio", ["patients@1"])


# docker-py's unix connection does not close its socket when connecting fails.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_runtime_that_cannot_be_asked_keeps_whatever_waits_on_the_stop(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "podman.sock").write_text("")  # there, but nothing serves it
    with pytest.raises(WorkspacesNotStopped, match="the container runtime could not be asked"):
        control.stop_workspaces(tmp_path, "cardio", ("patients@1",))
    gc.collect()  # the leaked socket's warning, here under this test's filter
