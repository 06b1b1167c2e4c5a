"""A :class:`~agoria_tre.hub.spec.ContainerSpec` in the Docker API's terms (Docker Engine and
Podman's compatible service alike). Pure translation: nothing is decided here that the spec
did not say, and nothing the spec says is dropped (a test compares whole values)."""

from __future__ import annotations

from typing import Any

from agoria_tre.hub.spec import ContainerSpec

# Workspaces have no IPv6: an internal IPv4 network confines them, and a link-local IPv6
# address would be a second way to reach the host. /proc/sys is read-only in the container
# and no capability is left to change this.
SYSCTLS = {
    "net.ipv6.conf.all.disable_ipv6": "1",
    "net.ipv6.conf.default.disable_ipv6": "1",
}


def create_kwargs(
    spec: ContainerSpec, *, environment: dict[str, str], command: list[str]
) -> dict[str, Any]:
    """Keyword arguments for docker-py's ``APIClient.create_container`` (without the host
    configuration). ``environment`` is the hub's part (its URLs and the server's token); the
    spec's entries win over it."""
    return {
        "image": spec.image,
        "name": spec.name,
        "command": command,
        "user": spec.user,
        "environment": {**environment, **spec.environment},
        "labels": dict(spec.labels),
        "working_dir": spec.environment["HOME"],
        "hostname": "workspace",
    }


def host_config(spec: ContainerSpec) -> dict[str, Any]:
    """Keyword arguments for docker-py's ``APIClient.create_host_config``."""
    return {
        "mounts": [
            {
                "Type": "bind",
                "Source": str(m.source),
                "Target": m.target,
                "ReadOnly": m.read_only,
                "BindOptions": {"Propagation": "rprivate"},
            }
            for m in spec.mounts
        ],
        "tmpfs": dict(spec.tmpfs),
        "network_mode": spec.network.name,
        "cap_drop": list(spec.cap_drop),
        "security_opt": list(spec.security_opt),
        "read_only": spec.read_only_root,
        "privileged": False,
        "devices": [],
        "ipc_mode": "private",
        "sysctls": dict(SYSCTLS),
        "mem_limit": spec.limits.memory_bytes,
        "memswap_limit": spec.limits.memory_bytes,
        "nano_cpus": round(spec.limits.cpus * 1e9),
        "pids_limit": spec.limits.pids,
    }
