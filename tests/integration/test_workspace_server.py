"""The workspace's server extension as the hub starts it (workspace/__init__.py), in a real
Jupyter server: direct downloads refused with a sentence that says where results go, and the
export routes told where the airlock is."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPResponse

from agoria_tre import workspace
from tests.support import export_call

Fetch = Callable[..., Awaitable[HTTPResponse]]


@pytest.fixture
def jp_server_config(jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A server with the environment the hub gives a workspace (the airlock is not called)."""
    monkeypatch.setenv("AGORIA_AIRLOCK_URL", "http://10.213.0.1:8082/services/airlock")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "the-servers-token")
    monkeypatch.setenv("JUPYTERHUB_BASE_URL", "/")
    monkeypatch.setenv("AGORIA_PROJECT", "cardio")
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    monkeypatch.setenv("HOME", str(jp_root_dir))
    (jp_root_dir / "t.csv").write_text("a,b\n1,2\n")
    return {"ServerApp": {"jpserver_extensions": {"agoria_tre.workspace": True}}}


@pytest.mark.parametrize(
    ("path", "method"),
    [("files/t.csv", "GET"), ("view/t.csv", "GET"), ("nbconvert/html/t.ipynb", "GET"),
     ("api/nbconvert", "GET"), ("files/t.csv", "POST")],
)  # fmt: skip
async def test_direct_downloads_are_refused_with_where_results_go(
    jp_fetch: Fetch, path: str, method: str
) -> None:
    response = await jp_fetch(
        *path.split("/"),
        method=method,
        body=b"" if method == "POST" else None,
        raise_error=False,
    )
    assert response.code == 403
    assert b"t.csv\n1,2" not in response.body
    assert workspace.MESSAGE.encode() in response.body


async def test_a_server_started_by_the_hub_knows_its_airlock(jp_fetch: Fetch) -> None:
    status, body = await export_call(jp_fetch, "GET", "status")
    assert status == 200
    assert body == {
        "project": "cardio",
        "user": "alice",
        "airlock_url": "/services/airlock/",
        "configured": True,
    }
