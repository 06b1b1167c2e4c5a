"""Alembic environment: runs against the engine the caller put in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from agoria_tre.catalog.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # pragma: no cover - the package always passes its engine
    raise RuntimeError("run migrations through agoria-tre init, not the alembic command")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
