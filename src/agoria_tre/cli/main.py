"""The ``agoria-tre`` command: the administrators' interface to the catalog.

Thin by design: it parses arguments, calls ``agoria_tre.catalog`` and ``agoria_tre.audit``,
and prints. Refusals are one line on stderr with exit status 2, and change nothing: each
command runs in one transaction that commits only when the whole command succeeded.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from agoria_tre import __version__
from agoria_tre.catalog.enums import Role
from agoria_tre.cli import data, platform
from agoria_tre.cli.check import check as check_command
from agoria_tre.cli.common import (
    State,
    actor_option,
    check_actor_option,
    json_option,
    pass_state,
)
from agoria_tre.cli.output import emit_fields, emit_json, emit_table, fail
from agoria_tre.cli.views import (
    event_view,
    grant_view,
    membership_view,
    project_view,
    version_view,
)
from agoria_tre.errors import AgoriaError, CatalogNotReady, ConfigurationError, InvalidInput
from agoria_tre.ingest.storage import Interrupted
from agoria_tre.names import DatasetRef


def _parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option} must be a date written YYYY-MM-DD, got {value!r}") from None


_RELATIVE = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _parse_since(value: str) -> datetime:
    """An ISO date or date-time (UTC unless it names a zone), or an age such as 7d or 12h."""
    try:
        relative = _RELATIVE.fullmatch(value)
        if relative:
            amount, unit = int(relative.group(1)), _UNITS[relative.group(2)]
            return datetime.now(UTC) - timedelta(**{unit: amount})
        moment = datetime.fromisoformat(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"--since must be a date (2026-01-31), a date-time (2026-01-31T08:00) or an age"
            f" (30m, 12h, 7d, 2w) after year 1, got {value!r}"
        ) from None


# --- the group ---------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="agoria-tre")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Agoria TRE administration: projects, members, grants and the audit log.

    The catalog lives in $AGORIA_HOME (default /var/lib/agoria-tre) or in the database
    named by $AGORIA_DB_URL. Every change is recorded in the hash-chained audit log.
    """
    state = ctx.ensure_object(State)
    ctx.call_on_close(state.close)


@cli.command()
@actor_option
@json_option
@pass_state
def init(state: State, actor: str | None, as_json: bool) -> None:
    """Create the catalog, or upgrade it to this version's schema."""
    from agoria_tre.catalog.migrate import initialise

    catalog = state.catalog(require_ready=False)
    result = initialise(catalog, actor=check_actor_option(actor))
    before, after = result.before, result.after
    if as_json:
        emit_json(
            {
                "catalog": catalog.url,
                "audit_anchor": str(catalog.anchor_path),
                "revision_before": before,
                "revision": after,
            }
        )
    elif before == after:
        click.echo(f"catalog {catalog.url} is up to date (schema revision {after})")
    elif before is None:
        click.echo(f"catalog {catalog.url} created (schema revision {after})")
    else:
        click.echo(f"catalog {catalog.url} upgraded from revision {before} to {after}")


# --- projects ----------------------------------------------------------------------------


@cli.group()
def project() -> None:
    """Create, list, show and archive projects."""


@project.command("create")
@click.argument("slug")
@click.option("--title", required=True, help="Human title of the project.")
@click.option(
    "--legal-basis",
    required=True,
    help="Legal basis reference: a reference methodology (MR-004) or a CNIL authorisation.",
)
@actor_option
@json_option
@pass_state
def project_create(
    state: State, slug: str, title: str, legal_basis: str, actor: str | None, as_json: bool
) -> None:
    """Create project SLUG (3-40 characters of a-z, 0-9 and '-')."""
    from agoria_tre.catalog import projects

    with state.write() as session:
        created = projects.create_project(
            session,
            slug=slug,
            title=title,
            legal_basis=legal_basis,
            actor=check_actor_option(actor),
        )
        view = project_view(created)
    if as_json:
        emit_json(view)
    else:
        click.echo(f"project {slug} created")


@project.command("list")
@click.option("--active", is_flag=True, help="Only active projects.")
@json_option
@pass_state
def project_list(state: State, active: bool, as_json: bool) -> None:
    """List projects."""
    from agoria_tre.catalog import projects

    with state.read() as session:
        rows = [
            project_view(p) for p in projects.list_projects(session, include_archived=not active)
        ]
    if as_json:
        emit_json(rows)
    else:
        emit_table(rows, ["slug", "status", "legal_basis", "title", "created_at"])


@project.command("show")
@click.argument("slug")
@json_option
@pass_state
def project_show(state: State, slug: str, as_json: bool) -> None:
    """Show a project with its members and grants."""
    from agoria_tre.catalog import grants, projects

    tz = state.catalog().settings.timezone
    with state.read() as session:
        found = projects.get_project(session, slug)
        view = project_view(found)
        members = [membership_view(m) for m in found.memberships]
        effective = state.effective_ids(session, slug)
        grant_rows = [
            grant_view(g, effective=g.id in effective) for g in grants.list_grants(session, slug)
        ]
        mountable = [v.label for v in grants.mountable_versions(session, slug, tz=tz)]
    if as_json:
        emit_json({**view, "members": members, "grants": grant_rows, "mountable": mountable})
        return
    emit_fields(view)
    click.echo("\nmembers:")
    emit_table(members, ["user", "role", "added_at", "added_by"])
    click.echo("\ngrants:")
    emit_table(
        grant_rows,
        ["dataset", "reference", "valid_from", "valid_until", "effective", "revoked_at"],
    )


@project.command("archive")
@click.argument("slug")
@click.option(
    "--keep-storage-days",
    default=365,
    show_default=True,
    type=click.IntRange(0),
    help="Days the workspaces' storage (/project, homes) is kept read-only before it may be"
    " purged.",
)
@actor_option
@json_option
@pass_state
def project_archive(
    state: State, slug: str, keep_storage_days: int, actor: str | None, as_json: bool
) -> None:
    """Archive a project: no more workspaces, exports or mounts. Its history stays; its
    workspaces stop, its copies go, its storage is kept read-only for a while."""
    from agoria_tre.catalog import projects
    from agoria_tre.hub import storage

    who = check_actor_option(actor)
    with state.write() as session:
        archived = project_view(projects.archive_project(session, slug=slug, actor=who))
    if not as_json:
        click.echo(f"project {slug} archived")
    data.stop_project_workspaces(state, slug)
    kept = storage.quarantine(state.catalog(), slug, keep_days=keep_storage_days, actor=who)
    if kept is not None and not as_json:
        click.echo(f"workspace storage kept read-only until {kept.isoformat()}")
    archived["storage_kept_until"] = kept
    changes = data.after_grant_change(state, slug, who, as_json)
    if as_json:
        emit_json({**archived, "copies": [vars(c) for c in changes]})


@project.command("purge-storage")
@click.argument("slug")
@actor_option
@pass_state
def project_purge_storage(state: State, slug: str, actor: str | None) -> None:
    """Delete an archived project's workspace storage once its retention has passed."""
    from agoria_tre.hub import storage

    storage.purge(state.catalog(), slug, actor=check_actor_option(actor))
    click.echo(f"workspace storage of project {slug} deleted")


# --- members -----------------------------------------------------------------------------

ROLE_CHOICE = click.Choice([r.value for r in Role])


@cli.group()
def member() -> None:
    """Add and remove project members and their roles."""


@member.command("add")
@click.argument("slug")
@click.argument("user")
@click.option("--role", required=True, type=ROLE_CHOICE, help="Role to give.")
@actor_option
@json_option
@pass_state
def member_add(
    state: State, slug: str, user: str, role: str, actor: str | None, as_json: bool
) -> None:
    """Give USER a role in project SLUG (a person may hold several roles)."""
    from agoria_tre.catalog import projects

    with state.write() as session:
        added = projects.add_member(
            session, slug=slug, username=user, role=Role(role), actor=check_actor_option(actor)
        )
        view = {"project": slug, **membership_view(added)}
    if as_json:
        emit_json(view)
    else:
        click.echo(f"{user} is now {role} of project {slug}")


@member.command("remove")
@click.argument("slug")
@click.argument("user")
@click.option("--role", type=ROLE_CHOICE, help="Remove only this role (default: all roles).")
@actor_option
@json_option
@pass_state
def member_remove(
    state: State, slug: str, user: str, role: str | None, actor: str | None, as_json: bool
) -> None:
    """Remove USER's role (or all roles) in project SLUG."""
    from agoria_tre.catalog import projects

    with state.write() as session:
        removed = projects.remove_member(
            session,
            slug=slug,
            username=user,
            role=Role(role) if role else None,
            actor=check_actor_option(actor),
        )
    names = [r.value for r in removed]
    if Role.RESEARCHER in removed:  # workspaces are the researchers'
        data.stop_project_workspaces(state, slug, user=user)
    if as_json:
        emit_json({"project": slug, "user": user, "removed_roles": names})
    else:
        click.echo(f"{user} removed from project {slug} (roles: {', '.join(names)})")


# --- datasets (read-only here: versions enter only through ingest) -----------------------


@cli.group()
def dataset() -> None:
    """Ingest extracts; inspect dataset versions and the projects' copies."""


@dataset.command("list")
@json_option
@pass_state
def dataset_list(state: State, as_json: bool) -> None:
    """List dataset versions that can be granted."""
    from agoria_tre.catalog import datasets

    with state.read() as session:
        rows = [version_view(v) for v in datasets.list_versions(session)]
    if as_json:
        emit_json(rows)
    else:
        emit_table(rows, ["dataset", "rows", "created_at", "created_by", "content_hash"])


data.register(dataset)
cli.add_command(data.key)
cli.add_command(data.demo_data)


# --- grants ------------------------------------------------------------------------------


@cli.group()
def grant() -> None:
    """Grant, revoke and list projects' access to dataset versions."""


@grant.command("add")
@click.argument("slug")
@click.argument("dataset_version", metavar="DATASET@VERSION")
@click.option("--reference", required=True, help="Reference of the approval (committee, CNIL…).")
@click.option("--until", "until", required=True, help="Last day of access, YYYY-MM-DD.")
@click.option("--from", "start", help="First day of access, YYYY-MM-DD (default: today).")
@actor_option
@json_option
@pass_state
def grant_add(
    state: State,
    slug: str,
    dataset_version: str,
    reference: str,
    until: str,
    start: str | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Let project SLUG mount DATASET@VERSION until a date (inclusive)."""
    from agoria_tre.catalog import grants

    ref = DatasetRef.parse(dataset_version)
    valid_until = _parse_day(until, "--until")
    valid_from = _parse_day(start, "--from") if start else None
    who = check_actor_option(actor)
    catalog = state.catalog()
    with state.write() as session:
        created = grants.add_grant(
            session,
            slug=slug,
            ref=ref,
            reference=reference,
            valid_until=valid_until,
            valid_from=valid_from,
            actor=who,
            tz=catalog.settings.timezone,
        )
        view = grant_view(created, effective=created.id in state.effective_ids(session, slug))
    if not as_json:
        click.echo(
            f"project {slug} may mount {ref} from {view['valid_from']} to {view['valid_until']}"
        )
    changes = data.after_grant_change(state, slug, who, as_json)
    if as_json:
        emit_json({**view, "copies": [vars(c) for c in changes]})


@grant.command("revoke")
@click.argument("slug")
@click.argument("dataset_version", metavar="DATASET@VERSION")
@actor_option
@json_option
@pass_state
def grant_revoke(
    state: State, slug: str, dataset_version: str, actor: str | None, as_json: bool
) -> None:
    """Withdraw project SLUG's access to DATASET@VERSION, now."""
    from agoria_tre.catalog import grants

    ref = DatasetRef.parse(dataset_version)
    who = check_actor_option(actor)
    catalog = state.catalog()
    with state.write() as session:
        revoked = grants.revoke_grant(
            session,
            slug=slug,
            ref=ref,
            actor=who,
            tz=catalog.settings.timezone,
        )
        ids = [g.id for g in revoked]
    if not as_json:
        click.echo(f"project {slug} may no longer mount {ref}")
    changes = data.after_grant_change(state, slug, who, as_json)
    if as_json:
        emit_json(
            {
                "project": slug,
                "dataset": str(ref),
                "revoked_grants": ids,
                "copies": [vars(c) for c in changes],
            }
        )


@grant.command("list")
@click.argument("slug")
@json_option
@pass_state
def grant_list(state: State, slug: str, as_json: bool) -> None:
    """List a project's grants, past and present."""
    from agoria_tre.catalog import grants

    with state.read() as session:
        effective = state.effective_ids(session, slug)
        rows = [
            grant_view(g, effective=g.id in effective) for g in grants.list_grants(session, slug)
        ]
    if as_json:
        emit_json(rows)
    else:
        emit_table(
            rows,
            [
                "dataset",
                "reference",
                "valid_from",
                "valid_until",
                "effective",
                "granted_by",
                "revoked_at",
            ],
        )


# --- audit -------------------------------------------------------------------------------


@cli.group("audit")
def audit_group() -> None:
    """Verify and read the hash-chained audit log."""


@audit_group.command("verify")
@click.option(
    "--witness",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The witness's file of heads: also name a rewrite the anchor file was made to match"
    " (default: this catalog's witness on this host, when it has one).",
)
@json_option
@pass_state
def audit_verify(state: State, witness: Path | None, as_json: bool) -> None:
    """Walk the whole chain. Exit 0 when intact, 1 naming the first broken event."""
    from agoria_tre import audit, audit_witness

    catalog = state.catalog()
    if witness is None:
        _, heads = audit_witness.catalog_paths(catalog.settings.home)
        witness = heads if heads.exists() else None
    with catalog.snapshot() as session:
        result = audit.verify(session, catalog.anchor_path, witness=witness)
    if as_json:
        emit_json(result.as_dict() | {"witness": str(witness) if witness else None})
    elif result.ok:
        against = f", checked against the witness {witness}" if witness else ""
        click.echo(
            f"audit chain intact: {result.events} events, head {result.head_seq}"
            f" {result.head_hash[:16]}…{against}"
        )
    else:
        print(f"audit chain BROKEN: {result.problem}", file=sys.stderr)
    if not result.ok:
        sys.exit(1)


@audit_group.command("show")
@click.option("--project", "slug", help="Only events of this project.")
@click.option("--since", help="Only events since a date, date-time (UTC) or age (7d, 12h).")
@click.option("--limit", type=click.IntRange(min=1, max=2**62), help="Only the newest N events.")
@json_option
@pass_state
def audit_show(
    state: State, slug: str | None, since: str | None, limit: int | None, as_json: bool
) -> None:
    """Print audit events, oldest first."""
    from sqlalchemy import select

    from agoria_tre import audit
    from agoria_tre.catalog import projects
    from agoria_tre.catalog.models import AuditEvent

    query = select(AuditEvent).order_by(AuditEvent.seq.desc())
    if slug is not None:
        query = query.where(AuditEvent.project == slug)
    if since is not None:
        query = query.where(AuditEvent.occurred_at >= audit.format_timestamp(_parse_since(since)))
    if limit is not None:
        query = query.limit(limit)
    with state.read() as session:
        if slug is not None:
            projects.get_project(session, slug)
        events = list(reversed(session.scalars(query).all()))
        rows = [event_view(e) for e in events]
    if as_json:
        emit_json([{**r, "details": json.loads(r["details"])} for r in rows])
    else:
        emit_table(
            [{**r, "hash": r["hash"][:12]} for r in rows],
            ["seq", "at", "actor", "os_user", "action", "target", "project", "details", "hash"],
            empty="(no events)",
        )


cli.add_command(check_command)
cli.add_command(platform.image)
cli.add_command(platform.hub)


# --- entry point -------------------------------------------------------------------------


def _is_database_error(exc: Exception) -> bool:
    """Whether ``exc`` is a SQLAlchemy error, told without importing SQLAlchemy: a command
    that raised one has loaded it, and ``--help`` never has to."""
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    return sqlalchemy_exc is not None and isinstance(exc, sqlalchemy_exc.SQLAlchemyError)


@audit_group.command("witness")
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the platform sends heads (default: this data directory's, under"
    " /run/agoria-witness; AGORIA_AUDIT_WITNESS names another to the platform).",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The append-only file of heads (default: this data directory's, under"
    " /var/lib/agoria-witness; audit verify reads it).",
)
@click.option("--user", help="Run as this system user (started as root): its own account.")
@pass_state
def audit_witness(
    state: State, socket_path: Path | None, log_path: Path | None, user: str | None
) -> None:
    """Run the audit witness until stopped: append each head the platform sends to a file
    the platform's account cannot rewrite."""
    import logging

    from agoria_tre import audit
    from agoria_tre.audit_witness import WitnessRefused, WitnessServer, catalog_paths, prepare

    settings = state.catalog(require_ready=False).settings
    default_socket, default_log = catalog_paths(settings.home)
    socket_path, log_path = socket_path or default_socket, log_path or default_log
    anchor = audit.anchor_identity(settings.audit_anchor)  # None: made before anchors had one
    logging.basicConfig(level=logging.INFO, format="[agoria-witness %(asctime)s] %(message)s")
    drop = prepare(socket_path, log_path, user)
    drop()  # before opening anything: the files become the witness user's own
    try:
        server = WitnessServer(socket_path, log_path, anchor)
    except WitnessRefused as exc:
        raise ConfigurationError(f"the audit witness refuses to start: {exc}") from None
    click.echo(f"audit witness: heads from {socket_path} into {log_path}", err=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stopped: its socket goes too
    try:
        server.serve_forever()
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, turning every refusal into one line on stderr and exit status 2."""
    try:
        code = cli.main(args=argv, prog_name="agoria-tre", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt, Interrupted):
        fail("interrupted: an unfinished ingest or copy leaves nothing behind", 130)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        fail(f"{exc.format_message()}{hint}", 2)
    except click.ClickException as exc:
        fail(exc.format_message(), exc.exit_code)
    except AgoriaError as exc:
        fail(exc.user_message, exc.exit_code)
    except Exception as exc:
        if not _is_database_error(exc):
            raise
        error = CatalogNotReady(f"catalog database error: {exc.__class__.__name__}", str(exc))
        fail(f"{error.user_message} ({str(exc).splitlines()[0]})", error.exit_code)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
