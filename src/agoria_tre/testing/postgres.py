"""A throwaway PostgreSQL server for the test suite and the benchmarks.

It runs Debian's PostgreSQL binaries on a private data directory, listening only on a Unix
socket in that directory (no TCP port, nothing reachable from elsewhere). PostgreSQL
refuses to run as root, so under root the server runs as the ``postgres`` system user that
the Debian package creates.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

SUPERUSER = "agoria"


class PostgresUnavailable(RuntimeError):
    """No server could be started here; the message says why."""


def find_bindir() -> Path:
    """Where initdb and pg_ctl are: ``$AGORIA_PG_BINDIR`` if set, else Debian's
    /usr/lib/postgresql/<major>/bin (off PATH), else PATH."""
    override = os.environ.get("AGORIA_PG_BINDIR")
    if override:
        if not (Path(override) / "initdb").exists():
            raise PostgresUnavailable(f"AGORIA_PG_BINDIR={override} has no initdb")
        return Path(override)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PostgresUnavailable("no PostgreSQL server binaries (apt-get install postgresql)")


class PostgresServer:
    """Start with :meth:`start`, stop with :meth:`stop`; one database per :meth:`new_url`."""

    def __init__(self) -> None:
        self.bindir = find_bindir()
        # Short path: a socket path must stay under ~100 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="agoria-pg-", dir="/tmp"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self._run_as: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "running as root and there is no 'postgres' user to run the server"
                ) from None
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self._run_as = ["runuser", "-u", "postgres", "--"]
        self.started = False

    def _run(self, *args: str) -> None:
        command = [*self._run_as, *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PostgresUnavailable(
                f"{Path(args[0]).name} failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-2000:]}"
            )

    def start(self) -> PostgresServer:
        self._run(
            str(self.bindir / "initdb"),
            "-D", str(self.data),
            "-U", SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-instructions",
        )  # fmt: skip
        options = f"-c listen_addresses='' -k {self.socket_dir} -c max_connections=60"
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D", str(self.data),
            "-o", options,
            "-l", str(self.root / "server.log"),
            "-w",
            "-t", "60",
            "start",
        )  # fmt: skip
        self.started = True
        return self

    def admin_conninfo(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} user={SUPERUSER} dbname={dbname}"

    def create_database(self, name: str | None = None) -> str:
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{dbname}?host={self.socket_dir}"

    def new_url(self) -> str:
        """A fresh empty database on this server, as an SQLAlchemy URL."""
        return self.url(self.create_database())

    def stop(self) -> None:
        if self.started:
            subprocess.run(
                [
                    *self._run_as,
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                check=False,
            )
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server() -> PostgresServer:
    """Start a server or raise :class:`PostgresUnavailable` saying why, leaving nothing."""
    server = PostgresServer()
    try:
        return server.start()
    except BaseException:
        server.stop()
        raise
