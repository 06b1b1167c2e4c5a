"""Project copies of dataset versions, and each project's key salt.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Each project's random salt for deriving its key: existing projects get theirs here.
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("key_salt", sa.String(length=64), nullable=True))
    projects = sa.table("projects", sa.column("id", sa.Integer), sa.column("key_salt", sa.String))
    connection = op.get_bind()
    for (project_id,) in connection.execute(sa.select(projects.c.id)).all():
        connection.execute(
            projects.update()
            .where(projects.c.id == project_id)
            .values(key_salt=secrets.token_hex(32))
        )
    with op.batch_alter_table("projects") as batch:
        batch.alter_column("key_salt", existing_type=sa.String(length=64), nullable=False)

    op.create_table(
        "dataset_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("dataset_version_id", sa.Integer(), nullable=False),
        sa.Column("storage_path", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_dataset_copies_project_id_projects")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_version_id"],
            ["dataset_versions.id"],
            name=op.f("fk_dataset_copies_dataset_version_id_dataset_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_copies")),
    )
    op.create_index(op.f("ix_dataset_copies_project_id"), "dataset_copies", ["project_id"])
    op.create_index(
        op.f("ix_dataset_copies_dataset_version_id"), "dataset_copies", ["dataset_version_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_dataset_copies_dataset_version_id"), table_name="dataset_copies")
    op.drop_index(op.f("ix_dataset_copies_project_id"), table_name="dataset_copies")
    op.drop_table("dataset_copies")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("key_salt")
