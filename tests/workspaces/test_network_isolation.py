"""From a kernel inside a workspace: no names, no host services, no outside, no other
workspace; only the hub's API."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import docker
import pytest

from agoria_tre.testing.hub import Hub
from agoria_tre.testing.platform import TrialPlatform
from tests.workspaces.probes import gateway_of, run_json, tcp_from

pytestmark = pytest.mark.workspaces


def host_addresses() -> list[str]:
    """Every IPv4 address of the host but loopback: the gateway of each workspace network,
    and the host's own interfaces."""
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    return [line.split()[3].split("/")[0] for line in out.splitlines() if " lo " not in line]


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A TCP service on the host, bound to all addresses, on a port that is not the hub's."""
    sock = socket.socket()
    sock.bind(("0.0.0.0", 0))  # noqa: S104
    sock.listen()
    sock.setblocking(False)
    yield sock
    sock.close()


def test_names_do_not_resolve(hub: Hub, workspace: tuple[str, str]) -> None:
    code = """
import json, socket
found = {}
for name in ("pypi.org", "deb.debian.org", "localhost.localdomain", "hub"):
    try:
        found[name] = socket.getaddrinfo(name, 443)[0][4][0]
    except socket.gaierror as exc:
        found[name] = "gaierror"
print(json.dumps(found))
"""
    assert run_json(hub, *workspace, code) == dict.fromkeys(
        ["pypi.org", "deb.debian.org", "localhost.localdomain", "hub"], "gaierror"
    )


def test_host_services_are_refused(
    hub: Hub, workspace: tuple[str, str], listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    addresses = host_addresses()
    gateway = gateway_of(hub, *workspace)
    assert gateway in addresses
    results = tcp_from(hub, *workspace, [(a, port) for a in addresses])
    assert "connected" not in results, dict(zip(addresses, results, strict=True))
    assert results[addresses.index(gateway)] == "ECONNREFUSED"  # the firewall's reset
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing got through


def test_the_outside_is_unreachable(hub: Hub, workspace: tuple[str, str]) -> None:
    # A documentation address (TEST-NET-2): with no route, no packet ever leaves.
    assert tcp_from(hub, *workspace, [("198.51.100.7", 443), ("198.51.100.7", 80)]) == [
        "ENETUNREACH",
        "ENETUNREACH",
    ]


def test_no_ipv6(hub: Hub, workspace: tuple[str, str]) -> None:
    code = """
import json, socket
try:
    socket.socket(socket.AF_INET6).connect(("ff02::1%eth0", 22))
    result = "connected"
except OSError as exc:
    result = exc.errno
print(json.dumps({"addresses": open("/proc/net/if_inet6").read(), "connect": result}))
"""
    found = run_json(hub, *workspace, code)
    assert isinstance(found, dict)
    assert found["addresses"] == ""
    assert found["connect"] != "connected"


def test_the_hub_api_answers(hub: Hub, workspace: tuple[str, str]) -> None:
    code = """
import json, os, urllib.request
request = urllib.request.Request(
    os.environ["JUPYTERHUB_API_URL"] + "/",
    headers={"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]},
)
with urllib.request.urlopen(request, timeout=10) as response:
    print(json.dumps({"status": response.status, "body": json.loads(response.read())}))
"""
    found = run_json(hub, *workspace, code)
    assert isinstance(found, dict)
    assert found["status"] == 200
    assert "version" in found["body"]


def test_the_airlock_answers_the_workspaces_own_token(
    platform: TrialPlatform, hub: Hub, workspace: tuple[str, str]
) -> None:
    code = f"""
import json, os, urllib.request
request = urllib.request.Request(
    os.environ["AGORIA_AIRLOCK_URL"] + "api/requests",
    headers={{"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"]}},
)
with urllib.request.urlopen(request, timeout=10) as response:
    print(json.dumps({{
        "status": response.status,
        "body": json.loads(response.read()),
        "url": os.environ["AGORIA_AIRLOCK_URL"],
        "store": os.path.exists({str(platform.home / "airlock")!r}),
    }}))
"""
    found = run_json(hub, *workspace, code)
    assert isinstance(found, dict)
    assert found["status"] == 200
    assert found["body"] == {"requests": []}
    assert found["url"].endswith(f":{platform.airlock_port}/services/airlock/")
    assert found["store"] is False  # the airlock's storage is not in the workspace


def container_address(platform: TrialPlatform, name: str) -> str:
    client = docker.APIClient(base_url=f"unix://{platform.home / 'run' / 'podman.sock'}")
    networks = client.inspect_container(name)["NetworkSettings"]["Networks"]
    (address,) = [n["IPAddress"] for n in networks.values()]
    return str(address)


def test_workspaces_cannot_reach_each_other(
    hub: Hub, platform: TrialPlatform, workspace: tuple[str, str]
) -> None:
    hub.start("bob", "cardio")  # same project, another user
    hub.start("carol", "onco")  # another project
    try:
        bob = container_address(platform, "agoria-ws-cardio-bob")
        carol = container_address(platform, "agoria-ws-onco-carol")
        # Both answer from the host (the proxy reaches them): they are up and listening.
        for address in (bob, carol):
            with socket.create_connection((address, 8888), timeout=5):
                pass
        results = tcp_from(hub, *workspace, [(bob, 8888), (carol, 8888)])
        assert "connected" not in results
        # And the other way round.
        alice = container_address(platform, "agoria-ws-cardio-alice")
        assert tcp_from(hub, "bob", "cardio", [(alice, 8888)]) != ["connected"]
        assert tcp_from(hub, "carol", "onco", [(alice, 8888), (bob, 8888)]).count("connected") == 0
    finally:
        hub.stop("bob", "cardio")
        hub.stop("carol", "onco")
