"""Connections to the catalog database, and the transactions every change runs in.

``Catalog.write()`` is the only way to change the catalog: one transaction, committed when
the block ends, rolled back on any exception, with the audit anchor appended after commit.
On SQLite it begins with ``BEGIN IMMEDIATE`` (the database's write lock is taken first, so
concurrent writers queue rather than fail half-way); reads use ordinary deferred
transactions. On PostgreSQL, writers serialise on the audit head row instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from agoria_tre import audit
from agoria_tre.config import Settings
from agoria_tre.errors import CatalogNotReady

_BEGIN_OPTION = "agoria_sqlite_begin"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def make_engine(db_url: str) -> Engine:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


def redact(db_url: str) -> str:
    """The URL with any password hidden, fit for output and logs."""
    return make_url(db_url).render_as_string(hide_password=True)


class Catalog:
    """One catalog database plus the anchor file of its audit chain."""

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        settings.ensure_dirs()
        self.engine = engine or make_engine(settings.db_url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_engine = (
            self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            if self.engine.dialect.name == "sqlite"
            else self.engine
        )
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        return redact(self.settings.db_url)

    @property
    def anchor_path(self) -> Path:
        return self.settings.audit_anchor

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose changes commit together when the block ends, or not at all."""
        session = self._write_sessions()
        session.info[audit.ANCHOR_PATH_KEY] = str(self.settings.audit_anchor)
        try:
            with session.begin():
                yield session
        except BaseException:
            audit.discard_pending_anchor(session)
            raise
        finally:
            session.close()
        audit.flush_pending_anchor(session)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; it never commits."""
        with self._sessions() as session:
            yield session

    def current_revision(self) -> str | None:
        """The Alembic revision the database is at, or None when it was never initialised."""
        from alembic.runtime.migration import MigrationContext

        try:
            with self.engine.connect() as connection:
                if not inspect(connection).has_table("alembic_version"):
                    return None
                return MigrationContext.configure(connection).get_current_revision()
        except OperationalError as exc:
            raise CatalogNotReady(
                f"cannot open the catalog database {self.url}",
                f"cannot open the catalog database {self.url}: {exc}",
            ) from exc

    def require_ready(self) -> None:
        """Refuse to work on a catalog that is missing or at another schema revision."""
        from agoria_tre.catalog.migrate import head_revision

        try:
            current = self.current_revision()
        except SQLAlchemyError as exc:
            raise CatalogNotReady(f"cannot open the catalog database {self.url}", str(exc)) from exc
        if current is None:
            raise CatalogNotReady(
                f"the catalog at {self.url} is not initialised: run 'agoria-tre init'"
            )
        head = head_revision()
        if current != head:
            raise CatalogNotReady(
                f"the catalog at {self.url} is at schema revision {current}, this version"
                f" needs {head}: run 'agoria-tre init' to upgrade it"
            )
