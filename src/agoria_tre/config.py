"""Where the platform keeps its state, read from the environment.

``AGORIA_HOME``
    The data directory (default ``/var/lib/agoria-tre``). Holds the embedded SQLite catalog
    and the audit anchor file. Created with mode 0700 when missing.
``AGORIA_DB_URL``
    Any SQLAlchemy URL for the catalog; PostgreSQL in production, e.g.
    ``postgresql+psycopg://agoria@/agoria?host=/run/postgresql``. Empty means the embedded
    SQLite file ``$AGORIA_HOME/catalog.sqlite``.
``AGORIA_AUDIT_ANCHOR``
    The append-only file that receives the head of the audit chain after every commit
    (default ``$AGORIA_HOME/audit/anchor.log``). Keep it on storage the database
    administrators cannot rewrite; it is what detects the deletion of the newest events.
``AGORIA_TIMEZONE``
    The zone in which grant dates are read (default ``Europe/Paris``): a grant "until
    2027-06-30" holds until the end of that day there.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agoria_tre.errors import ConfigurationError

log = logging.getLogger(__name__)

DEFAULT_HOME = Path("/var/lib/agoria-tre")
DEFAULT_TIMEZONE = "Europe/Paris"


@dataclass(frozen=True)
class Settings:
    """The resolved configuration of one platform instance."""

    home: Path
    db_url: str
    audit_anchor: Path
    timezone: ZoneInfo
    audit_witness: Path | None = None  # the witness's socket, when one runs

    @property
    def is_embedded(self) -> bool:
        return self.db_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        home = Path(env.get("AGORIA_HOME") or DEFAULT_HOME).expanduser().absolute()
        db_url = env.get("AGORIA_DB_URL") or f"sqlite:///{home / 'catalog.sqlite'}"
        anchor = Path(env.get("AGORIA_AUDIT_ANCHOR") or home / "audit" / "anchor.log")
        tz_name = env.get("AGORIA_TIMEZONE") or DEFAULT_TIMEZONE
        try:
            tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigurationError(
                f"AGORIA_TIMEZONE={tz_name!r} is not a known time zone "
                "(use an IANA name such as Europe/Paris)"
            ) from exc
        witness = env.get("AGORIA_AUDIT_WITNESS")
        return cls(
            home=home,
            db_url=db_url,
            audit_anchor=anchor.absolute(),
            timezone=tz,
            audit_witness=Path(witness) if witness else None,
        )

    def ensure_dirs(self) -> None:
        """Create the data directory and the anchor's folder, owner-only."""
        # In order, home first: mkdir gives missing parents default permissions, not 0700.
        for path in (self.home, self.audit_anchor.parent):
            try:
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot create the data directory {path}: {exc.strerror}; "
                    "set AGORIA_HOME to a directory you can write",
                ) from exc
        database = self.embedded_database
        if database is not None:  # made owner-only before SQLite makes it under the umask
            with contextlib.suppress(FileExistsError):
                os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self.secure()

    @property
    def embedded_database(self) -> Path | None:
        """The SQLite database file, when the catalog is one (not an in-memory one)."""
        if not self.is_embedded:
            return None
        from sqlalchemy.engine import make_url

        name = make_url(self.db_url).database or ""
        if name in ("", ":memory:") or name.startswith("file:"):
            return None
        return Path(name)

    def secure(self) -> None:
        """Make the platform's own files owner-only: the data directory, the embedded
        database and the anchor file (and the anchor's folder when it is inside the data
        directory). A folder created beforehand (0755), or a database file made under a
        loose umask (0644), would let any local user read project uids, key salts and the
        audit log. Only what this account owns is changed, never through a symbolic link; a
        file that cannot be changed (an append-only anchor) is reported, not fatal."""
        folders = [self.home]
        if self.audit_anchor.parent.is_relative_to(self.home):
            folders.append(self.audit_anchor.parent)
        files = [self.audit_anchor]
        database = self.embedded_database
        if database is not None:
            files += [database, *(Path(f"{database}{end}") for end in ("-wal", "-shm", "-journal"))]
        for path, mode in [*((f, 0o700) for f in folders), *((f, 0o600) for f in files)]:
            try:
                info = path.lstat()
            except OSError:  # absent, or not ours to look at
                continue
            if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
                continue
            if info.st_mode & 0o077:
                try:
                    path.chmod(mode)
                except OSError as exc:
                    log.warning(
                        "%s can be read by other users and cannot be made owner-only: %s",
                        path,
                        exc.strerror,
                    )
                    continue
                log.warning("%s was open to other users: made owner-only (%04o)", path, mode)
