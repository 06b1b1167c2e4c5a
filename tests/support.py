"""Helpers for integration tests: raw views of the database, as an attacker or auditor; calls
to the workspace's export routes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, text
from tornado.httpclient import HTTPResponse

from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import Base


def snapshot(catalog: Catalog) -> dict[str, Any]:
    """Every row of every table, plus the anchor file: equal snapshots mean "unchanged"."""
    state: dict[str, Any] = {}
    with catalog.engine.connect() as conn:
        tables = [*Base.metadata.sorted_tables]
        for table in tables:
            order = list(table.primary_key.columns)
            rows = conn.execute(table.select().order_by(*order)).all()
            state[table.name] = [tuple(r) for r in rows]
        state["alembic_version"] = conn.execute(text("SELECT * FROM alembic_version")).all()
    anchor = catalog.anchor_path
    state["anchor"] = anchor.read_bytes() if anchor.exists() else None
    return state


def disable_audit_protection(conn: Connection) -> None:
    """Drop the append-only triggers, as a database superuser could, to tamper."""
    if conn.dialect.name == "sqlite":
        for name in ("audit_events_no_update", "audit_events_no_delete"):
            conn.execute(text(f"DROP TRIGGER {name}"))
    else:
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))


def table_names(catalog: Catalog) -> set[str]:
    with catalog.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


async def export_call(
    fetch: Callable[..., Awaitable[HTTPResponse]], method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    """One call to the workspace's export routes through pytest-jupyter's ``jp_fetch``: the
    status and the JSON answer (a string ``body`` is sent as it is)."""
    kwargs: dict[str, Any] = {"method": method, "request_timeout": 300, "raise_error": False}
    if method != "GET":
        kwargs["body"] = body if isinstance(body, str) else json.dumps(body or {})
    response = await fetch("agoria-tre", "export", *path.split("/"), **kwargs)
    return response.code, json.loads(response.body)


# pytest-jupyter's fixtures (loaded for the ``jp_fetch`` tests) include two autouse ones that
# make and run an asyncio loop around every test. A module driving Playwright's sync API,
# which runs its own loop, imports these two in their place.


@pytest.fixture
def jp_asyncio_loop() -> None:
    """No Jupyter event loop in this module."""


@pytest.fixture
def jp_server_cleanup() -> None:
    """No Jupyter server to clean up in this module."""
