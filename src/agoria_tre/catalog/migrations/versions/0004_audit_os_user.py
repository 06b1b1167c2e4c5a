"""The operating-system user of the process that recorded each audit event.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (no table rebuild, which would drop the triggers
    # that refuse changes to audit_events). Null for the events recorded before: their
    # hashed bytes never held it.
    op.add_column("audit_events", sa.Column("os_user", sa.String(length=64), nullable=True))


def downgrade() -> None:
    recorded = (
        op.get_bind()
        .execute(sa.text("SELECT COUNT(*) FROM audit_events WHERE os_user IS NOT NULL"))
        .scalar_one()
    )
    if recorded:  # their hashed bytes hold it: without the column they could not be verified
        raise RuntimeError(
            f"{recorded} audit events record their OS user: schema 0004 cannot be undone"
        )
    op.drop_column("audit_events", "os_user")
