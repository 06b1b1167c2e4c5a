"""The export button's server side against the running airlock: a real Jupyter server with the
workspace extension (``jp_fetch``), holding a researcher's hub token as a workspace holds
its own, and the hub's airlock service. The browser's calls make, list, resubmit and
withdraw requests; a failure half-way leaves no draft behind; an airlock that does not
answer is said so."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tornado.httpclient import HTTPResponse

from agoria_tre import safe
from agoria_tre.testing.airlock import AirlockClient
from agoria_tre.testing.platform import TrialPlatform, free_port
from tests.support import export_call

Fetch = Callable[..., Awaitable[HTTPResponse]]
pytestmark = pytest.mark.workspaces


@pytest.fixture
def airlock_url(airlock_platform: TrialPlatform) -> str:
    """The airlock as a workspace reaches it: its own port, not through the proxy."""
    return f"http://127.0.0.1:{airlock_platform.airlock_port}/services/airlock/"


@pytest.fixture
def jp_server_config(
    jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch, tokens: dict[str, str], airlock_url: str
) -> dict[str, Any]:
    monkeypatch.setenv("AGORIA_AIRLOCK_URL", airlock_url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", tokens["bob"])
    monkeypatch.setenv("AGORIA_PROJECT", "cardio")
    monkeypatch.setenv("JUPYTERHUB_USER", "bob")
    monkeypatch.setenv("HOME", str(jp_root_dir))
    return {"ServerApp": {"jpserver_extensions": {"agoria_tre.workspace": True}}}


def write_outputs(root: Path, rare: int = 4) -> None:
    n = 400
    df = pd.DataFrame(
        {
            "sex": np.random.default_rng(3).choice(["F", "M"], n),
            "arm": np.random.default_rng(4).choice(["A", "B"], n),
            "site": np.where(np.arange(n) < rare, "rare", "common"),
        }
    )
    safe.crosstab(df.sex, df.arm, name="sex", outputs=root / "outputs")
    safe.crosstab(df.site, df.sex, name="site_by_sex", outputs=root / "outputs")


ITEMS = [
    {"path": "outputs/sex.csv"},
    {"path": "outputs/site_by_sex.csv", "justification": "The rare site is a published fact."},
]


async def test_a_request_made_from_the_workspace_is_checked_listed_returned_and_resubmitted(
    jp_fetch: Fetch, jp_root_dir: Path, as_user: dict[str, AirlockClient]
) -> None:
    write_outputs(jp_root_dir)
    status, made = await export_call(
        jp_fetch, "POST", "requests", {"title": "Sites", "items": ITEMS}
    )
    assert status == 201, made
    assert (made["status"], made["project"], made["requester"]) == ("in_review", "cardio", "bob")
    assert made["page"] == f"/services/airlock/requests/{made['id']}"
    by_name = {i["name"]: i for i in made["items"]}
    assert set(by_name) == {"sex.csv", "site_by_sex.csv"}
    assert by_name["sex.csv"]["evidence"]
    assert by_name["site_by_sex.csv"]["evidence"]
    assert by_name["sex.csv"]["check"]["status"] == "pass"
    assert by_name["site_by_sex.csv"]["check"]["status"] == "fail"
    assert by_name["site_by_sex.csv"]["justification"] == "The rare site is a published fact."
    first_hash = by_name["site_by_sex.csv"]["sha256"]

    status, listed = await export_call(jp_fetch, "GET", "requests")
    assert status == 200
    assert made["id"] in [r["id"] for r in listed["requests"]]
    assert {r["requester"] for r in listed["requests"]} == {"bob"}

    # A reviewer sends it back; the researcher fixes the table and sends it again.
    returned = as_user["rita"].post(
        f"api/requests/{made['id']}/return", {"comment": "Merge the rare site."}
    )
    assert returned.status == 200, returned.body
    status, seen = await export_call(jp_fetch, "GET", f"requests/{made['id']}")
    assert (seen["status"], seen["return_comment"]) == ("draft", "Merge the rare site.")
    write_outputs(jp_root_dir, rare=40)
    status, again = await export_call(
        jp_fetch, "POST", f"requests/{made['id']}/resubmit", {"justifications": {"sex.csv": ""}}
    )
    assert status == 200, again
    assert again["status"] == "in_review"
    assert again["round"] == 2
    fixed = {i["name"]: i for i in again["items"]}
    assert fixed["site_by_sex.csv"]["sha256"] != first_hash
    assert fixed["site_by_sex.csv"]["check"]["status"] == "pass"
    assert fixed["site_by_sex.csv"]["justification"] == "The rare site is a published fact."

    status, body = await export_call(jp_fetch, "POST", f"requests/{made['id']}/resubmit", {})
    assert (status, body["error"]) == (409, "not_returned")
    status, gone = await export_call(jp_fetch, "POST", f"requests/{made['id']}/withdraw")
    assert (status, gone["status"]) == (200, "withdrawn")


async def test_an_upload_the_airlock_refuses_leaves_no_draft_behind(
    jp_fetch: Fetch, jp_root_dir: Path
) -> None:
    write_outputs(jp_root_dir)
    (jp_root_dir / "outputs" / "all.zip").write_bytes(b"PK\x03\x04" + b"\0" * 64)
    status, body = await export_call(
        jp_fetch,
        "POST",
        "requests",
        {
            "title": "With an archive",
            "items": [{"path": "outputs/sex.csv"}, {"path": "outputs/all.zip"}],
        },
    )
    assert status == 400
    assert "archive" in body["message"]
    _, listed = await export_call(jp_fetch, "GET", "requests")
    mine = [r for r in listed["requests"] if r["title"] == "With an archive"]
    assert [r["status"] for r in mine] == ["withdrawn"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "requests", {"title": "", "items": ITEMS}, 400, "bad_title"),
        ("POST", "requests", {"title": "x" * 201, "items": ITEMS}, 400, "bad_title"),
        ("POST", "requests", {"title": "t", "items": [{"path": "x", "justification": 3}]}, 400,
         "bad_justification"),
        ("POST", "requests/not-made-here/resubmit", {}, 409, "unknown_sources"),
        ("POST", "requests/.hidden/resubmit", {}, 404, "not_found"),
        ("POST", "requests/x/resubmit", {"justifications": ["no"]}, 400, "bad_justification"),
        ("GET", "requests/no-such-request", None, 404, "not_found"),
    ],
)  # fmt: skip
async def test_bad_calls_are_refused_with_their_reason(
    jp_fetch: Fetch, method: str, path: str, body: Any, status: int, error: str
) -> None:
    got, answer = await export_call(jp_fetch, method, path, body)
    assert (got, answer["error"]) == (status, error), answer
    assert answer["message"]


async def test_a_request_of_another_project_is_not_seen_from_this_workspace(
    jp_fetch: Fetch, as_user: dict[str, AirlockClient]
) -> None:
    other = as_user["olga"].post("api/requests", {"project": "onco", "title": "Elsewhere"})
    assert other.status == 201
    status, body = await export_call(jp_fetch, "GET", f"requests/{other.json['id']}")
    assert status in (403, 404)
    assert body["message"]


class TestWithoutAnAirlock:
    @pytest.fixture
    def airlock_url(self) -> str:
        return f"http://127.0.0.1:{free_port()}/services/airlock/"  # nothing listens there

    async def test_an_airlock_that_does_not_answer_is_said_so_and_nothing_is_sent(
        self, jp_fetch: Fetch, jp_root_dir: Path
    ) -> None:
        write_outputs(jp_root_dir)
        status, body = await export_call(
            jp_fetch, "POST", "requests", {"title": "t", "items": ITEMS}
        )
        assert (status, body["error"]) == (502, "airlock_unreachable")
        assert "nothing was sent" in body["message"]
        assert not (jp_root_dir / ".agoria-tre" / "exports").exists()
