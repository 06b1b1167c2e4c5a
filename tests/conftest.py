"""Fixtures shared by the whole suite: catalogs on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.migrate import initialise
from agoria_tre.config import Settings
from agoria_tre.testing.postgres import PostgresServer, PostgresUnavailable, start_server

# jp_fetch, jp_serverapp…: a real Jupyter server for the workspace extension's routes.
pytest_plugins = ["pytest_jupyter.jupyter_server"]


def postgres_required() -> bool:
    return os.environ.get("CI") == "true" or bool(os.environ.get("AGORIA_REQUIRE_POSTGRES"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL server for the session; each test gets its own database."""
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        if postgres_required():
            pytest.fail(f"PostgreSQL is required here (CI) but could not be started: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: no server could be started here ({exc})")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """The environment of one platform instance, on each database in turn."""
    env = {"AGORIA_HOME": str(tmp_path / "home"), "AGORIA_TIMEZONE": "Europe/Paris"}
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("pg_server")
        env["AGORIA_DB_URL"] = server.new_url()
    return env


@pytest.fixture
def settings(db_env: dict[str, str]) -> Settings:
    return Settings.from_env(db_env)


@pytest.fixture
def catalog(settings: Settings) -> Iterator[Catalog]:
    """An initialised catalog: its chain holds one event, catalog.init."""
    cat = Catalog(settings)
    initialise(cat, actor="platform-setup")
    yield cat
    cat.dispose()
