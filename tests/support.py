"""Helpers for integration tests: raw views of the database, as an attacker or auditor."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, inspect, text

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
