"""The embedded container runtime: Podman's Docker-compatible API on a socket the platform owns.

In production the Docker API may come from Docker Engine or from a Podman service run by the
host; on the embedded default the platform runs ``podman system service`` itself, with the
configuration these hosts need (runc, explicit ulimits: see ``docs/workspaces.md``), and
stops it with the platform.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
from pathlib import Path

from agoria_tre.errors import ConfigurationError
from agoria_tre.hub import processes

log = logging.getLogger(__name__)

# crun fails on these hosts (setrlimit, cgroups in hybrid mode); runc works. Passing any
# --ulimit replaces all the defaults, so both limits are given here. The nproc hard limit
# is the host's own maximum. netavark, not CNI: with CNI an internal network gets no
# gateway address on the host, and workspaces could not reach the hub.
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"

[network]
network_backend = "netavark"
"""


def podman_env(conf: Path) -> dict[str, str]:
    """The environment every ``podman`` call of the platform runs with."""
    return {**os.environ, "CONTAINERS_CONF": str(conf)}


def write_conf(run_dir: Path) -> Path:
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    conf = run_dir / "containers.conf"
    if not conf.is_file() or conf.read_text() != CONTAINERS_CONF:
        tmp = conf.with_suffix(".tmp")
        tmp.write_text(CONTAINERS_CONF)
        tmp.replace(conf)
    return conf


def _answers(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(path))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.")
    except OSError:
        return False


class PodmanService:
    """``podman system service`` on ``run_dir/podman.sock``, for as long as the platform runs."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.socket = run_dir / "podman.sock"
        self.conf = run_dir / "containers.conf"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 30.0) -> str:
        write_conf(self.run_dir)
        if _answers(self.socket):
            raise ConfigurationError(
                "a container runtime the platform did not start answers on its socket",
                f"{self.socket} answers, and no process of the platform's runs serves it",
            )
        self.socket.unlink(missing_ok=True)
        with (self.run_dir / "podman.log").open("ab") as log_file:  # the service has a copy
            try:
                self._process = subprocess.Popen(
                    ["podman", "system", "service", "--time=0", self.base_url],
                    env={**podman_env(self.conf), **processes.mark(self.run_dir)},
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log_file,
                    start_new_session=True,
                )
            except FileNotFoundError as exc:
                raise ConfigurationError(
                    "the container runtime is not installed (podman); run scripts/bootstrap.sh",
                    f"podman not found: {exc}",
                ) from exc
        deadline = time.monotonic() + timeout
        while not _answers(self.socket):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ConfigurationError(
                    "the container runtime did not start",
                    f"podman system service did not answer on {self.socket}; see"
                    f" {self.run_dir / 'podman.log'}",
                )
            time.sleep(0.05)
        log.info("container runtime started on %s", self.socket)
        return self.base_url

    @property
    def started(self) -> bool:
        return self._process is not None

    def stop(self) -> None:
        """Stop the service this object started; a socket it did not start is left alone."""
        process, self._process = self._process, None
        if process is None:
            return
        processes.end_process(process, timeout=10)
        self.socket.unlink(missing_ok=True)
