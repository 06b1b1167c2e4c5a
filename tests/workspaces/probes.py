"""Code run inside workspaces by the tests: each prints one JSON document."""

from __future__ import annotations

import json

from agoria_tre.testing.hub import Hub

TCP = r"""
import errno, json, os, socket
def tcp(host, port):
    sock = socket.socket()
    sock.settimeout(3)
    try:
        sock.connect((host, port))
        return "connected"
    except socket.timeout:
        return "timeout"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    finally:
        sock.close()
gateway = os.environ["JUPYTERHUB_API_URL"].split("//")[1].split(":")[0]
"""


def run_json(hub: Hub, user: str, project: str, code: str) -> object:
    printed = hub.run(user, project, code)
    return json.loads(printed.strip().splitlines()[-1])


def tcp_from(hub: Hub, user: str, project: str, targets: list[tuple[str, int]]) -> list[str]:
    code = TCP + f"print(json.dumps([tcp(h, p) for h, p in {targets!r}]))"
    result = run_json(hub, user, project, code)
    assert isinstance(result, list)
    return [str(r) for r in result]


def gateway_of(hub: Hub, user: str, project: str) -> str:
    return str(run_json(hub, user, project, TCP + "print(json.dumps(gateway))"))
