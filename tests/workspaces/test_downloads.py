"""Direct downloads from a workspace are refused (a speed bump: see docs/workspaces.md)."""

from __future__ import annotations

import pytest

from agoria_tre.testing.hub import Hub, HubError
from tests.workspaces.probes import run_json

pytestmark = pytest.mark.workspaces


def test_download_routes_answer_403(hub: Hub, workspace: tuple[str, str]) -> None:
    user, project = workspace
    run_json(hub, user, project, "open('table.csv', 'w').write('a,b\\n1,2\\n'); print(1)")
    base = f"/user/{user}/{project}"
    for route in (
        "/files/table.csv",
        "/files/table.csv?download=1",
        "/view/table.csv",
        "/nbconvert/html/table.csv?download=true",
        "/api/nbconvert",
    ):
        with pytest.raises(HubError) as refused:
            hub.request("GET", base + route)
        assert refused.value.status == 403, route
        assert "Downloads are disabled" in refused.value.body
    # The workspace itself still works: its contents API lists the file.
    listing = hub.request("GET", base + "/api/contents")
    assert "table.csv" in [item["name"] for item in listing["content"]]
