"""Datasets and their immutable versions.

Versions enter the catalog only through :func:`register_dataset_version`, called by the
ingest pipeline once the pseudonymised files are written and verified. There is
deliberately no command that registers arbitrary files: that would let un-pseudonymised
data in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from agoria_tre import audit
from agoria_tre.catalog.models import Dataset, DatasetVersion
from agoria_tre.errors import Conflict, InvalidInput, NotFound
from agoria_tre.names import DatasetRef, check_dataset_name

SHA256_RE = re.compile(r"[0-9a-f]{64}")


@event.listens_for(DatasetVersion, "before_update")
@event.listens_for(DatasetVersion, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, target: DatasetVersion) -> None:
    raise Conflict(f"dataset version {target.id} is immutable: register a new version instead")


def get_version(session: Session, ref: DatasetRef) -> DatasetVersion:
    version = session.scalar(
        select(DatasetVersion)
        .join(Dataset)
        .where(Dataset.name == ref.name, DatasetVersion.version == ref.version)
    )
    if version is None:
        raise NotFound(f"unknown dataset version {ref}")
    return version


def version_at(session: Session, storage_path: str) -> DatasetVersion | None:
    """The version stored at ``storage_path``, if the catalog holds one."""
    return session.scalar(select(DatasetVersion).where(DatasetVersion.storage_path == storage_path))


def list_versions(session: Session) -> Sequence[DatasetVersion]:
    return session.scalars(
        select(DatasetVersion).join(Dataset).order_by(Dataset.name, DatasetVersion.version)
    ).all()


def next_version(session: Session, name: str) -> int:
    """The number the next version of ``name`` takes (1 for a new dataset). Stable within a
    write transaction: writers are serialised."""
    latest = session.scalar(
        select(func.max(DatasetVersion.version)).join(Dataset).where(Dataset.name == name)
    )
    return (latest or 0) + 1


def register_dataset_version(
    session: Session,
    *,
    name: str,
    content_hash: str,
    row_count: int,
    schema: Mapping[str, Any],
    storage_path: str,
    provenance: Mapping[str, Any],
    actor: str,
) -> DatasetVersion:
    """Record a new version of ``name`` (created on first use); returns it, numbered.

    The version number is the dataset's highest plus one. Two concurrent registrations
    cannot take the same number: the write transaction is serialised (see ``Catalog``) and
    the (dataset, version) pair is unique.
    """
    check_dataset_name(name)
    if not SHA256_RE.fullmatch(content_hash):
        raise InvalidInput("content hash must be a lowercase hex SHA-256 digest")
    if row_count < 0:
        raise InvalidInput("row count cannot be negative")
    if not storage_path:
        raise InvalidInput("storage path is required")
    dataset = session.scalar(select(Dataset).where(Dataset.name == name))
    if dataset is None:
        dataset = Dataset(name=name)
        session.add(dataset)
        session.flush()
    number = next_version(session, name)
    version = DatasetVersion(
        dataset=dataset,
        version=number,
        content_hash=content_hash,
        row_count=row_count,
        schema=dict(schema),
        storage_path=storage_path,
        provenance=dict(provenance),
        created_by=actor,
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="dataset.register",
        target=f"dataset:{name}@{number}",
        details={"content_hash": content_hash, "row_count": row_count},
    )
    return version
