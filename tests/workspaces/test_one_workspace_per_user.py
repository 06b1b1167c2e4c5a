"""All of a user's workspaces share one web origin: one runs at a time."""

from __future__ import annotations

import pytest

from agoria_tre.testing.hub import Hub, HubError
from agoria_tre.testing.platform import TrialPlatform
from tests.workspaces.probes import run_json

pytestmark = pytest.mark.workspaces


def test_starting_a_second_project_stops_the_first(hub: Hub, platform: TrialPlatform) -> None:
    hub.start("alice", "cardio")
    run_json(hub, "alice", "cardio", "import json; print(json.dumps(1))")
    events = hub.start_watching("alice", "onco")
    try:
        messages = [e.get("message", "") for e in events]
        assert (
            "Your workspace for project 'cardio' was stopped: one project workspace runs at a"
            " time." in messages
        ), messages
        assert events[-1].get("ready")
        servers = hub.user("alice")["servers"]
        assert set(servers) == {"onco"}
        audit = platform.cli("audit", "show", "--project", "cardio", "--json").stdout
        assert '"workspace.stop"' in audit
    finally:
        hub.stop("alice", "onco")


def test_a_project_the_user_is_not_a_researcher_of_is_refused(hub: Hub) -> None:
    # Dana reviews cardio; bob is not a member of onco; nobody may open an unknown project.
    for user, project in (("dana", "cardio"), ("bob", "onco"), ("alice", "no-such-project")):
        message = hub.start_failure(user, project)
        assert "you may not start a workspace" in message or "unknown project" in message
        assert hub.server(user, project) is None


def test_the_default_server_is_refused(hub: Hub) -> None:
    with pytest.raises(HubError) as refused:
        hub.request("POST", "/hub/api/users/alice/server")
    assert refused.value.status == 404
    assert "choose a project" in refused.value.body
