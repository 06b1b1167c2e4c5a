"""Create or upgrade the catalog schema with the Alembic migrations shipped in the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from agoria_tre.catalog.db import Catalog

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(catalog: Catalog | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if catalog is not None:
        config.attributes["engine"] = catalog.engine
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the package ships no catalog migrations")
    return head


def upgrade(catalog: Catalog) -> tuple[str | None, str]:
    """Bring the catalog to the newest schema. Returns (revision before, revision after)."""
    before = catalog.current_revision()
    command.upgrade(alembic_config(catalog), "head")
    return before, head_revision()
