"""Projects and their members: create, archive, add and remove roles."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from agoria_tre import audit
from agoria_tre.catalog.models import Membership, Project, ProjectStatus, Role, utcnow
from agoria_tre.errors import Conflict, InvalidInput, NotFound
from agoria_tre.names import check_slug, check_text, check_username


def get_project(session: Session, slug: str) -> Project:
    project = session.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        raise NotFound(f"unknown project {slug!r}")
    return project


def list_projects(session: Session, *, include_archived: bool = True) -> Sequence[Project]:
    query = select(Project).order_by(Project.slug)
    if not include_archived:
        query = query.where(Project.status == ProjectStatus.ACTIVE)
    return session.scalars(query).all()


def require_active(project: Project) -> None:
    if not project.is_active:
        raise Conflict(f"project {project.slug!r} is archived")


def create_project(
    session: Session, *, slug: str, title: str, legal_basis: str, actor: str
) -> Project:
    check_slug(slug)
    title = check_text("title", title)
    legal_basis = check_text("legal basis", legal_basis)
    if session.scalar(select(Project.id).where(Project.slug == slug)) is not None:
        raise Conflict(f"project {slug!r} already exists")
    project = Project(slug=slug, title=title, legal_basis=legal_basis, created_by=actor)
    session.add(project)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="project.create",
        target=f"project:{slug}",
        project=slug,
        details={"uid": project.uid, "title": title, "legal_basis": legal_basis},
    )
    return project


def archive_project(session: Session, *, slug: str, actor: str) -> Project:
    project = get_project(session, slug)
    require_active(project)
    project.status = ProjectStatus.ARCHIVED
    project.archived_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="project.archive",
        target=f"project:{slug}",
        project=slug,
    )
    return project


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InvalidInput(f"unknown role {value!r}: choose one of {choices}") from None


def roles_of(session: Session, project: Project, username: str) -> frozenset[Role]:
    return frozenset(
        session.scalars(
            select(Membership.role).where(
                Membership.project_id == project.id, Membership.username == username
            )
        )
    )


def add_member(session: Session, *, slug: str, username: str, role: Role, actor: str) -> Membership:
    check_username(username)
    project = get_project(session, slug)
    require_active(project)
    if role in roles_of(session, project, username):
        raise Conflict(f"{username} is already {role.value} of project {slug!r}")
    membership = Membership(project=project, username=username, role=role, added_by=actor)
    session.add(membership)
    audit.record(
        session,
        actor=actor,
        action="member.add",
        target=f"user:{username}",
        project=slug,
        details={"role": role.value},
    )
    return membership


def remove_member(
    session: Session, *, slug: str, username: str, role: Role | None, actor: str
) -> list[Role]:
    """Remove one role of a member, or all their roles when ``role`` is None."""
    check_username(username)
    project = get_project(session, slug)
    query = select(Membership).where(
        Membership.project_id == project.id, Membership.username == username
    )
    if role is not None:
        query = query.where(Membership.role == role)
    memberships = session.scalars(query).all()
    if not memberships:
        what = f"{role.value} of" if role else "a member of"
        raise NotFound(f"{username} is not {what} project {slug!r}")
    removed = sorted(m.role for m in memberships)
    for membership in memberships:
        session.delete(membership)
    audit.record(
        session,
        actor=actor,
        action="member.remove",
        target=f"user:{username}",
        project=slug,
        details={"roles": [r.value for r in removed]},
    )
    return removed
