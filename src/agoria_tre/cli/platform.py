"""Commands that run the platform: the workspace image and the hub."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from agoria_tre.cli.common import State, actor_option, check_actor_option, json_option, pass_state
from agoria_tre.cli.output import emit_fields, emit_json, emit_table

DEFAULT_CACHE = "/var/cache/agoria-tre"


# --- image ---------------------------------------------------------------------------------


@click.group()
def image() -> None:
    """Workspace images: build (with no registry and no network), list."""


@image.command("build")
@click.option("--base", help="Base image reference (default: one made with debootstrap here).")
@click.option("--mirror", help="Debian mirror for the base (default: the host's APT sources).")
@click.option(
    "--wheel",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The agoria-tre wheel to install (default: built from this source checkout).",
)
@click.option(
    "--cache",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_CACHE,
    show_default=True,
    envvar="AGORIA_CACHE",
    help="Where the base root filesystem and the wheelhouse are kept between builds.",
)
@actor_option
@json_option
@pass_state
def image_build(
    state: State,
    base: str | None,
    mirror: str | None,
    wheel: Path | None,
    cache: Path,
    actor: str | None,
    as_json: bool,
) -> None:
    """Build the workspace image (or find it built), tag it with its content hash and
    record it in the catalog: the hub runs only recorded images."""
    from agoria_tre.images.build import build_image

    def progress(message: str) -> None:
        if not as_json:
            click.echo(message, err=True)

    result = build_image(
        state.catalog(),
        cache=cache,
        actor=check_actor_option(actor),
        base=base,
        mirror=mirror,
        wheel=wheel,
        progress=progress,
    )
    fields = {
        "reference": result.reference,
        "image_id": result.image_id,
        "content_hash": result.content_hash,
        "base": result.base,
        "size_bytes": result.size_bytes,
        "built": result.built,
    }
    if as_json:
        emit_json(fields)
    else:
        emit_fields(fields)


@image.command("list")
@json_option
@pass_state
def image_list(state: State, as_json: bool) -> None:
    """The recorded workspace images, oldest first (the hub runs the newest)."""
    from agoria_tre.images.build import recorded

    rows = [
        {"reference": i.reference, "image_id": i.image_id[:19], "content_hash": i.content_hash}
        for i in recorded(state.catalog())
    ]
    if as_json:
        emit_json(rows)
    else:
        emit_table(rows, ["reference", "image_id", "content_hash"])


@image.command("lock")
@click.option(
    "--wheel",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The agoria-tre wheel whose dependencies to lock (default: built from this checkout).",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the lock (default: the packaged requirements.lock).",
)
def image_lock(wheel: Path | None, output: Path | None) -> None:
    """Resolve requirements.in and agoria-tre's dependencies into requirements.lock (for
    maintainers; uses the package registry)."""
    import tempfile
    from importlib import resources

    from agoria_tre.images.build import own_wheel, resolve_lock

    folder = Path(str(resources.files("agoria_tre.images") / "workspace"))
    with tempfile.TemporaryDirectory() as scratch:
        ours = own_wheel(Path(scratch), wheel)
        text = resolve_lock((folder / "requirements.in").read_bytes(), ours)
    target = output or folder / "requirements.lock"
    target.write_text(text)
    click.echo(f"{target}: {text.count('==')} packages pinned")


# --- hub -----------------------------------------------------------------------------------


@click.group(invoke_without_command=True)
@click.option(
    "--url",
    default="http://127.0.0.1:8000",
    show_default=True,
    envvar="AGORIA_HUB_URL",
    help="Public URL of the platform (put a TLS reverse proxy in front in production).",
)
@click.option(
    "--api-port",
    default=8081,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="The hub's API port, the only host port workspaces may reach.",
)
@click.option(
    "--demo", is_flag=True, help="Demo mode: log in with the demo users (agoria-tre hub demo-user)."
)
@click.option(
    "--subnets",
    default="10.213.0.0/16",
    show_default=True,
    envvar="AGORIA_WORKSPACE_SUBNETS",
    help="Private IPv4 range the projects' networks are allocated from.",
)
@click.option(
    "--idle-timeout",
    default=3600,
    show_default=True,
    type=click.IntRange(10),
    help="Seconds of inactivity after which a workspace is stopped.",
)
@click.option(
    "--reconcile-every",
    default=60,
    show_default=True,
    type=click.IntRange(5),
    help="Seconds between checks of running workspaces against the grants.",
)
@click.option(
    "--proxy-api-port",
    default=8001,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="The proxy's API port (on 127.0.0.1 only).",
)
@click.option(
    "--airlock-port",
    default=8082,
    show_default=True,
    type=click.IntRange(1, 65535),
    help=(
        "The airlock service's port, on every address: the proxy serves it at"
        " /services/airlock/, and workspaces reach it through their gateway."
    ),
)
@click.option(
    "--project-storage",
    default="2G",
    show_default=True,
    help="Cap of each project's writable storage (K, M, G, T), fixed at its first workspace.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the hub's log there instead of the terminal.",
)
@click.pass_context
def hub(
    ctx: click.Context,
    url: str,
    api_port: int,
    demo: bool,
    subnets: str,
    idle_timeout: int,
    reconcile_every: int,
    proxy_api_port: int,
    airlock_port: int,
    project_storage: str,
    log_file: Path | None,
) -> None:
    """Run the platform: container runtime, firewall, JupyterHub, proxy, workspaces.

    Ctrl-C or SIGTERM stops everything it started; a start after a crash clears what the
    crashed run left. Logins go through OpenID Connect (AGORIA_OIDC_*), or, with --demo,
    through the demo users.
    """
    if ctx.invoked_subcommand is not None:
        return
    from agoria_tre.hub.platform import Platform, PlatformOptions

    state = ctx.ensure_object(State)
    catalog = state.catalog()
    logging.basicConfig(level=logging.INFO, format="[agoria-tre %(asctime)s] %(message)s")
    platform = Platform(
        catalog.settings,
        PlatformOptions(
            public_url=url.rstrip("/"),
            api_port=api_port,
            auth="demo" if demo else "oidc",
            demo=demo,
            subnet_pool=subnets,
            idle_timeout=idle_timeout,
            reconcile_every=reconcile_every,
            proxy_api_port=proxy_api_port,
            airlock_port=airlock_port,
            project_storage=project_storage,
            log_file=log_file,
        ),
    )
    platform.start()
    click.echo(f"Agoria TRE is running at {url.rstrip('/')}/hub/ (Ctrl-C stops it)", err=True)
    sys.exit(platform.wait())


@hub.command("demo-user")
@click.argument("user")
@pass_state
def hub_demo_user(state: State, user: str) -> None:
    """Make a demo login for USER and print its generated password, once."""
    from agoria_tre.hub.auth import add_user

    home = state.catalog(require_ready=False).settings.home
    password = add_user(home / "hub" / "demo-users.json", user)
    click.echo(f"{user}\t{password}")
