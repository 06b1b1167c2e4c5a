"""Project networks: a subnet per project, allocated in the catalog, created in the runtime.

A subnet is taken from the operator's pool the first time a project's workspace starts, in
a write transaction that records it (``network.allocate`` in the audit log), and stays the
project's for good. The runtime network is made from that record through the Docker API
(which Podman serves too): internal (no route out), DNS disabled, the subnet and gateway
given explicitly, and a bridge name the platform chooses. A network found with other
properties than these is refused, never used.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from agoria_tre import audit
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import WorkspaceNetwork
from agoria_tre.catalog.projects import get_project
from agoria_tre.errors import ConfigurationError, Conflict
from agoria_tre.hub.spec import LABEL_PREFIX, ProjectNetwork

log = logging.getLogger(__name__)

SUBNET_PREFIX = 24
NETWORK_LABEL = LABEL_PREFIX + "network"


class NetworkAPI(Protocol):
    """The part of docker-py's low-level ``APIClient`` used here."""

    def networks(self, names: list[str] | None = None, filters: Any = None) -> list[Any]: ...
    def inspect_network(self, net_id: str) -> dict[str, Any]: ...
    def create_network(self, name: str, **kwargs: Any) -> dict[str, Any]: ...
    def remove_network(self, net_id: str) -> None: ...


def network_name(slug: str) -> str:
    return f"agoria-ws-{slug}"


def bridge_name(subnet: ipaddress.IPv4Network) -> str:
    """A host interface name (at most 15 characters) unique within the 10.0.0.0/8 range."""
    return f"agws{int(subnet.network_address) >> 8 & 0xFFFF:04x}"


def parse_pool(text: str) -> ipaddress.IPv4Network:
    try:
        pool = ipaddress.IPv4Network(text)
    except ValueError as exc:
        raise ConfigurationError(
            f"the workspace subnet pool {text!r} is not an IPv4 network"
        ) from exc
    if not pool.is_private or pool.prefixlen > 22:
        raise ConfigurationError(
            f"the workspace subnet pool {text!r} must be a private IPv4 range of /22 or wider"
            " (for example 10.213.0.0/16)"
        )
    return pool


def allocate(
    catalog: Catalog, slug: str, pool: ipaddress.IPv4Network, *, actor: str
) -> ProjectNetwork:
    """The project's network, allocating its subnet from ``pool`` the first time."""

    def find(session: Session) -> str | None:
        project = get_project(session, slug)
        return session.scalar(
            select(WorkspaceNetwork.subnet).where(WorkspaceNetwork.project_id == project.id)
        )

    def make(session: Session) -> str:
        taken = set(session.scalars(select(WorkspaceNetwork.subnet)))
        # The pool's first subnet is left out: it holds the pool's own network address.
        free = (s for s in list(pool.subnets(new_prefix=SUBNET_PREFIX))[1:] if str(s) not in taken)
        subnet = next(free, None)
        if subnet is None:
            raise Conflict(
                f"no workspace subnet is left in {pool} for project {slug!r}",
                f"workspace subnet pool {pool} exhausted ({len(taken)} allocated)",
            )
        session.add(WorkspaceNetwork(project=get_project(session, slug), subnet=str(subnet)))
        audit.record(
            session,
            actor=actor,
            action="network.allocate",
            target=f"network:{network_name(slug)}",
            project=slug,
            details={"subnet": str(subnet)},
        )
        return str(subnet)

    return ProjectNetwork(
        network_name(slug), ipaddress.IPv4Network(catalog.find_or_make(find, make))
    )


def ensure(client: NetworkAPI, network: ProjectNetwork) -> None:
    """Create the runtime network if missing; refuse one that differs from the record."""
    existing = client.networks(names=[network.name])
    matches = [n for n in existing if n.get("Name") == network.name]
    if matches:
        _verify(client.inspect_network(matches[0]["Id"]), network)
        return
    client.create_network(
        network.name,
        driver="bridge",
        internal=True,
        check_duplicate=True,
        labels={NETWORK_LABEL: "workspace"},
        options={"com.docker.network.bridge.name": bridge_name(network.subnet)},
        ipam={
            "Driver": "default",
            "Config": [{"Subnet": str(network.subnet), "Gateway": str(network.gateway)}],
        },
    )
    _verify(client.inspect_network(network.name), network)
    log.info("network %s created (%s)", network.name, network.subnet)


def _verify(found: dict[str, Any], network: ProjectNetwork) -> None:
    configs = (found.get("IPAM") or {}).get("Config") or []
    subnets = {c.get("Subnet") for c in configs}
    gateways = {c.get("Gateway") for c in configs}
    problems = []
    if not found.get("Internal"):
        problems.append("it is not internal")
    if subnets != {str(network.subnet)} or gateways != {str(network.gateway)}:
        problems.append(f"its subnets are {sorted(map(str, subnets))}")
    if found.get("EnableIPv6"):
        problems.append("it has IPv6")
    dns = (found.get("Options") or {}).get("dns_enabled") or found.get("dns_enabled")
    if str(dns).lower() == "true":
        problems.append("it resolves names")
    if problems:
        raise ConfigurationError(
            "the project's network is misconfigured; workspaces cannot start",
            f"network {network.name} differs from its record ({'; '.join(problems)});"
            " remove it (podman network rm) and start again",
        )


def remove_all(client: NetworkAPI) -> list[str]:
    """Remove every workspace network of the platform (at shutdown, after the containers)."""
    removed = []
    for found in client.networks(filters={"label": [NETWORK_LABEL]}):
        try:
            client.remove_network(found["Id"])
            removed.append(found["Name"])
        # A network still in use stays; the next start retries.
        except Exception as exc:  # pragma: no cover
            log.warning("network %s not removed: %s", found.get("Name"), exc)
    return removed
