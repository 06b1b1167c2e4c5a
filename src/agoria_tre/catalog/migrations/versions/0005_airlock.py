"""The airlock: export requests, their items and the reviewers' decisions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "airlock_requests",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("requester", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("from_workspace", sa.Boolean(), nullable=False),
        sa.Column("created_at", _STAMP, nullable=False),
        sa.Column("updated_at", _STAMP, nullable=False),
        sa.Column("submitted_at", _STAMP, nullable=True),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("check_report", sa.JSON(), nullable=True),
        sa.Column("check_failure", sa.Text(), nullable=True),
        sa.Column("return_comment", sa.Text(), nullable=True),
        sa.Column("released_at", _STAMP, nullable=True),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.Column("release_sha256", sa.String(length=64), nullable=True),
        sa.Column("release_seq", sa.Integer(), nullable=True),
        sa.CheckConstraint("round >= 1", name=op.f("ck_airlock_requests_round_positive")),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_airlock_requests_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_airlock_requests")),
    )
    for column in ("project_id", "requester", "status"):
        op.create_index(
            op.f(f"ix_airlock_requests_{column}"), "airlock_requests", [column], unique=False
        )
    op.create_table(
        "airlock_items",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("upload_sha256", sa.String(length=64), nullable=False),
        sa.Column("upload_size", sa.BigInteger(), nullable=False),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("added_at", _STAMP, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("check_status", sa.String(length=16), nullable=True),
        sa.Column("check", sa.JSON(), nullable=True),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["airlock_requests.id"],
            name=op.f("fk_airlock_items_request_id_airlock_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_airlock_items")),
        sa.UniqueConstraint("request_id", "name", name=op.f("uq_airlock_items_request_id_name")),
    )
    op.create_index(
        op.f("ix_airlock_items_request_id"), "airlock_items", ["request_id"], unique=False
    )
    op.create_table(
        "airlock_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("exception", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", _STAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["airlock_items.id"], name=op.f("fk_airlock_reviews_item_id_airlock_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_airlock_reviews")),
        sa.UniqueConstraint(
            "item_id", "round", "reviewer", name=op.f("uq_airlock_reviews_item_id_round_reviewer")
        ),
    )
    op.create_index(
        op.f("ix_airlock_reviews_item_id"), "airlock_reviews", ["item_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("airlock_reviews")
    op.drop_table("airlock_items")
    op.drop_table("airlock_requests")
