"""Connections to the catalog database, and the transactions every change runs in.

``Catalog.write()`` is the only way to change the catalog: one transaction that first takes
the audit chain's lock (so writers are serialised for their whole transaction, checks
included), commits when the block ends, rolls back on any exception, and appends the audit
anchor after the commit. On SQLite it begins with ``BEGIN IMMEDIATE``; on PostgreSQL the lock
is the audit head row. ``Catalog.snapshot()`` reads one consistent state, for verification.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from agoria_tre import audit, audit_witness
from agoria_tre.config import Settings
from agoria_tre.errors import CatalogNotReady

_BEGIN_OPTION = "agoria_sqlite_begin"
T = TypeVar("T")
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


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM for the block, then deliver them as they would have been.

    Done with Python handlers, not the thread signal mask: a process-directed signal may be
    taken by any thread, and Python runs handlers in the main thread whichever received it.
    Outside the main thread (where handlers cannot be set) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        received.append(signum)

    previous = {number: signal.signal(number, hold) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if received:
            signal.raise_signal(received[0])


def make_engine(db_url: str) -> Engine:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


def redact(db_url: str) -> str:
    """The URL with any password hidden, fit for output and logs."""
    return make_url(db_url).render_as_string(hide_password=True)


class Catalog:
    """One catalog database plus the anchor file of its audit chain.

    Creating a Catalog touches nothing on disk; :func:`agoria_tre.catalog.migrate.initialise`
    creates the data directory and the schema.
    """

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.db_url)
        sqlite = self.engine.dialect.name == "sqlite"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            if sqlite
            else self.engine,
            expire_on_commit=False,
        )
        self._snapshot_sessions = sessionmaker(
            self.engine
            if sqlite  # a WAL read transaction is a snapshot from its first read
            else self.engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            ),
            expire_on_commit=False,
        )
        self._ready = False
        self._witness_path: Path | None = None

    @property
    def url(self) -> str:
        return redact(self.settings.db_url)

    @property
    def anchor_path(self) -> Path:
        return self.settings.audit_anchor

    def witness_socket(self) -> Path | None:
        """Where heads go after a commit: ``AGORIA_AUDIT_WITNESS``, else this catalog's own
        witness on this host while it runs (its socket is named after the data directory)."""
        if self.settings.audit_witness is not None:
            return self.settings.audit_witness
        if self._witness_path is None:  # the data directory resolved and hashed once
            self._witness_path, _ = audit_witness.catalog_paths(self.settings.home)
        return self._witness_path if self._witness_path.is_socket() else None

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose changes commit together when the block ends, or not at all.

        Ctrl-C and SIGTERM are held from the commit until the anchor line is written, so an
        interrupted command never leaves a committed event unanchored.
        """
        session = self._write_sessions()
        session.info[audit.ANCHOR_PATH_KEY] = str(self.settings.audit_anchor)
        witness = self.witness_socket()
        if witness is not None:
            session.info[audit.WITNESS_KEY] = str(witness)
        try:
            session.begin()
            audit.lock_chain(session)
            yield session
            session.flush()
            with _signals_held():
                session.commit()
                audit.flush_pending_anchor(session)
        except BaseException:
            session.rollback()
            audit.discard_pending_anchor(session)
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; it never commits."""
        with self._sessions() as session:
            yield session

    def find_or_make(self, find: Callable[[Session], T | None], make: Callable[[Session], T]) -> T:
        """What ``find`` reads, or, when it reads nothing, what ``make`` records: asked again
        inside the write transaction (writers are serialised), so two callers never both
        make it. The common case, found, takes no write lock."""
        with self.read() as session:
            found = find(session)
        if found is not None:
            return found
        with self.write() as session:
            found = find(session)
            return found if found is not None else make(session)

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only session that sees one consistent state for all its queries."""
        with self._snapshot_sessions() as session:
            yield session

    def _embedded_file_missing(self) -> bool:
        url = make_url(self.settings.db_url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return False
        try:
            return not Path(str(url.database)).exists()
        except OSError as exc:  # e.g. a data directory this user may not read
            raise CatalogNotReady(
                f"cannot open the catalog database {self.url}: {exc.strerror}"
            ) from exc

    def current_revision(self) -> str | None:
        """The Alembic revision the database is at, or None when it was never initialised."""
        from alembic.runtime.migration import MigrationContext

        if self._embedded_file_missing():
            return None  # and do not let SQLite create an empty file
        try:
            with self.engine.connect() as connection:
                if not inspect(connection).has_table("alembic_version"):
                    return None
                return MigrationContext.configure(connection).get_current_revision()
        except SQLAlchemyError as exc:
            raise CatalogNotReady(
                f"cannot open the catalog database {self.url}",
                f"cannot open the catalog database {self.url}: {exc}",
            ) from exc

    def require_ready(self) -> None:
        """Refuse to work on a catalog that is missing or at another schema revision."""
        if self._ready:
            return
        from agoria_tre.catalog.migrate import head_revision, known_revisions

        current = self.current_revision()
        if current is None:
            raise CatalogNotReady(
                f"the catalog at {self.url} is not initialised: run 'agoria-tre init'"
            )
        head = head_revision()
        if current not in known_revisions():
            raise CatalogNotReady(
                f"the catalog at {self.url} is at schema revision {current}, newer than this"
                f" version of agoria-tre knows (up to {head}): upgrade agoria-tre"
            )
        if current != head:
            raise CatalogNotReady(
                f"the catalog at {self.url} is at schema revision {current}, this version"
                f" needs {head}: run 'agoria-tre init' to upgrade it"
            )
        self.settings.secure()
        self._ready = True
