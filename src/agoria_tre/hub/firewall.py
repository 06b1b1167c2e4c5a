"""The host firewall that confines workspaces: one nftables table pair owned by the platform.

Workspace networks are internal (no route out), but a container still reaches every host
service bound to all addresses through its gateway, and every container on its own bridge.
These rules close both, for the whole pool of workspace subnets at once (so a project
created later is covered without a reload):

- ``inet agoria_tre`` / ``ws_in`` (input hook): from the pool, only replies to connections
  the host opened (the proxy reaching a workspace) and new connections to the allowed
  ports (the hub's API) are accepted; other TCP is reset, the rest rejected;
- ``inet agoria_tre`` / ``ws_forward`` (forward hook): nothing from the pool is routed
  anywhere;
- ``bridge agoria_tre`` / ``ws_bridge`` (bridge forward hook): nothing from the pool is
  bridged to another port of its bridge, so two workspaces of one project cannot talk.

:func:`ruleset` is pure; :func:`apply` loads it atomically (replacing an earlier copy, so a
start after a crash needs no cleanup) and :func:`remove` deletes both tables.
"""

from __future__ import annotations

import ipaddress
import logging
import subprocess
from collections.abc import Iterable

from agoria_tre.errors import ConfigurationError

log = logging.getLogger(__name__)

TABLE = "agoria_tre"
FAMILIES = ("inet", "bridge")


def ruleset(pool: ipaddress.IPv4Network, allowed_ports: Iterable[int]) -> str:
    """The nftables script that replaces the platform's tables with these rules."""
    ports = sorted(set(allowed_ports))
    if not ports:
        raise ValueError("at least the hub's API port must be allowed")
    port_set = ", ".join(str(p) for p in ports)
    return "\n".join(
        [
            # Declaring then deleting makes the script valid whether or not the tables exist.
            *(f"table {family} {TABLE} {{}}" for family in FAMILIES),
            *(f"delete table {family} {TABLE}" for family in FAMILIES),
            f"table inet {TABLE} {{",
            "  chain ws_in {",
            "    type filter hook input priority filter - 1; policy accept;",
            f"    ip saddr {pool} ct state established,related accept",
            f"    ip saddr {pool} tcp dport {{ {port_set} }} ct state new accept",
            f"    ip saddr {pool} meta l4proto tcp reject with tcp reset",
            f"    ip saddr {pool} reject with icmp type admin-prohibited",
            "  }",
            "  chain ws_forward {",
            "    type filter hook forward priority filter - 1; policy accept;",
            f"    ip saddr {pool} drop",
            f"    ip daddr {pool} ct state new drop",
            "  }",
            "}",
            f"table bridge {TABLE} {{",
            "  chain ws_bridge {",
            "    type filter hook forward priority -1; policy accept;",
            f"    ip saddr {pool} drop",
            f"    ip daddr {pool} drop",
            "  }",
            "}",
            "",
        ]
    )


def _nft(args: list[str], script: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["nft", *args], input=script, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise ConfigurationError(
            "the host firewall cannot be set: nftables (nft) is not installed",
            f"nft not found: {exc}",
        ) from exc


def apply(pool: ipaddress.IPv4Network, allowed_ports: Iterable[int]) -> None:
    """Load the rules, replacing any earlier copy in one nftables transaction."""
    script = ruleset(pool, allowed_ports)
    done = _nft(["-f", "-"], script)
    if done.returncode != 0:
        raise ConfigurationError(
            "the host firewall for workspaces could not be set; workspaces cannot start",
            f"nft -f failed ({done.returncode}): {done.stderr.strip()}",
        )
    log.info("workspace firewall set for %s (open ports: %s)", pool, sorted(set(allowed_ports)))


def remove() -> None:
    """Delete the platform's tables; absent tables are not an error."""
    for family in FAMILIES:
        try:
            done = _nft(["delete", "table", family, TABLE])
        except ConfigurationError as exc:  # no nft, so no tables of ours either
            log.warning("%s", exc.log_message)
            return
        if done.returncode != 0 and "No such file" not in done.stderr:  # pragma: no cover
            log.warning("nft delete table %s %s: %s", family, TABLE, done.stderr.strip())
    log.info("workspace firewall removed")


def active() -> bool:
    """Whether the platform's input rules are loaded."""
    return _nft(["list", "table", "inet", TABLE]).returncode == 0
