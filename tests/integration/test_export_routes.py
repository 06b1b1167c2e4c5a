"""The export button's server routes, in a real Jupyter server (pytest-jupyter's ``jp_fetch``)
with the workspace extension loaded: every route behind the login, the local check on the
bytes that would be sent, every bad selection refused with its reason. The routes that
reach the airlock are tried against the running platform in ``tests/airlock``."""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tornado.httpclient import HTTPResponse

from agoria_tre import safe
from agoria_tre.workspace import export, outgoing
from tests.support import export_call

Fetch = Callable[..., Awaitable[HTTPResponse]]


@pytest.fixture
def jp_server_config(jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A server as a workspace runs it, but started by no hub: no airlock, no token."""
    for name in ("AGORIA_AIRLOCK_URL", "JUPYTERHUB_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AGORIA_PROJECT", "cardio")
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    monkeypatch.setenv("HOME", str(jp_root_dir))
    return {"ServerApp": {"jpserver_extensions": {"agoria_tre.workspace": True}}}


def cohort(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "sex": rng.choice(["F", "M"], n),
            "arm": rng.choice(["A", "B"], n),
            "site": np.where(np.arange(n) < 4, "rare", "common"),
        }
    )


@pytest.fixture
def outputs(jp_root_dir: Path) -> Path:
    folder = jp_root_dir / "outputs"
    df = cohort()
    safe.crosstab(df.sex, df.arm, name="sex_by_arm", outputs=folder)
    safe.crosstab(df.site, df.arm, name="site_by_arm", outputs=folder)
    return folder


# --- authentication ----------------------------------------------------------------------


def _methods(handler: type[export.ExportHandler]) -> list[str]:
    return [m for m in ("GET", "POST") if m.lower() in handler.__dict__]


ROUTES = [
    (route.replace(export.ID, "some-id"), method)
    for route, handler in export.ROUTES
    for method in _methods(handler)
]


def test_every_route_has_a_method() -> None:
    assert len(ROUTES) == 7
    assert all(_methods(handler) for _, handler in export.ROUTES)


@pytest.mark.parametrize(("route", "method"), ROUTES)
async def test_every_route_requires_the_servers_login(
    jp_fetch: Fetch, route: str, method: str
) -> None:
    response = await jp_fetch(
        "agoria-tre",
        "export",
        *route.split("/"),
        method=method,
        body=None if method == "GET" else b"{}",
        headers={"Authorization": ""},  # no token, no cookie
        raise_error=False,
        follow_redirects=False,
    )
    assert response.code == 403
    assert b"cardio" not in response.body


# --- without an airlock ------------------------------------------------------------------


async def test_a_server_not_started_by_the_hub_says_exports_are_unavailable(
    jp_fetch: Fetch,
) -> None:
    status, body = await export_call(jp_fetch, "GET", "status")
    assert status == 200
    assert body == {
        "project": "cardio",
        "user": "alice",
        "airlock_url": "/services/airlock/",
        "configured": False,
    }
    for method, route, payload in [
        ("GET", "requests", None),
        ("POST", "requests", {"title": "t", "items": [{"path": "a.csv"}]}),
        ("GET", "requests/abc", None),
        ("POST", "requests/abc/resubmit", {}),
        ("POST", "requests/abc/withdraw", {}),
    ]:
        status, body = await export_call(jp_fetch, method, route, payload)
        assert (status, body["error"]) == (503, "not_configured"), route
        assert "not started by the platform's hub" in body["message"]


# --- the local check -----------------------------------------------------------------------


async def test_the_local_check_passes_a_safe_table_and_flags_small_cells(
    jp_fetch: Fetch, outputs: Path
) -> None:
    status, body = await export_call(
        jp_fetch,
        "POST",
        "check",
        {"items": [{"path": "outputs/sex_by_arm.csv"}, {"path": "outputs/site_by_arm.csv"}]},
    )
    assert status == 200
    sound, small = body["items"]
    assert sound["name"] == "sex_by_arm.csv"
    assert sound["evidence"] == "outputs/sex_by_arm.evidence.json"
    assert (sound["status"], sound["findings"]) == ("pass", [])
    assert sound["summary"] == "Every rule passed."
    assert small["status"] == "fail"
    assert "justify it" in small["summary"]
    assert {f["rule"] for f in small["findings"] if f["status"] == "fail"} == {"threshold"}
    table = small["table"]
    assert table["header"][0] == "site"
    assert table["labels"] == 1
    flagged = {
        (row["cells"][0]["value"], table["header"][c])
        for row in table["rows"]
        for c, cell in enumerate(row["cells"])
        if cell["flags"]
    }
    assert flagged == {("rare", "A"), ("rare", "B")}
    assert all(
        flag.startswith("threshold:")
        for row in table["rows"]
        for cell in row["cells"]
        for flag in cell["flags"]
    )


async def test_a_cell_selection_is_checked_as_a_notebook_of_those_cells(
    jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    notebook = {
        "cells": [
            {"id": "keep", "cell_type": "markdown", "metadata": {}, "source": "# Results"},
            {
                "id": "drop",
                "cell_type": "code",
                "metadata": {},
                "source": "df.site.value_counts().to_frame()",
                "execution_count": 1,
                "outputs": [
                    {
                        "output_type": "execute_result",
                        "execution_count": 1,
                        "metadata": {},
                        "data": {
                            "text/html": "<table><thead><tr><th>site</th><th>count</th></tr>"
                            "</thead><tbody><tr><th>common</th><td>396</td></tr>"
                            "<tr><th>rare</th><td>4</td></tr></tbody></table>"
                        },
                    }
                ],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (jp_root_dir / "analysis.ipynb").write_text(json.dumps(notebook))
    status, body = await export_call(
        jp_fetch, "POST", "check", {"items": [{"path": "analysis.ipynb", "cells": ["keep"]}]}
    )
    assert status == 200
    (item,) = body["items"]
    assert (item["name"], item["status"], item["evidence"]) == (
        "analysis-cells.ipynb",
        "pass",
        None,
    )
    status, body = await export_call(
        jp_fetch, "POST", "check", {"items": [{"path": "analysis.ipynb"}]}
    )
    assert body["items"][0]["status"] == "fail"  # the whole notebook holds the small count


@pytest.mark.parametrize(
    ("items", "status", "error", "says"),
    [
        ([], 400, "no_items", "at least one"),
        ([{"path": "../etc/passwd"}], 400, "bad_path", "not a path inside"),
        ([{"path": "/etc/passwd"}], 400, "bad_path", "not a path inside"),
        ([{"path": ""}], 400, "bad_path", "a file's path"),
        ([{"name": "x"}], 400, "bad_source", "'path'"),
        ([{"path": "outputs/none.csv"}], 404, "no_file", "there is no file"),
        ([{"path": "outputs"}], 400, "not_a_file", "is not a file"),
        ([{"path": "linked.csv"}], 400, "link", "link"),
        ([{"path": "through/sex_by_arm.csv"}], 400, "link", "link"),
        ([{"path": "outputs/sex_by_arm.evidence.json"}], 400, "evidence_alone", "never alone"),
        (
            [{"path": "outputs/sex_by_arm.csv"}, {"path": "copy/sex_by_arm.csv"}],
            400,
            "same_name",
            "rename one",
        ),
        ([{"path": "outputs/sex_by_arm.csv", "cells": ["a"]}], 400, "not_a_notebook", "cells"),
        ([{"path": "outputs/sex_by_arm.csv", "cells": []}], 400, "bad_source", "non-empty"),
        ([{"path": "analysis.ipynb", "cells": ["gone"]}], 409, "unsaved_cells", "save the"),
        ([{"path": "broken.ipynb", "cells": ["a"]}], 400, "bad_notebook", "is not a notebook"),
        ([{"path": "big.csv"}], 413, "too_large", "larger than"),
        ([{"path": f"f{i}.csv"} for i in range(51)], 400, "too_many_items", "at most 50"),
    ],
)
async def test_bad_selections_are_refused_with_their_reason(
    jp_fetch: Fetch,
    jp_root_dir: Path,
    outputs: Path,
    items: list[dict[str, Any]],
    status: int,
    error: str,
    says: str,
) -> None:
    (jp_root_dir / "linked.csv").symlink_to(outputs / "sex_by_arm.csv")
    (jp_root_dir / "through").symlink_to(outputs)
    (jp_root_dir / "copy").mkdir()
    (jp_root_dir / "copy" / "sex_by_arm.csv").write_bytes((outputs / "sex_by_arm.csv").read_bytes())
    (jp_root_dir / "analysis.ipynb").write_text(json.dumps({"cells": [], "nbformat": 4}))
    (jp_root_dir / "broken.ipynb").write_text("{not json")
    with (jp_root_dir / "big.csv").open("wb") as big:
        big.truncate(outgoing.DEFAULT_MAX_BYTES + 1)
    got, body = await export_call(jp_fetch, "POST", "check", {"items": items})
    assert (got, body["error"]) == (status, error)
    assert says in body["message"]


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '{"items": "x"}'])
async def test_a_body_that_is_not_an_object_of_items_is_refused(jp_fetch: Fetch, body: str) -> None:
    status, answer = await export_call(jp_fetch, "POST", "check", body)
    assert status == 400
    assert answer["error"] in {"bad_json", "no_items"}


def test_settings_come_from_the_workspaces_environment(tmp_path: Path) -> None:
    settings = export.ExportSettings.from_environment(
        str(tmp_path),
        {
            "AGORIA_AIRLOCK_URL": "http://10.213.0.1:8082/services/airlock",
            "JUPYTERHUB_API_TOKEN": "t",
            "JUPYTERHUB_BASE_URL": "/tre/",
            "AGORIA_PROJECT": "cardio",
            "JUPYTERHUB_USER": "alice",
            "HOME": str(tmp_path),
        },
    )
    assert settings.airlock is not None
    assert settings.airlock.url == "http://10.213.0.1:8082/services/airlock/"
    assert settings.airlock_page == "/tre/services/airlock/"
    assert settings.state_dir == tmp_path / ".agoria-tre" / "exports"
    assert os.fspath(settings.root) == str(tmp_path)
