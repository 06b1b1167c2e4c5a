"""Workspaces: each project's network and storage, and the images the hub may run.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_networks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("subnet", sa.String(length=18), nullable=False),
        sa.Column("allocated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_workspace_networks_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_networks")),
        sa.UniqueConstraint("project_id", name=op.f("uq_workspace_networks_project_id")),
        sa.UniqueConstraint("subnet", name=op.f("uq_workspace_networks_subnet")),
    )
    op.create_table(
        "workspace_storage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("keep_until", sa.Date(), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_workspace_storage_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_storage")),
        sa.UniqueConstraint("project_id", name=op.f("uq_workspace_storage_project_id")),
    )
    op.create_table(
        "workspace_images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("image_id", sa.String(length=80), nullable=False),
        sa.Column("base", sa.String(length=200), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("built_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_images")),
        sa.UniqueConstraint("reference", name=op.f("uq_workspace_images_reference")),
    )


def downgrade() -> None:
    op.drop_table("workspace_images")
    op.drop_table("workspace_storage")
    op.drop_table("workspace_networks")
