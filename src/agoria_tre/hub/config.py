"""What ``jupyterhub_config.py`` assigns, computed from the environment ``agoria-tre hub`` sets.

The config file holds assignments only; the decisions behind them live here, where they can
be tested: which authenticator (and the refusal to run a test one outside demo mode), the
services and their roles, the projects a user sees on the home page.

Environment (set by ``agoria-tre hub``; an operator may set the ``AGORIA_HUB_*`` ones):

``AGORIA_HUB_URL``          public URL of the proxy (default ``http://127.0.0.1:8000``)
``AGORIA_HUB_API_PORT``     the hub's API port, reached by workspaces (default 8081)
``AGORIA_HUB_AUTH``         ``oidc`` (default) or ``demo``; ``demo`` needs ``AGORIA_DEMO=1``
``AGORIA_OIDC_*``           ISSUER... see :class:`OidcSettings`
``AGORIA_IDLE_TIMEOUT``     seconds before an idle workspace is stopped (default 3600)
``AGORIA_RECONCILE_EVERY``  seconds between grant reconciliations (default 60)
``AGORIA_PROXY_API_PORT``   the proxy's API port, on 127.0.0.1 only (default 8001)
``AGORIA_AIRLOCK_PORT``     the airlock service's port, on 127.0.0.1 (default 8082)
``AGORIA_PROJECT_STORAGE``  cap of each project's writable storage (default 2G)
``AGORIA_RUNTIME_URL``      Docker API of the container runtime (set by ``agoria-tre hub``)
``AGORIA_PLATFORM_TOKEN``   the platform's own service token (generated at each start)
``AGORIA_ADMIN_TOKEN``      optional: a token for the ``agoria-admin`` service (admin role)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from agoria_tre.errors import ConfigurationError
from agoria_tre.hub import processes

TEMPLATES = str(Path(__file__).with_name("templates"))
CONFIG_FILE = str(Path(__file__).with_name("jupyterhub_config.py"))
DEMO_AUTHENTICATOR = "agoria_tre.hub.auth.DemoAuthenticator"
OIDC_AUTHENTICATOR = "oauthenticator.generic.GenericOAuthenticator"
# Authenticators that let anyone in, or everyone in with one password: never outside a demo.
TEST_AUTHENTICATORS = frozenset(
    {
        DEMO_AUTHENTICATOR,
        "dummy",
        "jupyterhub.auth.DummyAuthenticator",
        "shared-password",
        "jupyterhub.authenticators.shared.SharedPasswordAuthenticator",
    }
)
PLATFORM_SERVICE = "agoria-platform"
AIRLOCK_SERVICE = "airlock"
AIRLOCK_WITHOUT = frozenset({"AGORIA_KEY_FILE", "AGORIA_RUNTIME_URL"})
# What a workspace's own token may do: report activity, reach its server, and reach the
# airlock, which binds what it sends to the workspace's project.
SERVER_TOKEN_SCOPES = [
    "users:activity!user",
    "access:servers!server",
    f"access:services!service={AIRLOCK_SERVICE}",
]
ADMIN_SERVICE = "agoria-admin"


@dataclass(frozen=True)
class OidcSettings:
    """An OpenID Connect provider, from ``AGORIA_OIDC_ISSUER`` (endpoints under it, as most
    providers publish them) or each endpoint given on its own."""

    authorize_url: str
    token_url: str
    userdata_url: str
    client_id: str
    client_secret: str
    username_claim: str = "preferred_username"
    scope: tuple[str, ...] = ("openid", "profile", "email")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OidcSettings:
        issuer = env.get("AGORIA_OIDC_ISSUER", "").rstrip("/")

        def endpoint(name: str, default_path: str) -> str:
            value = env.get(f"AGORIA_OIDC_{name}") or (issuer + default_path if issuer else "")
            if not value:
                raise ConfigurationError(
                    f"OpenID Connect login needs AGORIA_OIDC_ISSUER or AGORIA_OIDC_{name}"
                )
            return value

        client_id = env.get("AGORIA_OIDC_CLIENT_ID", "")
        secret = env.get("AGORIA_OIDC_CLIENT_SECRET", "")
        if not client_id or not secret:
            raise ConfigurationError(
                "OpenID Connect login needs AGORIA_OIDC_CLIENT_ID and AGORIA_OIDC_CLIENT_SECRET"
            )
        return cls(
            authorize_url=endpoint("AUTHORIZE_URL", "/auth"),
            token_url=endpoint("TOKEN_URL", "/token"),
            userdata_url=endpoint("USERDATA_URL", "/me"),
            client_id=client_id,
            client_secret=secret,
            username_claim=env.get("AGORIA_OIDC_USERNAME_CLAIM") or "preferred_username",
        )


@dataclass(frozen=True)
class HubSettings:
    public_url: str
    api_port: int
    authenticator: str
    runtime_url: str
    platform_token: str
    admin_token: str
    idle_timeout: int
    reconcile_every: int
    proxy_api_port: int
    project_storage: str
    run_dir: Path
    subnet_pool: str = "10.213.0.0/16"
    airlock_port: int = 8082
    oidc: OidcSettings | None = None
    passthrough: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HubSettings:
        env = os.environ if environ is None else environ
        home = Path(env.get("AGORIA_HOME") or "/var/lib/agoria-tre")
        mode = env.get("AGORIA_HUB_AUTH", "oidc")
        demo = env.get("AGORIA_DEMO") == "1"
        if mode == "demo":
            authenticator = DEMO_AUTHENTICATOR
        elif mode == "oidc":
            authenticator = OIDC_AUTHENTICATOR
        else:
            authenticator = mode
        if authenticator in TEST_AUTHENTICATORS and not demo:
            raise ConfigurationError(
                f"the hub refuses to start with the test authenticator {authenticator}"
                " outside demo mode: use OpenID Connect (AGORIA_HUB_AUTH=oidc), or set"
                " AGORIA_DEMO=1 for a demonstration instance"
            )
        url = env.get("AGORIA_HUB_URL") or "http://127.0.0.1:8000"
        if urlparse(url).scheme not in {"http", "https"} or not urlparse(url).hostname:
            raise ConfigurationError(f"AGORIA_HUB_URL={url!r} is not an http(s) URL")
        keep = (
            "AGORIA_HOME",
            "AGORIA_DB_URL",
            "AGORIA_AUDIT_ANCHOR",
            "AGORIA_AUDIT_WITNESS",
            "AGORIA_TIMEZONE",
            "AGORIA_KEY_FILE",
            "AGORIA_RUNTIME_URL",
        )
        return cls(
            public_url=url,
            api_port=_int(env, "AGORIA_HUB_API_PORT", 8081),
            authenticator=authenticator,
            runtime_url=env.get("AGORIA_RUNTIME_URL") or f"unix://{home}/run/podman.sock",
            platform_token=env.get("AGORIA_PLATFORM_TOKEN", ""),
            admin_token=env.get("AGORIA_ADMIN_TOKEN", ""),
            idle_timeout=_int(env, "AGORIA_IDLE_TIMEOUT", 3600),
            reconcile_every=_int(env, "AGORIA_RECONCILE_EVERY", 60),
            proxy_api_port=_int(env, "AGORIA_PROXY_API_PORT", 8001),
            project_storage=env.get("AGORIA_PROJECT_STORAGE") or "2G",
            run_dir=home / "run",
            subnet_pool=env.get("AGORIA_WORKSPACE_SUBNETS") or "10.213.0.0/16",
            airlock_port=_int(env, "AGORIA_AIRLOCK_PORT", 8082),
            oidc=OidcSettings.from_env(env) if authenticator == OIDC_AUTHENTICATOR else None,
            # A measured run (the test suite's coverage) measures the services too.
            passthrough={
                k: env[k] for k in env if k in keep or k.startswith("COVERAGE_") if env.get(k)
            },
        )

    @property
    def proxy_api_url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_api_port}"

    def services(self) -> list[dict[str, Any]]:
        services: list[dict[str, Any]] = [
            {
                "name": "idle-culler",
                "command": [
                    sys.executable,
                    "-m",
                    "jupyterhub_idle_culler",
                    f"--timeout={self.idle_timeout}",
                    f"--cull-every={max(10, min(300, self.idle_timeout // 4))}",
                ],
                "environment": processes.mark(self.run_dir),
            },
            {
                "name": "agoria-reconcile",
                "command": [
                    sys.executable,
                    "-m",
                    "agoria_tre.hub.reconcile",
                    f"--every={self.reconcile_every}",
                ],
                "environment": {**self.passthrough, **processes.mark(self.run_dir)},
            },
            {
                "name": AIRLOCK_SERVICE,
                "display": True,
                "url": f"http://127.0.0.1:{self.airlock_port}",
                # Bound to all addresses, as the hub's API is: workspaces reach it on their
                # gateway (the firewall opens this port to them, and nothing else but the API).
                "command": [
                    sys.executable,
                    "-m",
                    "agoria_tre.airlock",
                    "--AirlockService.bind_ip=0.0.0.0",
                ],
                # Not the platform key, not the runtime: the airlock needs neither.
                "environment": {
                    **{k: v for k, v in self.passthrough.items() if k not in AIRLOCK_WITHOUT},
                    **processes.mark(self.run_dir),
                },
                "oauth_no_confirm": True,
            },
        ]
        if self.platform_token:
            services.append({"name": PLATFORM_SERVICE, "api_token": self.platform_token})
        if self.admin_token:
            services.append({"name": ADMIN_SERVICE, "api_token": self.admin_token})
        return services

    def roles(self) -> list[dict[str, Any]]:
        servers = ["list:users", "read:users:activity", "admin:servers"]
        roles: list[dict[str, Any]] = [
            {
                "name": "idle-culler",
                "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
                "services": ["idle-culler"],
            },
            {"name": "agoria-workspaces", "scopes": servers, "services": ["agoria-reconcile"]},
            # Every user may reach the airlock; what they may do there is the catalog's say.
            {"name": "user", "scopes": ["self", f"access:services!service={AIRLOCK_SERVICE}"]},
        ]
        if self.platform_token:
            roles[1]["services"].append(PLATFORM_SERVICE)
        if self.admin_token:
            roles.append({"name": "admin", "services": [ADMIN_SERVICE]})
        return roles


def proxy_command(
    environ: Mapping[str, str] | None = None, prefix: Path = Path(sys.prefix)
) -> list[str]:
    """configurable-http-proxy: as ``agoria-tre hub`` found it (``AGORIA_PROXY_COMMAND``),
    else as the bootstrap installs it inside the environment, else from PATH."""
    import json
    import shutil

    env = os.environ if environ is None else environ
    if env.get("AGORIA_PROXY_COMMAND"):
        command: list[str] = json.loads(env["AGORIA_PROXY_COMMAND"])
        return command
    local = prefix / "lib" / "agoria-node" / "node_modules" / ".bin"
    found = local / "configurable-http-proxy"
    if found.exists():
        return [str(found)]
    on_path = shutil.which("configurable-http-proxy", path=env.get("PATH"))
    if on_path is None:
        raise ConfigurationError(
            "configurable-http-proxy is not installed; run scripts/bootstrap.sh"
        )
    return [on_path]


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None
    if value <= 0:
        raise ConfigurationError(f"{name} must be positive, got {value}")
    return value


def projects_of(user: Any) -> list[dict[str, Any]]:
    """The home page's list: the active projects where ``user`` may open a workspace, with
    the user's roles and that server's state. Read from the catalog at each page view."""
    if user is None:
        return []
    from sqlalchemy import select

    from agoria_tre.catalog.models import Membership, Project, ProjectStatus
    from agoria_tre.hub.spawner import platform_catalog
    from agoria_tre.permissions import Actor, can_spawn

    with platform_catalog().read() as session:
        projects = session.scalars(
            select(Project)
            .join(Membership, Membership.project_id == Project.id)
            .where(Membership.username == user.name, Project.status == ProjectStatus.ACTIVE)
            .distinct()
            .order_by(Project.slug)
        ).all()
        listed = []
        for project in projects:
            if not can_spawn(session, Actor(user.name), project):
                continue
            spawner = user.spawners.get(project.slug)  # .get never creates one
            listed.append(
                {
                    "slug": project.slug,
                    "title": project.title,
                    "active": bool(spawner and spawner.active),
                    "ready": bool(spawner and spawner.ready),
                }
            )
    return listed
