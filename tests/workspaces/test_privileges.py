"""A workspace's processes: unprivileged, without capabilities, unable to raise their
limits or write outside their home, /project and /tmp."""

from __future__ import annotations

import pytest

from agoria_tre.testing.hub import Hub
from tests.workspaces.probes import run_json

pytestmark = pytest.mark.workspaces

CODE = r"""
import errno, json, os, resource, subprocess
status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines()
              if ":\t" in line)
def attempt(action):
    try:
        action()
        return "done"
    except subprocess.CalledProcessError:
        return "failed"
    except (OSError, ValueError) as exc:
        return errno.errorcode.get(getattr(exc, "errno", None) or 0, type(exc).__name__)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
nproc, nproc_hard = resource.getrlimit(resource.RLIMIT_NPROC)
script = "/tmp/run-me.sh"
with open(script, "w") as handle:
    handle.write("#!/bin/sh\necho ran\n")
os.chmod(script, 0o755)
print(json.dumps({
    "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
    "caps": {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")},
    "no_new_privs": status["NoNewPrivs"].strip(),
    "seccomp": status["Seccomp"].strip(),
    "raise_nofile": attempt(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (hard + 1,) * 2)),
    "raise_nproc": attempt(lambda: resource.setrlimit(resource.RLIMIT_NPROC, (nproc_hard + 1,)*2)),
    "write_usr": attempt(lambda: open("/usr/local/bin/x", "w")),
    "write_etc": attempt(lambda: open("/etc/passwd", "a")),
    "write_home": attempt(lambda: open(os.path.expanduser("~/notes.txt"), "w").close()),
    "write_project": attempt(lambda: open("/project/shared.txt", "w").close()),
    "exec_tmp": attempt(lambda: subprocess.run([script], check=True)),
    "setuid": attempt(lambda: os.setuid(0)),
    "mount": attempt(lambda: subprocess.run(["mount", "-t", "tmpfs", "x", "/mnt"], check=True,
                                             capture_output=True)),
    "devices": sorted(os.listdir("/dev")),
}))
"""


def test_the_workspace_runs_unprivileged(hub: Hub, workspace: tuple[str, str]) -> None:
    found = run_json(hub, *workspace, CODE)
    assert isinstance(found, dict)
    assert (found["uid"], found["euid"], found["gid"]) == (1000, 1000, 1000)
    assert 0 not in found["groups"]
    assert set(found["caps"].values()) == {"0000000000000000"}
    assert found["no_new_privs"] == "1"
    assert found["seccomp"] == "2"  # a filter is installed
    assert found["raise_nofile"] in {"EPERM", "ValueError"}
    assert found["raise_nproc"] in {"EPERM", "ValueError"}
    assert found["write_usr"] == "EROFS"
    assert found["write_etc"] in {"EROFS", "EACCES"}
    assert found["write_home"] == "done"
    assert found["write_project"] == "done"
    assert found["exec_tmp"] == "EACCES"  # /tmp is noexec
    assert found["setuid"] == "EPERM"
    assert found["mount"] != "done"
    assert not {"mem", "kmem", "sda", "vda", "fuse", "kvm", "net"} & set(found["devices"])
