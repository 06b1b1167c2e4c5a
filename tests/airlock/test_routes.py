"""Every route of the airlock refuses a caller the hub does not vouch for, and the OpenAPI
description names exactly the routes and methods the API answers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tornado import web

from agoria_tre.airlock import openapi
from agoria_tre.airlock.web import routes
from agoria_tre.testing.airlock import PREFIX, AirlockClient
from agoria_tre.testing.platform import TrialPlatform

DOCS = Path(__file__).parents[2] / "docs" / "airlock-openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")


def answered(handler: type[web.RequestHandler]) -> list[str]:
    """The methods a handler class implements itself (not tornado's 405 defaults)."""
    return [m for m in METHODS if getattr(handler, m) is not getattr(web.RequestHandler, m)]


def concrete(pattern: str) -> str:
    path = re.sub(r"\(\?P<[a-z_]+>\[\^/\]\+\)", "x1", pattern)
    return path.replace("\\.", ".").replace("(.*)", "anything").removeprefix(PREFIX)


def every_route() -> list[tuple[str, str, type[web.RequestHandler]]]:
    return [
        (method, concrete(pattern), handler)
        for pattern, handler in routes(PREFIX)
        for method in answered(handler)
    ]


@pytest.mark.workspaces
@pytest.mark.parametrize(("method", "path", "handler"), every_route())
def test_an_unauthenticated_call_is_refused(
    airlock_platform: TrialPlatform, method: str, path: str, handler: type[web.RequestHandler]
) -> None:
    for token in (None, "not-a-token"):
        answer = AirlockClient(airlock_platform.public_url, token).call(
            method.upper(), path, b"{}" if method != "get" else None
        )
        if path == "oauth_callback":  # the OAuth flow's own end: it needs the hub's code
            assert answer.status == 400, answer.body
        elif getattr(handler, "api", True) or method != "get":
            assert answer.status == 401, (path, answer.status, answer.body[:200])
            assert json.loads(answer.body)["error"] == "unauthorized"
        else:  # a page sends the browser to the hub's login
            assert answer.status == 302, (path, answer.status)
            assert "/hub/api/oauth2/authorize" in answer.headers["location"]
        assert b"sex,n" not in answer.body


def openapi_paths() -> set[tuple[str, str]]:
    found = set()
    for pattern, handler in routes(PREFIX):
        path = pattern.removeprefix(PREFIX)
        if not path.startswith("api/") or path == "api/(.*)":
            continue
        templated = re.sub(r"\(\?P<([a-z_]+)>\[\^/\]\+\)", r"{\1}", path).replace("\\.", ".")
        found |= {("/" + templated, m) for m in answered(handler)}
    return found


def test_the_openapi_description_names_exactly_the_api() -> None:
    described = {
        (path, method)
        for path, operations in openapi.document()["paths"].items()
        for method in operations
    }
    assert described == openapi_paths()


def test_the_published_description_is_the_codes() -> None:
    assert json.loads(DOCS.read_text()) == openapi.document(), (
        "docs/airlock-openapi.json is stale: python -m agoria_tre.airlock.openapi > it"
    )
