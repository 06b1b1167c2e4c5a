"""Plain dictionaries of catalog objects: one shape for --json and for tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agoria_tre.catalog.models import AuditEvent, DatasetVersion, Grant, Membership, Project


def project_view(project: Project) -> dict[str, Any]:
    return {
        "slug": project.slug,
        "title": project.title,
        "legal_basis": project.legal_basis,
        "status": project.status.value,
        "created_at": project.created_at,
        "created_by": project.created_by,
        "archived_at": project.archived_at,
        "uid": project.uid,
    }


def membership_view(membership: Membership) -> dict[str, Any]:
    return {
        "user": membership.username,
        "role": membership.role.value,
        "added_at": membership.added_at,
        "added_by": membership.added_by,
    }


def version_view(version: DatasetVersion) -> dict[str, Any]:
    return {
        "dataset": version.label,
        "rows": version.row_count,
        "content_hash": version.content_hash,
        "created_at": version.created_at,
        "created_by": version.created_by,
    }


def grant_view(grant: Grant, *, effective: bool) -> dict[str, Any]:
    return {
        "id": grant.id,
        "dataset": grant.dataset_version.label,
        "reference": grant.reference,
        "valid_from": grant.valid_from,
        "valid_until": grant.valid_until,
        "granted_by": grant.granted_by,
        "granted_at": grant.granted_at,
        "revoked_at": grant.revoked_at,
        "revoked_by": grant.revoked_by,
        "effective": effective,
    }


def event_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.occurred_at,
        "actor": event.actor,
        "os_user": event.os_user,
        "action": event.action,
        "target": event.target,
        "project": event.project,
        "details": event.details,
        "hash": event.hash,
    }
