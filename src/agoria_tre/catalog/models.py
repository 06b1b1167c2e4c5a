"""The catalog: projects, people, datasets, grants and the audit log, as typed ORM models.

The schema itself is owned by the Alembic migrations in ``migrations/``; a test proves the
models and the migrations agree on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import enum
import secrets
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from agoria_tre.catalog.enums import ProjectStatus as ProjectStatus
from agoria_tre.catalog.enums import Role as Role

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware, on every database.

    SQLite keeps no zone; PostgreSQL's ``timestamptz`` does. Both come back as aware UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint: portable, and readable in raw SQL.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Never changes and is never reused, unlike a slug: what keys and audit trails hang on.
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(String(200))
    status: Mapped[ProjectStatus] = mapped_column(
        _enum(ProjectStatus, "project_status"), default=ProjectStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Random, per project: with ``uid``, what the project key is derived from (HKDF), so
    # that a re-used slug never re-links an old project's data. Not a secret by itself.
    key_salt: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(32))

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="project", cascade="all, delete-orphan", order_by="Membership.id"
    )
    grants: Mapped[list[Grant]] = relationship(back_populates="project", order_by="Grant.id")

    @property
    def is_active(self) -> bool:
        return self.status is ProjectStatus.ACTIVE


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("project_id", "username", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role, "member_role"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by: Mapped[str] = mapped_column(String(64))

    project: Mapped[Project] = relationship(back_populates="memberships")


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset", order_by="DatasetVersion.version"
    )


class DatasetVersion(Base):
    """One immutable, pseudonymised version of a dataset.

    Rows are never updated: the database refuses it (a trigger, see the migrations) and so
    does the ORM (``catalog.datasets``). A correction is a new version.
    """

    __tablename__ = "dataset_versions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("row_count >= 0", name="row_count_non_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    storage_path: Mapped[str] = mapped_column(Text)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))

    dataset: Mapped[Dataset] = relationship(back_populates="versions")

    @property
    def label(self) -> str:
        return f"{self.dataset.name}@{self.version}"


class Grant(Base):
    """Permission for a project to mount one dataset version, under a named approval.

    Effective on the days ``valid_from`` to ``valid_until`` inclusive (read in the platform's
    time zone), while not revoked and while the project is active. ``catalog.grants`` holds
    the only function that answers "what may this project mount now".
    """

    __tablename__ = "grants"
    __table_args__ = (CheckConstraint("valid_from <= valid_until", name="dates_ordered"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"), index=True)
    reference: Mapped[str] = mapped_column(String(200))
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(64), default=None)

    project: Mapped[Project] = relationship(back_populates="grants")
    dataset_version: Mapped[DatasetVersion] = relationship()


class DatasetCopy(Base):
    """A project's copy of a dataset version, its pseudonyms re-keyed with the project key.

    Made when a grant becomes effective, removed (``removed_at``) when no grant holds it any
    more, after the workspaces mounting it have stopped. ``catalog.copies`` reconciles.
    """

    __tablename__ = "dataset_copies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    dataset_version_id: Mapped[int] = mapped_column(ForeignKey("dataset_versions.id"), index=True)
    storage_path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)
    key_fingerprint: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    project: Mapped[Project] = relationship()
    dataset_version: Mapped[DatasetVersion] = relationship()


class WorkspaceNetwork(Base):
    """A project's internal network: its subnet, allocated once from the operator's pool and
    never given to another project, so firewall rules and logs keep meaning the same thing."""

    __tablename__ = "workspace_networks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    subnet: Mapped[str] = mapped_column(String(18), unique=True)
    allocated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    project: Mapped[Project] = relationship()


class WorkspaceStorage(Base):
    """A project's writable storage (``/project`` and the homes): its cap, fixed when it was
    made; after the project is archived, kept read-only until ``keep_until``, then purged
    by an explicit command."""

    __tablename__ = "workspace_storage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    keep_until: Mapped[date | None] = mapped_column(Date, default=None)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    project: Mapped[Project] = relationship()


class WorkspaceImage(Base):
    """A workspace image built by ``agoria-tre image build``. The hub runs only images
    recorded here, and checks that the runtime's image still has the recorded id."""

    __tablename__ = "workspace_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(200), unique=True)  # name:content-hash
    content_hash: Mapped[str] = mapped_column(String(64))
    image_id: Mapped[str] = mapped_column(String(80))
    base: Mapped[str] = mapped_column(String(200))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    built_by: Mapped[str] = mapped_column(String(64))


def _request_id() -> str:
    return secrets.token_hex(8)


class ExportRequest(Base):
    """An export request of the airlock: its status moves only by the transitions of
    ``agoria_tre.airlock.lifecycle``; each move writes its audit event in the same
    transaction. ``round`` counts the review rounds: returning a request for changes starts
    a new one, and only the decisions of the current round count."""

    __tablename__ = "airlock_requests"
    __table_args__ = (CheckConstraint("round >= 1", name="round_positive"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=_request_id)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    requester: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    # Made with a workspace's own credential (the project came from it), or a personal token.
    from_workspace: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # What the project could use when the request was made: legal basis, versions, image.
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON)
    check_report: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    check_failure: Mapped[str | None] = mapped_column(Text, default=None)
    return_comment: Mapped[str | None] = mapped_column(Text, default=None)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    released_by: Mapped[str | None] = mapped_column(String(64), default=None)
    release_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    release_seq: Mapped[int | None] = mapped_column(Integer, default=None)

    project: Mapped[Project] = relationship()
    items: Mapped[list[ExportItem]] = relationship(
        back_populates="request", order_by="ExportItem.name", cascade="all, delete-orphan"
    )


class ExportItem(Base):
    """One file of an export request. ``upload_sha256`` names the bytes the researcher sent;
    ``sha256`` the canonical form the check made of them (what reviewers see and what is
    released), known once the request is checked."""

    __tablename__ = "airlock_items"
    __table_args__ = (UniqueConstraint("request_id", "name"),)

    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=_request_id)
    request_id: Mapped[str] = mapped_column(ForeignKey("airlock_requests.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    upload_sha256: Mapped[str] = mapped_column(String(64))
    upload_size: Mapped[int] = mapped_column(BigInteger)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    justification: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    kind: Mapped[str | None] = mapped_column(String(32), default=None)
    check_status: Mapped[str | None] = mapped_column(String(16), default=None)
    check: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    released: Mapped[bool] = mapped_column(Boolean, default=False)

    request: Mapped[ExportRequest] = relationship(back_populates="items")
    reviews: Mapped[list[ExportReview]] = relationship(
        back_populates="item", order_by="ExportReview.id", cascade="all, delete-orphan"
    )


class ExportReview(Base):
    """One reviewer's decision on one item, in one review round."""

    __tablename__ = "airlock_reviews"
    __table_args__ = (UniqueConstraint("item_id", "round", "reviewer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("airlock_items.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))
    exception: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[ExportItem] = relationship(back_populates="reviews")


class AuditEvent(Base):
    """One link of the hash chain. Written only by ``agoria_tre.audit``.

    ``canonical`` holds the exact bytes that were hashed; the other columns are the same
    facts in queryable form, and verification proves the two agree. ``occurred_at`` is
    RFC 3339 UTC text of fixed width, so both databases store and sort it identically.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[str] = mapped_column(String(27), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    # The process's real user beside the declared actor; null in events before revision 0004.
    os_user: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    project: Mapped[str | None] = mapped_column(String(40), index=True)
    details: Mapped[str] = mapped_column(Text)
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row naming the newest link. Appenders lock it to serialise the chain."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
