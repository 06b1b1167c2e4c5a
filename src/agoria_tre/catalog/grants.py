"""Grants: which project may mount which dataset version, when, and under which approval.

:func:`mountable_versions` is the one answer to "which dataset versions may project P mount
now"; spawners, the copy reconciler and the airlock all ask it, never the tables directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from agoria_tre import audit
from agoria_tre.catalog.datasets import get_version
from agoria_tre.catalog.models import DatasetVersion, Grant, Project, utcnow
from agoria_tre.catalog.projects import get_project, require_active
from agoria_tre.errors import Conflict, InvalidInput, NotFound
from agoria_tre.names import DatasetRef, check_text


def today(tz: ZoneInfo, now: datetime | None = None) -> date:
    """The calendar day in the platform's time zone, which grant dates are read in."""
    return (now or utcnow()).astimezone(tz).date()


def _open_grants(session: Session, project: Project, version: DatasetVersion) -> list[Grant]:
    """Grants of this pair that are not revoked (they may be current, future or expired)."""
    return list(
        session.scalars(
            select(Grant).where(
                Grant.project_id == project.id,
                Grant.dataset_version_id == version.id,
                Grant.revoked_at.is_(None),
            )
        )
    )


def add_grant(
    session: Session,
    *,
    slug: str,
    ref: DatasetRef,
    reference: str,
    valid_until: date,
    valid_from: date | None,
    actor: str,
    tz: ZoneInfo,
) -> Grant:
    reference = check_text("approval reference", reference)
    day = today(tz)
    start = valid_from or day
    if valid_from is not None and valid_from < day:
        raise InvalidInput(f"start date {valid_from.isoformat()} is in the past")
    if valid_until < day:
        raise InvalidInput(f"end date {valid_until.isoformat()} is in the past")
    if start > valid_until:
        raise InvalidInput(
            f"start date {start.isoformat()} is after end date {valid_until.isoformat()}"
        )
    project = get_project(session, slug)
    require_active(project)
    version = get_version(session, ref)
    for existing in _open_grants(session, project, version):
        if existing.valid_until >= start and existing.valid_from <= valid_until:
            raise Conflict(
                f"project {slug!r} already holds a grant for {ref} from"
                f" {existing.valid_from.isoformat()} to {existing.valid_until.isoformat()}"
                f" ({existing.reference}); revoke it first"
            )
    grant = Grant(
        project=project,
        dataset_version=version,
        reference=reference,
        granted_by=actor,
        valid_from=start,
        valid_until=valid_until,
    )
    session.add(grant)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="grant.add",
        target=f"dataset:{ref}",
        project=slug,
        details={
            "grant_id": grant.id,
            "reference": reference,
            "valid_from": start,
            "valid_until": valid_until,
        },
    )
    return grant


def revoke_grant(
    session: Session, *, slug: str, ref: DatasetRef, actor: str, tz: ZoneInfo
) -> list[Grant]:
    """Revoke the grants of this dataset version to this project that have not ended."""
    project = get_project(session, slug)
    version = get_version(session, ref)
    day = today(tz)
    grants = [g for g in _open_grants(session, project, version) if g.valid_until >= day]
    if not grants:
        raise NotFound(f"project {slug!r} holds no grant for {ref} to revoke")
    moment = utcnow()
    for grant in grants:
        grant.revoked_at = moment
        grant.revoked_by = actor
    audit.record(
        session,
        actor=actor,
        action="grant.revoke",
        target=f"dataset:{ref}",
        project=slug,
        details={"grant_ids": [g.id for g in grants]},
    )
    return grants


def list_grants(session: Session, slug: str) -> Sequence[Grant]:
    project = get_project(session, slug)
    return session.scalars(
        select(Grant)
        .where(Grant.project_id == project.id)
        .options(joinedload(Grant.dataset_version).joinedload(DatasetVersion.dataset))
        .order_by(Grant.id)
    ).all()


def effective_grants(
    session: Session, slug: str, *, tz: ZoneInfo, now: datetime | None = None
) -> list[Grant]:
    """The grants of project ``slug`` in force at ``now`` (default: this instant).

    This is the platform's one rule for access to data: a grant is in force when its days
    (``valid_from`` to ``valid_until`` inclusive, read in ``tz``) contain the day of ``now``,
    when it had not been revoked by ``now``, and when the project had not been archived by
    ``now``. Asking about a past instant answers as the platform would have answered then.
    """
    moment = now or utcnow()
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    project = get_project(session, slug)
    if project.archived_at is not None and project.archived_at <= moment:
        return []
    day = today(tz, moment)
    return list(
        session.scalars(
            select(Grant)
            .where(
                Grant.project_id == project.id,
                or_(Grant.revoked_at.is_(None), Grant.revoked_at > moment),
                Grant.valid_from <= day,
                Grant.valid_until >= day,
            )
            .options(joinedload(Grant.dataset_version).joinedload(DatasetVersion.dataset))
            .order_by(Grant.id)
        )
    )


def mountable_versions(
    session: Session, slug: str, *, tz: ZoneInfo, now: datetime | None = None
) -> list[DatasetVersion]:
    """Which dataset versions project ``slug`` may mount at ``now`` (default: this instant).

    Workspaces, the copy reconciler and the airlock ask this, never the tables directly.
    """
    versions = {
        g.dataset_version.id: g.dataset_version
        for g in effective_grants(session, slug, tz=tz, now=now)
    }
    return sorted(versions.values(), key=lambda v: (v.dataset.name, v.version))
