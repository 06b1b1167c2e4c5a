"""Commands of the data path: the platform key, ingest, dataset versions and project copies,
and the synthetic demo cohort."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from agoria_tre.cli.common import State, actor_option, check_actor_option, json_option, pass_state
from agoria_tre.cli.output import emit_fields, emit_json, emit_table
from agoria_tre.errors import AgoriaError, ConfigurationError, InvalidInput
from agoria_tre.names import DatasetRef

if TYPE_CHECKING:
    from agoria_tre.ingest.copies import CopyChange, StopWorkspaces
    from agoria_tre.ingest.keys import Key
    from agoria_tre.ingest.pipeline import Progress

# The ingest and catalog modules (pyarrow, pandas, SQLAlchemy) are imported by the commands
# that use them, so that --help and --version answer at once.

KEY_FILE_HELP = "The platform key file (default: $AGORIA_KEY_FILE)."


def platform_key(state: State, key_file: str | None) -> Key:
    from agoria_tre.ingest.keys import key_path, load_key

    return load_key(key_path(key_file), home=state.catalog(require_ready=False).settings.home)


def optional_key(state: State) -> Key | None:
    """The configured key, or None when this host has none (copies are then pending)."""
    from agoria_tre.ingest.keys import key_path, load_key

    try:
        path = key_path(None)
    except ConfigurationError:
        return None
    return load_key(path, home=state.catalog(require_ready=False).settings.home)


def stop_workspaces(state: State) -> StopWorkspaces:
    """What removes a copy calls first: stop, through the running hub, the workspaces that
    mount it (and any container a crashed platform left mounting it)."""
    from agoria_tre.hub.control import stop_callback

    callback: StopWorkspaces = stop_callback(state.catalog().settings.home)
    return callback


def stop_project_workspaces(state: State, slug: str, *, user: str | None = None) -> None:
    """After a member lost a project or a project was archived: their workspaces stop now.
    Raises WorkspacesNotStopped (exit 5) when the hub cannot do it: the change stands, and
    the hub's reconciler stops them at its next round."""
    from agoria_tre.hub.control import stop_workspaces as stop

    stop(state.catalog().settings.home, slug, user=user)


def sync_copies(state: State, slug: str, *, actor: str) -> list[CopyChange]:
    """After a grant changed: make or remove the project's copies. Raises CopyFailed (exit 5)
    when one could not be made: the grant change itself is committed."""
    from agoria_tre.ingest import copies
    from agoria_tre.ingest.copies import CopyFailed

    try:
        key = optional_key(state)
    except AgoriaError as exc:
        raise CopyFailed(
            f"recorded, but the project's copies cannot be made: {exc.user_message};"
            " 'agoria-tre dataset reconcile' retries"
        ) from None
    changes = copies.reconcile(
        state.catalog(), key, project=slug, actor=actor, stop_workspaces=stop_workspaces(state)
    )
    failed = [c for c in changes if c.action == "failed"]
    if failed:
        raise CopyFailed(
            f"recorded, but the copy of {failed[0].dataset} for {slug} failed:"
            f" {failed[0].detail}; 'agoria-tre dataset reconcile' retries"
        )
    return changes


def describe_changes(changes: Sequence[CopyChange]) -> None:
    for change in changes:
        if change.action == "pending":
            click.echo(
                f"copy of {change.dataset} for {change.project}: pending (no platform key on"
                " this host: run 'agoria-tre dataset reconcile' where AGORIA_KEY_FILE is set)",
                err=True,
            )
        elif change.action in ("created", "removed"):
            click.echo(f"copy of {change.dataset} for {change.project} {change.action}")


# --- key ---------------------------------------------------------------------------------


@click.group()
def key() -> None:
    """The platform key that pseudonyms are made with."""


@key.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_state
def key_create(state: State, path: Path, as_json: bool) -> None:
    """Write a new random platform key to PATH (owner-only; never overwrites).

    Keep it outside $AGORIA_HOME, back it up offline: without it, new extracts no longer
    link to the pseudonyms already ingested.
    """
    from agoria_tre.ingest.keys import create_key_file

    home = state.catalog(require_ready=False).settings.home
    target = path.expanduser().absolute()
    if target.resolve() == home.resolve() or home.resolve() in target.resolve().parents:
        raise ConfigurationError(f"keep the key outside the data directory {home}")
    created = create_key_file(target)
    if as_json:
        emit_json({"key_file": str(target), "fingerprint": created.fingerprint})
    else:
        click.echo(f"platform key written to {target} (fingerprint {created.fingerprint})")
        click.echo(f"set AGORIA_KEY_FILE={target} for ingest and copies")


# --- demo data ---------------------------------------------------------------------------


@click.command("demo-data")
@click.option("--patients", default=2000, show_default=True, type=click.IntRange(20, 2_000_000))
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option(
    "--out",
    default="demo-extracts",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the raw extracts into.",
)
@json_option
def demo_data(patients: int, seed: int, out: Path, as_json: bool) -> None:
    """Write a synthetic early-access programme cohort as raw hospital extracts.

    The extracts carry invented direct identifiers (names, NIRs, addresses, birth dates),
    so that ingest is exercised as with real data. Each comes with its ingest profile
    (NAME.toml: every column's role). Deterministic for a seed.
    """
    from agoria_tre.ingest import demo

    try:
        files = demo.generate(out, patients=patients, seed=seed)
    except FileExistsError as exc:
        raise InvalidInput(str(exc)) from None
    except OSError as exc:
        raise InvalidInput(f"cannot write the extracts to {out}: {exc.strerror or exc}") from None
    if as_json:
        emit_json({"folder": str(files.folder), "files": files.counts})
        return
    for name, rows in files.counts.items():
        click.echo(f"{files.folder / (name + '.csv')}: {rows} rows (profile {name}.toml)")


# --- datasets ----------------------------------------------------------------------------


class _ProgressLine:
    """rows, MB/s and ETA on one terminal line, at most every half second."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.last = 0.0

    def __call__(self, status: Progress) -> None:
        now = time.monotonic()
        if now - self.last < 0.5:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-6)
        rate = status.bytes_read / elapsed
        left = (status.total_bytes - status.bytes_read) / rate if rate else 0
        share = status.bytes_read / status.total_bytes if status.total_bytes else 1
        sys.stderr.write(
            f"\r{share:6.1%}  {status.rows:,} rows  {rate / 1e6:6.1f} MB/s  ETA {left:4.0f} s "
        )
        sys.stderr.flush()

    def done(self) -> None:
        if self.last:
            sys.stderr.write("\r" + " " * 60 + "\r")


def register(dataset: click.Group) -> None:
    """Add the data path's subcommands to the ``dataset`` group."""
    dataset.add_command(dataset_ingest)
    dataset.add_command(dataset_show)
    dataset.add_command(dataset_reconcile)


@click.command("ingest")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="Dataset name; versions number themselves.")
@click.option(
    "--profile", type=click.Path(dir_okay=False, path_type=Path),
    help="Ingest profile (TOML) declaring each column's role for this source.",
)  # fmt: skip
@click.option(
    "--id-column", "id_columns", multiple=True,
    help="Identifier column replaced by its keyed pseudonym (repeat for several).",
)  # fmt: skip
@click.option("--drop", multiple=True, help="Column removed: never read, never written.")
@click.option("--date-of-birth", "births", multiple=True, help="Birth date column cut to the year.")
@click.option(
    "--birth-precision", type=click.Choice(["year", "month"]), help="Birth dates kept to (year)."
)
@click.option("--quasi", multiple=True, help="Quasi-identifier kept, in the k-anonymity report.")
@click.option("--attribute", "attributes", multiple=True, help="Column kept as it is.")
@click.option(
    "--free-text", "free_text", multiple=True,
    help="Column of prose kept as text; any identifier found in it refuses the ingest.",
)  # fmt: skip
@click.option("--text-column", "text_columns", multiple=True, help="Keep this column as text.")
@click.option(
    "--keep-column", "keep_columns", multiple=True,
    help="Keep a column whose name looks identifying, after a person checked it is not.",
)  # fmt: skip
@click.option("--encoding", help="Source encoding (default: UTF-8, else Latin-1, detected).")
@click.option("--delimiter", help="CSV delimiter (default: detected among , ; tab |).")
@click.option("--skip-bad-rows", default=0, type=int, help="Skip at most N malformed rows.")
@click.option("--key-file", help=KEY_FILE_HELP)
@actor_option
@json_option
@pass_state
def dataset_ingest(
    state: State,
    source: Path,
    name: str,
    profile: Path | None,
    id_columns: tuple[str, ...],
    drop: tuple[str, ...],
    births: tuple[str, ...],
    birth_precision: str | None,
    quasi: tuple[str, ...],
    attributes: tuple[str, ...],
    free_text: tuple[str, ...],
    text_columns: tuple[str, ...],
    keep_columns: tuple[str, ...],
    encoding: str | None,
    delimiter: str | None,
    skip_bad_rows: int,
    key_file: str | None,
    actor: str | None,
    as_json: bool,
) -> None:
    """Ingest SOURCE (CSV, Parquet, or a folder of either) as the next version of a dataset.

    Every column has one declared role (--id-column, --drop, --date-of-birth, --quasi,
    --attribute, --free-text, or an ingest --profile): identifiers are pseudonymised with
    the platform key, dropped columns never read, birth dates generalised, and every kept
    value screened for direct identifiers. The version is immutable and registered in the
    audit log.
    """
    from agoria_tre.ingest.pipeline import IngestOptions, ingest

    who = check_actor_option(actor)

    def once(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(names))

    options = IngestOptions(
        name=name,
        id_columns=once(id_columns),
        drop=once(drop),
        date_of_birth=once(births),
        birth_precision=birth_precision,
        quasi=once(quasi),
        attributes=once(attributes),
        free_text=once(free_text),
        text_columns=once(text_columns),
        keep_columns=once(keep_columns),
        encoding=encoding,
        delimiter=delimiter,
        skip_bad_rows=skip_bad_rows,
        profile=profile,
    )
    platform = platform_key(state, key_file)
    progress = _ProgressLine() if sys.stderr.isatty() and not as_json else None
    try:
        result = ingest(
            state.catalog(), source, options, key=platform, actor=who, progress=progress
        )
    finally:
        if progress is not None:
            progress.done()
    manifest = result.manifest
    warnings = ingest_warnings(state, result.ref, manifest)
    if as_json:
        emit_json(
            {
                "dataset": str(result.ref),
                "path": str(result.path),
                "manifest": manifest,
                "warnings": warnings,
            }
        )
        return
    click.echo(f"{result.ref}: {manifest['row_count']:,} rows, {len(manifest['columns'])} columns")
    for bad in manifest["bad_rows"]:
        click.echo(f"  skipped {bad['file']} line {bad['line']}: {bad['fields']} fields", err=True)
    report = manifest["k_anonymity"]
    if report:
        click.echo(
            f"k-anonymity on {', '.join(report['quasi_identifiers'])}: smallest class"
            f" {report['smallest_class']}, {report['share_in_classes_under_threshold']:.1%} of"
            f" records in classes under {report['threshold']}"
        )
    for warning in warnings:
        click.secho(f"WARNING: {warning}", err=True, bold=True)


def ingest_warnings(state: State, ref: DatasetRef, manifest: dict[str, Any]) -> list[str]:
    """What the data manager should look at: small classes, missing identifiers, a source
    ingested before under the same name."""
    from agoria_tre.catalog import datasets

    warnings = []
    report = manifest["k_anonymity"]
    if report and not report["k_anonymous"]:
        warnings.append(
            f"{report['classes_under_threshold']} classes of the quasi-identifiers hold fewer"
            f" than {report['threshold']} records: outputs on these columns will need"
            " suppression or coarser groups"
        )
    for column, facts in manifest["identifiers"].items():
        if facts["missing"]:
            warnings.append(f"{facts['missing']:,} rows have no {column}: they link to nothing")
    hashes = {s["sha256"] for s in manifest["sources"]}
    with state.read() as session:
        for version in datasets.list_versions(session):
            if version.dataset.name != ref.name or version.version == ref.version:
                continue
            earlier = {s.get("sha256") for s in version.provenance.get("sources", [])}
            if earlier == hashes:
                warnings.append(f"the same source was ingested before as {version.label}")
    return warnings


@click.command("show")
@click.argument("dataset_version", metavar="DATASET@VERSION")
@json_option
@pass_state
def dataset_show(state: State, dataset_version: str, as_json: bool) -> None:
    """Show a dataset version: its manifest facts and which projects hold copies."""
    from agoria_tre.catalog import datasets
    from agoria_tre.ingest import copies

    ref = DatasetRef.parse(dataset_version)
    with state.read() as session:
        version = datasets.get_version(session, ref)
        held = [
            {
                "project": c.project.slug,
                "rows": c.row_count,
                "created_at": c.created_at,
                "storage_path": c.storage_path,
            }
            for c in copies.holders(session, version)
        ]
        view = {
            "dataset": version.label,
            "rows": version.row_count,
            "content_hash": version.content_hash,
            "storage_path": version.storage_path,
            "key_fingerprint": version.provenance.get("key_fingerprint"),
            "sources": [s.get("file") for s in version.provenance.get("sources", [])],
            "created_at": version.created_at,
            "created_by": version.created_by,
        }
        columns = version.schema.get("columns", [])
        k_report = version.provenance.get("k_anonymity")
    if as_json:
        emit_json({**view, "columns": columns, "k_anonymity": k_report, "copies": held})
        return
    emit_fields(view)
    click.echo("\ncolumns:")
    emit_table(columns, ["name", "type", "role"])
    click.echo("\nprojects holding a copy:")
    emit_table(held, ["project", "rows", "created_at", "storage_path"])


@click.command("reconcile")
@click.option("--project", "slug", help="Only this project (default: all).")
@click.option("--key-file", help=KEY_FILE_HELP)
@actor_option
@json_option
@pass_state
def dataset_reconcile(
    state: State, slug: str | None, key_file: str | None, actor: str | None, as_json: bool
) -> None:
    """Make project copies agree with the grants in force (run it daily, and after a
    failure). Copies no grant holds are removed; the ones grants call for are made."""
    from agoria_tre.ingest import copies
    from agoria_tre.ingest.copies import CopyFailed

    who = check_actor_option(actor)
    platform = platform_key(state, key_file)
    changes = copies.reconcile(
        state.catalog(), platform, project=slug, actor=who, stop_workspaces=stop_workspaces(state)
    )
    failed = [c for c in changes if c.action == "failed"]
    if as_json:
        emit_json([vars(c) for c in changes])
    elif not changes:
        click.echo("copies agree with the grants in force")
    else:
        describe_changes(changes)
    if failed:
        raise CopyFailed(
            f"{len(failed)} copies failed, first {failed[0].dataset} for {failed[0].project}:"
            f" {failed[0].detail}"
        )


def after_grant_change(state: State, slug: str, actor: str, as_json: bool) -> list[CopyChange]:
    """Run by grant add/revoke and project archive once their change is committed."""
    changes = sync_copies(state, slug, actor=actor)
    if not as_json:
        describe_changes(changes)
    return changes
