"""Per-project copies of dataset versions: what a project's workspaces mount.

A copy re-keys every pseudonym of a version with the project key (see ``ingest.keys``), so
that two projects holding the same dataset cannot link their records, while records stay
linked across datasets within one project. :func:`reconcile` makes the copies agree with
the grants in force (``catalog.grants.mountable_versions``, the platform's one rule):

- a version a project may mount and holds no copy of: the copy is built in
  ``$AGORIA_HOME/copies/.incoming``, then renamed into place in the transaction that
  records it (``copy.create`` in the audit log);
- a copy no grant holds any more (revoked, expired, project archived): the workspaces that
  mount it are stopped first (``stop_workspaces``), then the copy is marked removed
  (``copy.remove``), then its files are deleted.

Run at ``grant add``/``grant revoke`` and periodically (``agoria-tre dataset reconcile``),
so that a grant starting tomorrow gets its copy and one ending today loses it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from agoria_tre import audit, layout
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.grants import mountable_versions
from agoria_tre.catalog.models import DatasetCopy, DatasetVersion, Project, ProjectStatus, utcnow
from agoria_tre.errors import AgoriaError, ConfigurationError
from agoria_tre.ingest import storage
from agoria_tre.ingest.keys import Key
from agoria_tre.ingest.pipeline import DATA_FILE, MANIFEST_FILE, ColumnPseudonymiser

COPY_MANIFEST_SCHEMA = "urn:agoria-tre:project-copy-manifest:1"
StopWorkspaces = Callable[[str, Sequence[str]], None]


class CopyFailed(AgoriaError):
    """A copy could not be made or removed; the grant itself stands. Exit status 5."""

    exit_code = 5


@dataclass(frozen=True)
class CopyChange:
    project: str
    dataset: str  # NAME@V
    action: str  # "created", "removed", "pending" (no key here), "failed"
    path: str
    detail: str = ""


def copy_path(home: Path, project: Project, version: DatasetVersion) -> Path:
    return home / layout.copy_dir(project.uid, version.dataset.name, version.version)


def project_key(key: Key, project: Project) -> Key:
    return key.for_project(project.uid, bytes.fromhex(project.key_salt))


def live_copies(session: Session, project: Project | None = None) -> list[DatasetCopy]:
    query = (
        select(DatasetCopy)
        .where(DatasetCopy.removed_at.is_(None))
        .options(
            joinedload(DatasetCopy.project),
            joinedload(DatasetCopy.dataset_version).joinedload(DatasetVersion.dataset),
        )
        .order_by(DatasetCopy.id)
    )
    if project is not None:
        query = query.where(DatasetCopy.project_id == project.id)
    return list(session.scalars(query))


def holders(session: Session, version: DatasetVersion) -> list[DatasetCopy]:
    """The live copies of one version: which projects hold it."""
    return [c for c in live_copies(session) if c.dataset_version_id == version.id]


def reconcile(
    catalog: Catalog,
    key: Key | None,
    *,
    project: str | None = None,
    now: datetime | None = None,
    stop_workspaces: StopWorkspaces | None = None,
    actor: str = "agoria-reconcile",
) -> list[CopyChange]:
    """Make copies agree with the grants in force at ``now``; returns what changed.

    Without a key, copies are only removed; the ones to make are reported ``pending``.
    A copy that cannot be made is reported ``failed`` and the others still proceed.
    """
    tz = catalog.settings.timezone
    with catalog.read() as session:
        query = select(Project).order_by(Project.id)
        if project is not None:
            query = query.where(Project.slug == project)
        chosen = list(session.scalars(query))
        wanted: list[tuple[str, int, str]] = []
        for one in chosen:
            if one.status is ProjectStatus.ACTIVE:
                for version in mountable_versions(session, one.slug, tz=tz, now=now):
                    wanted.append((one.slug, version.id, version.label))
        live = {(c.project.slug, c.dataset_version_id): c for c in live_copies(session)}
        slugs = {p.slug for p in chosen}
        unwanted = [
            (slug, c.id, c.dataset_version.label, c.storage_path)
            for (slug, version_id), c in live.items()
            if slug in slugs and (slug, version_id, c.dataset_version.label) not in wanted
        ]
        missing = [w for w in wanted if (w[0], w[1]) not in live]
    changes: list[CopyChange] = []
    for slug, copy_id, label, stored in unwanted:
        changes.append(_remove(catalog, slug, copy_id, label, stored, stop_workspaces, actor=actor))
    for slug, version_id, label in missing:
        if key is None:
            changes.append(CopyChange(slug, label, "pending", "", "no platform key here"))
            continue
        try:
            changes.append(_create(catalog, key, slug, version_id, now=now, actor=actor))
        except AgoriaError as exc:
            changes.append(CopyChange(slug, label, "failed", "", exc.user_message))
    _sweep(catalog)
    return changes


def _remove(
    catalog: Catalog,
    slug: str,
    copy_id: int,
    label: str,
    stored: str,
    stop_workspaces: StopWorkspaces | None,
    *,
    actor: str,
) -> CopyChange:
    """Stop the workspaces that mount the copy, record its removal, delete its files."""
    try:
        folder = layout.under_home(catalog.settings.home, stored)
    except AgoriaError as exc:  # a recorded path outside the data directory: never deleted
        return CopyChange(slug, label, "failed", stored, exc.user_message)
    if stop_workspaces is not None:
        try:
            stop_workspaces(slug, [label])
        except Exception as exc:  # the copy stays until its workspaces are down
            return CopyChange(slug, label, "failed", stored, f"workspaces not stopped: {exc}")
    with catalog.write() as session:
        copy = session.get(DatasetCopy, copy_id)
        if copy is None or copy.removed_at is not None:
            return CopyChange(slug, label, "removed", stored, "already removed")
        copy.removed_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="copy.remove",
            target=f"dataset:{label}",
            project=slug,
            details={"copy_id": copy_id, "storage_path": stored},
        )
    storage.remove_tree(folder)
    return CopyChange(slug, label, "removed", stored)


def _create(
    catalog: Catalog, key: Key, slug: str, version_id: int, *, now: datetime | None, actor: str
) -> CopyChange:
    home = catalog.settings.home
    with catalog.read() as session:
        version = session.get(DatasetVersion, version_id)
        project = session.scalar(select(Project).where(Project.slug == slug))
        if version is None or project is None:
            raise CopyFailed(f"{slug}: the version or the project vanished")
        label, target = version.label, copy_path(home, project, version)
        source = layout.under_home(home, version.storage_path) / DATA_FILE
        expected_hash, fingerprint = version.content_hash, version.provenance.get("key_fingerprint")
        columns = [
            c["name"] for c in version.schema.get("columns", []) if c.get("role") == "pseudonym"
        ]
        rekey = project_key(key, project)
        uid = project.uid
    if fingerprint != key.fingerprint:
        raise ConfigurationError(
            f"{label} was pseudonymised with another platform key (fingerprint"
            f" {fingerprint}); this key is {key.fingerprint}: its copies would not link"
        )
    if not source.is_file():
        raise CopyFailed(f"{label}: its data file is missing from the data directory")
    if storage.file_sha256(source) != expected_hash:
        raise CopyFailed(f"{label}: its data file does not match the catalog's hash")
    (home / "copies").mkdir(mode=0o700, exist_ok=True)
    try:
        with (
            storage.terminate_unwinds(),
            storage.build_folder(home / "copies" / ".incoming", f"{uid}.{version_id}") as build,
        ):
            rows = _rekeyed(source, build / DATA_FILE, columns, rekey)
            content_hash = storage.file_sha256(build / DATA_FILE)
            manifest: dict[str, Any] = {
                "schema": COPY_MANIFEST_SCHEMA,
                "dataset": label,
                "project_uid": uid,
                "source_sha256": expected_hash,
                "row_count": rows,
                "files": [{"path": DATA_FILE, "sha256": content_hash}],
                "rekeyed_columns": columns,
                "row_order": f"by {columns[0]} (re-keyed)" if columns else "as the version",
                "key_fingerprint": key.fingerprint,
            }
            storage.write_json(build / MANIFEST_FILE, manifest)
            with catalog.write() as session:
                still = {
                    v.id
                    for v in mountable_versions(
                        session, slug, tz=catalog.settings.timezone, now=now
                    )
                }
                held = session.scalar(
                    select(DatasetCopy.id).where(
                        DatasetCopy.dataset_version_id == version_id,
                        DatasetCopy.project.has(Project.slug == slug),
                        DatasetCopy.removed_at.is_(None),
                    )
                )
                if version_id not in still or held is not None:
                    return CopyChange(
                        slug, label, "unchanged", "", "made meanwhile or no longer granted"
                    )
                project = session.scalar(select(Project).where(Project.slug == slug))
                if project is None:
                    raise CopyFailed(f"{slug}: the project vanished")
                copy = DatasetCopy(
                    project=project,
                    dataset_version_id=version_id,
                    storage_path=str(target.relative_to(home)),
                    content_hash=content_hash,
                    row_count=rows,
                    key_fingerprint=key.fingerprint,
                )
                session.add(copy)
                session.flush()
                audit.record(
                    session,
                    actor=actor,
                    action="copy.create",
                    target=f"dataset:{label}",
                    project=slug,
                    details={"copy_id": copy.id, "rows": rows, "content_hash": content_hash},
                )
                target.parent.parent.mkdir(mode=0o700, exist_ok=True)
                storage.install(build, target, shared=True)  # mounted into workspaces
    except BaseException as exc:
        # A copy the catalog records is complete (a signal held during the commit is raised
        # after it); one it does not record is removed.
        if target.exists() and not _recorded(catalog, target, home):
            storage.remove_tree(target)
        if isinstance(exc, OSError):
            raise CopyFailed(f"{label}: cannot write the copy ({exc.strerror or exc})") from None
        raise
    return CopyChange(slug, label, "created", str(target.relative_to(home)))


BUCKETS = "234567ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # a pseudonym's first character, byte order


def _recorded(catalog: Catalog, target: Path, home: Path) -> bool:
    with catalog.read() as session:
        found = session.scalar(
            select(DatasetCopy.id).where(
                DatasetCopy.storage_path == str(target.relative_to(home)),
                DatasetCopy.removed_at.is_(None),
            )
        )
    return found is not None


def _rekeyed(source: Path, target: Path, columns: list[str], key: Key) -> int:
    """Write ``source`` with each pseudonym column re-keyed, its rows ordered by the first
    re-keyed column: in the version's order, row N of two projects' copies would be the
    same person, and the re-keying would link nothing less. Memory stays bounded: rows are
    first spread over 32 bucket files by the pseudonym's first character, then each bucket
    is sorted on its own."""
    rekey = {c: ColumnPseudonymiser(key) for c in columns}
    parquet = pq.ParquetFile(source)
    schema = parquet.schema_arrow
    if not columns:  # nothing re-keyed: nothing links either way
        pq.write_table(parquet.read(), target, compression="zstd")
        return int(parquet.metadata.num_rows)
    order = columns[0]
    spill = target.parent / "buckets"
    spill.mkdir(mode=0o700)
    writers = {b: pa.ipc.new_file(spill / f"{i:02d}.arrow", schema) for i, b in enumerate(BUCKETS)}
    writers[""] = pa.ipc.new_file(spill / "nulls.arrow", schema)  # rows without an identifier
    try:
        for batch in parquet.iter_batches(batch_size=1 << 19):
            arrays = [
                rekey[name](batch.column(name)) if name in rekey else batch.column(name)
                for name in schema.names
            ]
            table = pa.Table.from_arrays(arrays, schema=schema)
            first = pc.fill_null(pc.utf8_slice_codeunits(table.column(order), 0, 1), "")
            for bucket in pc.unique(first).to_pylist():
                writers[bucket].write_table(table.filter(pc.equal(first, bucket)))
    finally:
        for writer in writers.values():
            writer.close()
    rows = 0
    with pq.ParquetWriter(target, schema, compression="zstd") as out:
        for part in [*(f"{i:02d}" for i in range(len(BUCKETS))), "nulls"]:
            with pa.memory_map(str(spill / f"{part}.arrow")) as handle:
                table = pa.ipc.open_file(handle).read_all()
            if table.num_rows:
                table = table.sort_by([(order, "ascending")]) if part != "nulls" else table
                out.write_table(table)
                rows += table.num_rows
    shutil.rmtree(spill)
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())
    return rows


def _sweep(catalog: Catalog) -> None:
    """Leftovers of killed runs, ingests' and copies' alike: build folders nobody holds,
    and copy folders no live copy records (a crash between recording a removal and deleting
    the files). Done in a write transaction: copies are renamed into place inside one, so
    none can appear half-recorded meanwhile."""
    home = catalog.settings.home
    storage.sweep(home / "copies" / ".incoming")
    storage.sweep(home / "datasets" / ".incoming")
    root = home / "copies"
    if not root.is_dir():
        return
    with catalog.write() as session:
        live = {c.storage_path for c in live_copies(session)}
        for folder in sorted(root.glob("*/*/v*")):
            if folder.parts[-3].startswith("."):
                continue
            if str(folder.relative_to(home)) not in live:
                storage.remove_tree(folder)


def manifest_of(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((path / MANIFEST_FILE).read_text())
    return result
