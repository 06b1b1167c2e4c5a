"""Who calls the airlock, from the hub's model of their token (airlock/handlers.py): a
workspace's own token binds its caller to the workspace's project, nothing else does; and
each refusal's HTTP status."""

from __future__ import annotations

import pytest

from agoria_tre.airlock.handlers import caller_of, status_of
from agoria_tre.airlock.service import Caller, TooLarge
from agoria_tre.airlock.store import CorruptContent
from agoria_tre.errors import (
    CatalogNotReady,
    ConfigurationError,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

SERVER_TOKEN = [
    "access:servers!server=alice/cardio",
    "access:services!service=airlock",
    "users:activity!user=alice",
]


@pytest.mark.parametrize(
    ("scopes", "caller"),
    [
        (SERVER_TOKEN, Caller("alice", workspace="cardio")),
        # a personal token: the user's own servers, all of them
        (["access:servers!user=alice", "access:services!service=airlock"], Caller("alice")),
        ([*SERVER_TOKEN, "access:servers!user=alice"], Caller("alice")),
        ([*SERVER_TOKEN, "access:servers"], Caller("alice")),
        # another user's server, or two servers: never a binding
        (["access:servers!server=bob/cardio"], Caller("alice")),
        (["access:servers!server=alice/a", "access:servers!server=alice/b"], Caller("alice")),
        (["access:servers!server=alice/"], Caller("alice")),
        ([], Caller("alice")),
    ],
)
def test_a_workspace_token_binds_its_project(scopes: list[str], caller: Caller) -> None:
    assert caller_of({"name": "alice", "scopes": scopes}) == caller
    assert caller_of({"name": "alice"}) == Caller("alice")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (TooLarge("x"), (413, "too_large")),
        (InvalidInput("x"), (400, "bad_request")),
        (PermissionDenied("x"), (403, "forbidden")),
        (NotFound("x"), (404, "not_found")),
        (Conflict("x"), (409, "conflict")),
        (CorruptContent("x"), (500, "integrity")),
        (CatalogNotReady("x"), (503, "unavailable")),
        (ConfigurationError("x"), (400, "bad_request")),
    ],
)
def test_each_refusal_has_its_status(error: Exception, status: tuple[int, str]) -> None:
    assert status_of(error) == status  # type: ignore[arg-type]
