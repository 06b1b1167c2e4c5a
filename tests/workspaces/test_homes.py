"""A member's home in a project: made on first start, seeded with the project's starter files."""

from __future__ import annotations

import pytest

from agoria_tre.testing.hub import Hub
from tests.workspaces.probes import run_json

pytestmark = pytest.mark.workspaces

LIST = """
import json, os
home = os.environ["HOME"]
names = sorted(os.listdir(home))
welcome = os.path.join(home, "welcome.md")
text = open(welcome).read() if "welcome.md" in names else None
print(json.dumps({"names": names, "welcome": text}))
"""


def test_a_new_home_holds_the_projects_starter_files_and_no_link(
    hub: Hub, workspace: tuple[str, str]
) -> None:
    found = run_json(hub, *workspace, LIST)
    assert isinstance(found, dict)
    assert found["welcome"] == "# Cardiology\n"
    assert "shadow" not in found["names"]


def test_another_projects_homes_get_none(hub: Hub) -> None:
    hub.start("carol", "onco")
    try:
        found = run_json(hub, "carol", "onco", LIST)
        assert isinstance(found, dict)
        assert found["welcome"] is None
    finally:
        hub.stop("carol", "onco")
