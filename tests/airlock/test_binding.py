"""A request made with a workspace's own hub token belongs to that workspace's project,
whatever its body names; the token reaches the airlock but downloads nothing."""

from __future__ import annotations

import pytest

from agoria_tre.testing.airlock import AirlockClient
from agoria_tre.testing.platform import TrialPlatform

pytestmark = pytest.mark.workspaces


def test_a_workspace_token_binds_requests_to_its_project(
    airlock_platform: TrialPlatform, tokens: dict[str, str]
) -> None:
    hub = airlock_platform.hub
    hub.start("alice", "cardio")
    try:
        secret = hub.run(
            "alice", "cardio", "import os; print(os.environ['JUPYTERHUB_API_TOKEN'])"
        ).strip()
        check_binding(airlock_platform, tokens, secret)
    finally:
        hub.stop("alice", "cardio")
    gone = AirlockClient(airlock_platform.public_url, secret).get("api/requests")
    assert gone.status == 401  # a stopped workspace's token is no credential


def check_binding(airlock_platform: TrialPlatform, tokens: dict[str, str], secret: str) -> None:
    assert secret
    assert secret != tokens["alice"]
    workspace = AirlockClient(airlock_platform.public_url, secret)
    made = workspace.post("api/requests", {"project": "onco", "title": "from the workspace"})
    assert made.status == 201, made.body
    assert (made.json["project"], made.json["from_workspace"]) == ("cardio", True)
    listed = workspace.get("api/requests?project=onco")  # the workspace sees its project only
    assert made.json["id"] in [r["id"] for r in listed.json["requests"]]
    assert {r["project"] for r in listed.json["requests"]} == {"cardio"}
    personal = AirlockClient(airlock_platform.public_url, tokens["alice"])
    mine = personal.post("api/requests", {"project": "cardio", "title": "personal"})
    assert mine.json["from_workspace"] is False
