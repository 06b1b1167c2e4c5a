"""Create or upgrade the catalog schema with the Alembic migrations shipped in the package."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import select

from agoria_tre import audit
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import AuditHead
from agoria_tre.errors import CatalogNotReady

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(catalog: Catalog | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if catalog is not None:
        config.attributes["engine"] = catalog.engine
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    if head is None:
        raise RuntimeError("the package ships no catalog migrations")
    return head


def known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


@dataclass(frozen=True)
class InitResult:
    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def initialise(catalog: Catalog, *, actor: str) -> InitResult:
    """Create the data directory and the schema, or upgrade the schema; audit what changed.

    A new catalog's first event is ``catalog.init``; an upgrade records ``catalog.upgrade``.
    Running it on an up-to-date catalog changes nothing, except that a chain left empty by
    an interrupted first run gets its ``catalog.init``. A new catalog claims its anchor file
    (``audit.claim_anchor``: a random identity, its first line, recorded with the file's
    location in ``catalog.init``) and refuses one that already holds a chain: that chain
    belongs to another catalog.
    """
    catalog.settings.ensure_dirs()
    before = catalog.current_revision()
    if before is not None and before not in known_revisions():
        raise CatalogNotReady(
            f"the catalog at {catalog.url} is at schema revision {before}, newer than this"
            f" version of agoria-tre knows: upgrade agoria-tre"
        )
    anchor = catalog.anchor_path
    identity = audit.claim_anchor(anchor) if before is None else None
    after = head_revision()
    if before != after:
        command.upgrade(alembic_config(catalog), "head")
    with catalog.write() as session:
        empty = session.scalar(select(AuditHead.seq)) == 0
        if empty and identity is None:  # an interrupted first run: its anchor is still new
            identity = audit.claim_anchor(anchor)
        if before != after or empty:
            details: dict[str, object] = {"from_revision": before, "to_revision": after}
            if identity is not None:
                details["anchor"] = {"id": identity, "path": str(anchor)}
            audit.record(
                session,
                actor=actor,
                action="catalog.init" if identity is not None else "catalog.upgrade",
                target="catalog",
                details=details,
            )
    catalog.settings.secure()  # the database file SQLite just made, under the umask
    return InitResult(before, after)
