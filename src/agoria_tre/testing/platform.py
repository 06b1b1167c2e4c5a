"""A whole platform on this machine, for tests and benchmarks: a fresh data directory and
key, the synthetic cohort ingested, the workspace image built (or found, by its content
hash), and ``agoria-tre hub`` running in demo mode on free ports. Everything goes through
the real command line."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agoria_tre.testing.hub import Hub, HubError

AGORIA = str(Path(sys.executable).with_name("agoria-tre"))
CACHE = os.environ.get("AGORIA_CACHE", "/var/cache/agoria-tre")


def operator_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment an operator's command runs with in tests: a minimal one, plus the
    test run's coverage settings (``COVERAGE_*``), so that the command is measured too."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "USER": "operator"}
    env.update({k: v for k, v in os.environ.items() if k.startswith("COVERAGE_")})
    env.update(extra or {})
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class TrialPlatform:
    root: Path
    env: dict[str, str]
    public_url: str = ""
    api_port: int = 0
    airlock_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    hub_args: list[str] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return Path(self.env["AGORIA_HOME"])

    @property
    def log(self) -> Path:
        return self.root / "hub.log"

    @property
    def hub(self) -> Hub:
        return Hub(self.public_url, self.env["AGORIA_ADMIN_TOKEN"])

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [AGORIA, *args], env=self.env, capture_output=True, text=True, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"agoria-tre {' '.join(args)}: {done.returncode}\n{done.stderr}")
        return done

    def start(
        self,
        *extra: str,
        demo: bool = True,
        public_port: int | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 180.0,
    ) -> None:
        """``agoria-tre hub`` (``--demo`` unless told otherwise) on free ports; returns once
        the hub answers."""
        self.api_port = free_port()
        self.airlock_port = free_port()
        self.public_url = f"http://127.0.0.1:{public_port or free_port()}"
        self.hub_args = [
            "hub",
            *(["--demo"] if demo else []),
            "--url",
            self.public_url,
            "--api-port",
            str(self.api_port),
            "--proxy-api-port",
            str(free_port()),
            "--airlock-port",
            str(self.airlock_port),
            "--log-file",
            str(self.log),
            *extra,
        ]
        with (self.root / "platform.out").open("ab") as out:
            self.process = subprocess.Popen(
                [AGORIA, *self.hub_args],
                env={**self.env, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                self.process = None
                raise AssertionError(f"agoria-tre hub exited:\n{self.tail()}")
            try:
                self.hub.request("GET", "/hub/api/")
                return
            except (OSError, HubError):  # not listening yet, or no route to the hub yet
                if time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"the hub did not answer:\n{self.tail()}") from None
                time.sleep(0.2)

    def stop(self, how: signal.Signals = signal.SIGTERM, timeout: float = 120.0) -> int:
        process, self.process = self.process, None
        if process is None:
            return 0
        os.kill(process.pid, how)
        return process.wait(timeout=timeout)

    def tail(self, lines: int = 60) -> str:
        text = ""
        for path in (self.root / "platform.out", self.log):
            if path.exists():
                text += f"--- {path.name}\n" + "\n".join(path.read_text().splitlines()[-lines:])
        return text


def prepare(root: Path, *, patients: int = 300, datasets: Sequence[str] = ()) -> TrialPlatform:
    """A catalog with the synthetic cohort ingested and the workspace image recorded."""
    root.mkdir(parents=True, exist_ok=True)
    keys = root / "keys"
    keys.mkdir(mode=0o700)
    env = operator_env()
    env |= {
        "HOME": os.environ.get("HOME", "/root"),
        "AGORIA_HOME": str(root / "home"),
        "AGORIA_KEY_FILE": str(keys / "platform.key"),
        "AGORIA_TIMEZONE": "Europe/Paris",
        "AGORIA_ADMIN_TOKEN": secrets.token_hex(32),
        "AGORIA_CACHE": CACHE,
    }
    for name in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_INDEX_URL"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    trial = TrialPlatform(root=root, env=env)
    trial.cli("init")
    trial.cli("key", "create", env["AGORIA_KEY_FILE"])
    extracts = root / "extracts"
    trial.cli("demo-data", "--patients", str(patients), "--seed", "11", "--out", str(extracts))
    from agoria_tre.ingest.demo import PROFILES

    for name in datasets or PROFILES:
        trial.cli(
            "dataset", "ingest", str(extracts / f"{name}.csv"), "--name", name,
            "--profile", str(extracts / f"{name}.toml"),
        )  # fmt: skip
    trial.cli("image", "build")
    return trial
