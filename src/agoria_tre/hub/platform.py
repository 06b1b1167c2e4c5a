"""``agoria-tre hub``: the platform's processes, started together and stopped together.

Start, in order: take the platform lock (one instance per data directory), clear what a
crashed run left (its hub and runtime processes, workspace containers and networks, the
firewall tables, storage mounts), start the catalog's audit witness as its own system user
(unless one already runs, or ``AGORIA_AUDIT_WITNESS`` names another; one that fails to start
is logged, not fatal), start the container
runtime, load the firewall, write the platform's hub token (owner-only), start JupyterHub
(which starts the proxy and its managed services), and wait until the hub answers. Stop
(Ctrl-C, SIGTERM, or any failure while starting) undoes all of it in reverse: the hub stops
the workspaces and the proxy, then the platform removes what is left, the networks, the
firewall, the mounts, the runtime, the witness, the token.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from agoria_tre import audit, audit_witness, layout
from agoria_tre.config import Settings
from agoria_tre.errors import ConfigurationError
from agoria_tre.hub import config as hub_config
from agoria_tre.hub import control, firewall, networks, processes, storage
from agoria_tre.hub.runtime import PodmanService
from agoria_tre.hub.spec import LABEL_PREFIX

log = logging.getLogger(__name__)

DEFAULT_POOL = "10.213.0.0/16"
HUB_PROGRAM = b"\0jupyterhub\0"  # in the hub's command line: python -m jupyterhub -f ...


@dataclass(frozen=True)
class PlatformOptions:
    public_url: str = "http://127.0.0.1:8000"
    api_port: int = 8081
    auth: str = "oidc"  # or "demo"
    demo: bool = False
    subnet_pool: str = DEFAULT_POOL
    idle_timeout: int = 3600
    reconcile_every: int = 60
    proxy_api_port: int = 8001
    airlock_port: int = 8082
    project_storage: str = "2G"
    log_file: Path | None = None


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class Platform:
    def __init__(self, settings: Settings, options: PlatformOptions) -> None:
        self.settings = settings
        self.options = options
        self.run_dir = settings.home / layout.run_dir()
        self.pool = networks.parse_pool(options.subnet_pool)
        self.runtime = PodmanService(self.run_dir)
        self.hub: subprocess.Popen[bytes] | None = None
        self.witness: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None
        self.token = ""
        self.hub_stop_timeout = 60.0  # seconds the hub has to stop its workspaces

    # --- start ------------------------------------------------------------------------

    @property
    def hub_api_url(self) -> str:
        return f"http://127.0.0.1:{self.options.api_port}/hub/api"

    def start(self, environ: Mapping[str, str] | None = None, timeout: float = 120.0) -> None:
        base_env = dict(os.environ if environ is None else environ)
        # A configuration the hub would refuse is refused before anything starts.
        hub_config.HubSettings.from_env(self._hub_env(base_env, self.runtime.base_url))
        self.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._take_lock()
        try:
            # What a crashed run left running: its hub first, given the time it needs to stop
            # its workspaces (and anchor what it commits), while the runtime still runs.
            processes.end_marked(self.run_dir, self.hub_stop_timeout, program=HUB_PROGRAM)
            processes.end_marked(self.run_dir)
            self._start_witness(base_env)
            runtime_url = self.runtime.start()
            self._clear_leftovers()
            firewall.apply(self.pool, [self.options.api_port, self.options.airlock_port])
            self.token = secrets.token_hex(32)
            self._write_hub_file()
            env = self._hub_env(base_env, runtime_url)
            out = self.options.log_file.open("ab") if self.options.log_file else None
            try:
                self.hub = subprocess.Popen(
                    [sys.executable, "-m", "jupyterhub", "-f", hub_config.CONFIG_FILE],
                    cwd=self.run_dir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT if out else None,
                    start_new_session=True,
                )
            finally:
                if out is not None:
                    out.close()  # the hub has its own copy
            self._wait_for_hub(timeout)
        except BaseException:
            self.stop()
            raise
        log.info("platform started: %s", self.options.public_url)

    def _start_witness(self, base: Mapping[str, str], timeout: float = 10.0) -> None:
        """The catalog's audit witness, as ``agoria-witness``, for as long as the platform
        runs; nothing when one already answers or the operator named their own."""
        if self.settings.audit_witness is not None:
            return  # the operator's witness (another host, their own service)
        socket_path, log_path = audit_witness.catalog_paths(self.settings.home)
        if audit_witness.listening(socket_path):
            log.info("audit witness already running at %s", socket_path)
            self._hand_head(socket_path)
            return
        if os.geteuid() != 0 or not _user_exists(audit_witness.WITNESS_USER):
            log.warning(
                "no audit witness: it runs as the %s user, made by scripts/bootstrap.sh as root",
                audit_witness.WITNESS_USER,
            )
            return
        env = {**base, "AGORIA_HOME": str(self.settings.home), **processes.mark(self.run_dir)}
        out = self.options.log_file.open("ab") if self.options.log_file else None
        try:
            self.witness = witness = subprocess.Popen(
                [sys.executable, "-m", "agoria_tre.cli.main", "audit", "witness",
                 "--user", audit_witness.WITNESS_USER],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT if out else None,
                start_new_session=True,
            )  # fmt: skip
        finally:
            if out is not None:
                out.close()
        deadline = time.monotonic() + timeout
        while not audit_witness.listening(socket_path):
            if witness.poll() is not None or time.monotonic() > deadline:
                # Like a witness that cannot be reached: the platform runs on, unwitnessed,
                # and says so loudly; audit verify against the witness file tells the rest.
                processes.end_process(witness, timeout=5)
                self.witness = None
                log.error("the audit witness did not start at %s; see its lines above", socket_path)
                return
            time.sleep(0.05)
        log.info("audit witness started: %s, heads in %s", socket_path, log_path)
        self._hand_head(socket_path)

    def _hand_head(self, socket_path: Path) -> None:
        """The witness takes the chain's head as it is now, so that it holds one from its
        first run on (what the command line wrote while no witness ran is covered by it)."""
        from agoria_tre.catalog.db import Catalog

        catalog = Catalog(self.settings)
        try:
            with catalog.read() as session:
                head = audit.current_head(session)
        finally:
            catalog.dispose()
        if head is None:
            return
        try:
            audit_witness.send_head(socket_path, *head)
        except OSError as exc:  # as after a commit: the next head it takes covers this one
            log.warning(
                "the audit witness at %s did not take event %d: %s", socket_path, head[0], exc
            )

    def _hub_env(self, base: Mapping[str, str], runtime_url: str) -> dict[str, str]:
        env = dict(base)
        env.update(
            {
                "AGORIA_HOME": str(self.settings.home),
                "AGORIA_HUB_URL": self.options.public_url,
                "AGORIA_HUB_API_PORT": str(self.options.api_port),
                "AGORIA_HUB_AUTH": self.options.auth,
                "AGORIA_WORKSPACE_SUBNETS": str(self.pool),
                "AGORIA_IDLE_TIMEOUT": str(self.options.idle_timeout),
                "AGORIA_RECONCILE_EVERY": str(self.options.reconcile_every),
                "AGORIA_PROXY_API_PORT": str(self.options.proxy_api_port),
                "AGORIA_AIRLOCK_PORT": str(self.options.airlock_port),
                "AGORIA_PROJECT_STORAGE": self.options.project_storage,
                "AGORIA_RUNTIME_URL": runtime_url,
                "AGORIA_PLATFORM_TOKEN": self.token,
                "AGORIA_PROXY_COMMAND": json.dumps(hub_config.proxy_command()),
                **processes.mark(self.run_dir),
            }
        )
        if self.options.demo:
            env["AGORIA_DEMO"] = "1"
        # The proxy's own auth token: generated here, never in a file.
        env["CONFIGPROXY_AUTH_TOKEN"] = secrets.token_hex(32)
        return env

    def _write_hub_file(self) -> None:
        path = self.run_dir / control.HUB_FILE
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"api_url": self.hub_api_url, "token": self.token}, handle)
        tmp.replace(path)

    def _wait_for_hub(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(  # noqa: S310
            self.hub_api_url + "/", headers={"Authorization": f"token {self.token}"}
        )
        while True:
            if self.hub is not None and self.hub.poll() is not None:
                raise ConfigurationError(
                    "the hub exited while starting; see its log",
                    f"jupyterhub exited with status {self.hub.returncode}",
                )
            try:
                with control.LOCAL.open(request, timeout=2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise ConfigurationError(
                        f"the hub did not answer within {timeout:g} s; see its log"
                    ) from None
                time.sleep(0.2)

    def _take_lock(self) -> None:
        handle = (self.run_dir / "platform.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ConfigurationError(
                f"another platform is already running on {self.settings.home}"
            ) from None
        self._lock = handle

    # --- leftovers and stop -----------------------------------------------------------

    def _clear_leftovers(self) -> None:
        """What a crashed run left: containers, networks, rules, mounts, its token."""
        self._remove_containers_and_networks()
        firewall.remove()
        storage.unmount_all(self.settings.home)
        (self.run_dir / control.HUB_FILE).unlink(missing_ok=True)

    def _remove_containers_and_networks(self) -> None:
        import docker

        client = docker.APIClient(base_url=self.runtime.base_url, timeout=60)
        for container in client.containers(all=True, filters={"label": [LABEL_PREFIX + "project"]}):
            log.info("removing workspace container %s", container["Names"])
            client.remove_container(container["Id"], force=True)
        networks.remove_all(client)

    def stop(self) -> None:
        hub, self.hub = self.hub, None
        if hub is not None:  # on SIGTERM the hub stops the workspaces and the proxy
            processes.end_process(hub, timeout=self.hub_stop_timeout, group=True)
        (self.run_dir / control.HUB_FILE).unlink(missing_ok=True)
        if self.runtime.started:
            try:
                self._remove_containers_and_networks()
            except Exception as exc:  # pragma: no cover - the next start removes them
                log.warning("workspace containers not removed at stop: %s", exc)
        firewall.remove()
        storage.unmount_all(self.settings.home)
        self.runtime.stop()
        witness, self.witness = self.witness, None
        if witness is not None:  # after the hub: what it committed while stopping is witnessed
            processes.end_process(witness, timeout=10)
        processes.end_marked(self.run_dir)  # services and a proxy the hub left, if it crashed
        for pid_file in self.run_dir.glob("*.pid"):  # the hub's and the proxy's
            pid_file.unlink()
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        log.info("platform stopped")

    def wait(self) -> int:
        """Run until Ctrl-C or SIGTERM (then stop everything), or until the hub exits."""
        stopping: list[int] = []

        def request_stop(signum: int, _frame: FrameType | None) -> None:
            stopping.append(signum)

        previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            while not stopping and self.hub is not None and self.hub.poll() is None:
                time.sleep(0.2)
            status = 0 if stopping or self.hub is None else (self.hub.returncode or 1)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            self.stop()
        return status
