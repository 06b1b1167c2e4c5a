"""``agoria-tre check``: the automated disclosure checker on files and folders."""

from __future__ import annotations

import json
from pathlib import Path

import click

from agoria_tre.disclosure.policy import PROFILES, load_policy_file, load_profile
from agoria_tre.disclosure.report import ItemReport, Report, exit_status
from agoria_tre.disclosure.status import Status
from agoria_tre.errors import InvalidInput

MARK = {Status.PASS: "pass  ", Status.REVIEW: "REVIEW", Status.FAIL: "FAIL  "}


def load_pseudonyms(path: Path, column: str | None) -> frozenset[str]:
    """One value per line, or a column of a Parquet file."""
    try:
        if path.suffix.lower() == ".parquet":
            if not column:
                raise InvalidInput("--pseudonyms with a Parquet file needs --pseudonym-column")
            import pyarrow.parquet as pq

            table = pq.read_table(path, columns=[column])
            return frozenset(str(v) for v in table.column(column).to_pylist() if v is not None)
        text = path.read_text(encoding="utf-8-sig")
    except InvalidInput:
        raise
    except (OSError, UnicodeError, KeyError, ValueError) as exc:
        raise InvalidInput(f"cannot read pseudonyms from {path}: {exc}") from None
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def _print_item(item: ItemReport, indent: str = "") -> None:
    click.echo(f"{indent}{MARK[item.status]}  {item.path}  ({item.kind})")
    for note in item.notes:
        click.echo(f"{indent}          note: {note}")
    for rule in item.rules:
        if rule.status is Status.PASS:
            continue
        where = ""
        if rule.cells:
            shown = ", ".join(f"({r},{c})" for r, c in rule.cells[:6])
            where = f" cells {shown}{' …' if len(rule.cells) > 6 else ''}"
        asserted = " [researcher-asserted]" if rule.asserted else ""
        click.echo(
            f"{indent}          {MARK[rule.status].strip():6}  {rule.rule}: {rule.summary}"
            f"{where}{asserted}"
        )
    for child in item.children:
        _print_item(child, indent + "    ")


def print_report(report: Report) -> None:
    policy = report.policy
    click.echo(
        f"policy {policy.name}: threshold {policy.threshold}, dominance"
        f" ({policy.dominance_n}, {policy.dominance_k}), p% {policy.p_percent:.0%},"
        f" dof {policy.min_dof}"
    )
    for note in report.notes:
        click.echo(f"note: {note}")
    for item in report.items:
        _print_item(item)
    counts = {s: sum(1 for i in report.items if i.status is s) for s in Status}
    click.echo(
        f"{report.status.value.upper()}: {counts[Status.PASS]} pass,"
        f" {counts[Status.REVIEW]} review, {counts[Status.FAIL]} fail"
    )


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="fr",
    show_default=True,
    help="Named disclosure policy.",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your own policy YAML (overrides --profile).",
)
@click.option(
    "--pseudonyms",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The project's pseudonyms: one per line, or a Parquet file.",
)
@click.option("--pseudonym-column", help="Column of the Parquet file given to --pseudonyms.")
@click.option(
    "--released",
    "released_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of outputs already released (or in open requests), for differencing. Repeatable.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Readable tables, or the versioned JSON report.",
)
def check(
    paths: tuple[Path, ...],
    profile: str,
    policy_file: Path | None,
    pseudonyms: Path | None,
    pseudonym_column: str | None,
    released_dirs: tuple[Path, ...],
    fmt: str,
) -> None:
    """Check outputs for disclosure risk: exit 0 all pass, 1 any fail, 3 review, 2 usage.

    PATHS are files or folders (walked); ACRO output folders are recognised. An output's
    evidence sidecar (NAME.evidence.json beside it) is used for its check and never
    released. Tables of counts are compared with each other and with --released ones.
    """
    from agoria_tre.disclosure.checker import Context, check_paths  # numpy, scipy, Pillow
    from agoria_tre.disclosure.rules.differencing import load_released

    policy = load_policy_file(policy_file) if policy_file else load_profile(profile)
    known = load_pseudonyms(pseudonyms, pseudonym_column) if pseudonyms else frozenset()
    released, notes = load_released(list(released_dirs), policy.limits)
    report = check_paths(list(paths), Context(policy, known, tuple(released)))
    report.notes += notes
    if not report.items:
        raise click.UsageError("nothing to check: no files under the paths given")
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
    else:
        print_report(report)
    raise SystemExit(exit_status(report.status))
