"""Who may do what, asked the same way everywhere.

Each question comes as a pair: ``can_x(...)`` answers a bool (for pages and menus) and
``check_x(...)`` raises :class:`PermissionDenied` (for handlers and commands). Both read the
actor's roles from the catalog at the moment of asking, so a removed member loses access on
their next request. Platform administrators are not project members: they provision
projects but do not see project data, spawn workspaces or review exports.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from agoria_tre.catalog.models import Project, Role
from agoria_tre.catalog.projects import roles_of
from agoria_tre.errors import PermissionDenied


@dataclass(frozen=True)
class Actor:
    """Someone acting on the platform: a logged-in user, or an operator at the CLI."""

    name: str
    is_admin: bool = False


def _roles(session: Session, actor: Actor, project: Project) -> frozenset[Role]:
    return roles_of(session, project, actor.name)


def _deny(actor: Actor, project: Project, what: str, why: str) -> PermissionDenied:
    return PermissionDenied(
        f"you may not {what} in project {project.slug!r}",
        f"denied: {actor.name} may not {what} in project {project.slug} ({why})",
    )


# --- see a project ---------------------------------------------------------------------


def can_view_project(session: Session, actor: Actor, project: Project) -> bool:
    """Admins and every member, whatever their role, may see a project's description."""
    return actor.is_admin or bool(_roles(session, actor, project))


def check_view_project(session: Session, actor: Actor, project: Project) -> None:
    if not can_view_project(session, actor, project):
        raise _deny(actor, project, "view this project", "not a member")


# --- spawn a workspace -----------------------------------------------------------------


def _why_not_spawn(session: Session, actor: Actor, project: Project) -> str | None:
    if not project.is_active:
        return "project archived"
    if Role.RESEARCHER not in _roles(session, actor, project):
        return "not a researcher of the project"
    return None


def can_spawn(session: Session, actor: Actor, project: Project) -> bool:
    """Researchers of an active project may start its workspace."""
    return _why_not_spawn(session, actor, project) is None


def check_spawn(session: Session, actor: Actor, project: Project) -> None:
    why = _why_not_spawn(session, actor, project)
    if why is not None:
        raise _deny(actor, project, "start a workspace", why)


# --- submit an export request ----------------------------------------------------------


def can_submit_export(session: Session, actor: Actor, project: Project) -> bool:
    """Researchers of an active project may ask for outputs to leave."""
    return _why_not_spawn(session, actor, project) is None


def check_submit_export(session: Session, actor: Actor, project: Project) -> None:
    why = _why_not_spawn(session, actor, project)
    if why is not None:
        raise _deny(actor, project, "request an export", why)


# --- review an export request ----------------------------------------------------------


def _why_not_review(
    session: Session, actor: Actor, project: Project, requested_by: str
) -> str | None:
    if not project.is_active:
        return "project archived"
    if Role.REVIEWER not in _roles(session, actor, project):
        return "not a reviewer of the project"
    if actor.name == requested_by:
        return "reviewers never review their own requests"
    return None


def can_review_export(session: Session, actor: Actor, project: Project, requested_by: str) -> bool:
    """Reviewers of an active project may review a request, except one they made."""
    return _why_not_review(session, actor, project, requested_by) is None


def check_review_export(
    session: Session, actor: Actor, project: Project, requested_by: str
) -> None:
    why = _why_not_review(session, actor, project, requested_by)
    if why is not None:
        raise _deny(actor, project, "review this export request", why)


# --- read a project's audit trail ------------------------------------------------------


def can_view_project_audit(session: Session, actor: Actor, project: Project) -> bool:
    """Admins and the project's leads may read its audit trail."""
    return actor.is_admin or Role.LEAD in _roles(session, actor, project)


def check_view_project_audit(session: Session, actor: Actor, project: Project) -> None:
    if not can_view_project_audit(session, actor, project):
        raise _deny(actor, project, "read the audit trail", "neither admin nor lead")
