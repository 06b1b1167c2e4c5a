"""Project networks: the pool, the names, the properties a network must have."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from agoria_tre.errors import ConfigurationError
from agoria_tre.hub import firewall, networks
from agoria_tre.hub.spec import ProjectNetwork

NETWORK = ProjectNetwork("agoria-ws-cardio", ipaddress.IPv4Network("10.213.7.0/24"))


@pytest.mark.parametrize("pool", ["10.213.0.0/16", "172.30.0.0/20", "192.168.64.0/22"])
def test_private_pools_of_at_least_four_subnets(pool: str) -> None:
    assert networks.parse_pool(pool) == ipaddress.IPv4Network(pool)


@pytest.mark.parametrize(
    ("pool", "message"),
    [
        ("10.213.0.0/24", "/22 or wider"),
        ("8.8.0.0/16", "private"),
        ("10.213.0.1/16", "not an IPv4 network"),
        ("fd00::/64", "not an IPv4 network"),
    ],
)
def test_other_pools_are_refused(pool: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        networks.parse_pool(pool)


def test_names() -> None:
    assert networks.network_name("cardio") == "agoria-ws-cardio"
    assert networks.bridge_name(ipaddress.IPv4Network("10.213.7.0/24")) == "agwsd507"
    assert len(networks.bridge_name(ipaddress.IPv4Network("10.255.255.0/24"))) <= 15


def inspected(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "Name": "agoria-ws-cardio",
        "Internal": True,
        "EnableIPv6": False,
        "IPAM": {"Config": [{"Subnet": "10.213.7.0/24", "Gateway": "10.213.7.1"}]},
        "Options": {},
    }
    found.update(changes)
    return found


def test_a_network_as_recorded_is_accepted() -> None:
    networks._verify(inspected(), NETWORK)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"Internal": False}, "it is not internal"),
        ({"EnableIPv6": True}, "it has IPv6"),
        ({"Options": {"dns_enabled": "true"}}, "it resolves names"),
        ({"IPAM": {"Config": [{"Subnet": "10.88.0.0/16", "Gateway": "10.88.0.1"}]}}, "subnets"),
    ],
)
def test_a_network_that_differs_is_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        networks._verify(inspected(**changes), NETWORK)
    assert refused.value.user_message == (
        "the project's network is misconfigured; workspaces cannot start"
    )
    assert problem in refused.value.log_message


def test_the_firewall_rules_cover_the_whole_pool() -> None:
    rules = firewall.ruleset(ipaddress.IPv4Network("10.213.0.0/16"), [8081, 8081, 9000])
    assert "ip saddr 10.213.0.0/16 tcp dport { 8081, 9000 } ct state new accept" in rules
    assert "ip saddr 10.213.0.0/16 ct state established,related accept" in rules
    assert rules.index("tcp dport") < rules.index("reject with tcp reset")
    assert "table bridge agoria_tre {" in rules
    assert rules.startswith("table inet agoria_tre {}\ntable bridge agoria_tre {}\n")
    with pytest.raises(ValueError, match="hub's API port"):
        firewall.ruleset(ipaddress.IPv4Network("10.213.0.0/16"), [])
