"""Workspace spawn latency and memory, against a bare ``podman run`` of the same image.

Sets up a whole platform (fresh catalog, synthetic cohort, the recorded workspace image,
``agoria-tre hub --demo``), then measures, each in the same run:

- floor 1: ``podman run --rm IMAGE true`` (the runtime's own cost for a container);
- floor 2: ``podman run`` of the image's Jupyter server, published on 127.0.0.1, until its
  API answers (what any JupyterHub spawn of this image costs at least);
- 10 sequential spawns (request to ready, as the hub reports it) and their stops;
- 5 spawns at once (five researchers of one project);
- memory of each idle workspace (its cgroup's ``memory.current``).

Prints median and p95, and ratios to the floors. Targets (issue 8): median <= 3 s,
p95 <= 5 s on a 2-core machine. Run: ``.venv/bin/python bench/workspace_bench.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

from agoria_tre.testing.platform import TrialPlatform, prepare

SEQUENTIAL = 10
PARALLEL = 5


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def podman(trial: TrialPlatform, *args: str) -> str:
    env = {**os.environ, "CONTAINERS_CONF": str(trial.home / "run" / "containers.conf")}
    done = subprocess.run(["podman", *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def image_of(trial: TrialPlatform) -> str:
    listed = json.loads(trial.cli("image", "list", "--json").stdout)
    return str(listed[-1]["reference"])


def floor_true(trial: TrialPlatform, image: str, runs: int = 5) -> list[float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        podman(trial, "run", "--rm", "--network=none", image, "true")
        times.append(time.perf_counter() - began)
    return times


def floor_server(trial: TrialPlatform, image: str, runs: int = 5) -> list[float]:
    """The image's Jupyter server on Podman's default network, reached on its address."""
    times = []
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _ in range(runs):
        began = time.perf_counter()
        name = podman(
            trial, "run", "-d", "--rm", image,
            "jupyter", "server", "--ServerApp.ip=0.0.0.0", "--IdentityProvider.token=bench",
        ).strip()  # fmt: skip
        address = podman(
            trial, "inspect", "--format", "{{.NetworkSettings.IPAddress}}", name
        ).strip()
        while True:
            try:
                with opener.open(f"http://{address}:8888/api", timeout=1):
                    break
            except OSError:
                time.sleep(0.02)
        times.append(time.perf_counter() - began)
        podman(trial, "rm", "-f", name)
    return times


def memory_of(trial: TrialPlatform, container: str) -> int:
    stats = podman(trial, "stats", "--no-stream", "--format", "json", container)
    usage = json.loads(stats)[0]["mem_usage"].split("/")[0].strip()
    units = {"kB": 1e3, "MB": 1e6, "GB": 1e9, "B": 1}
    for unit, factor in units.items():
        if usage.endswith(unit):
            return int(float(usage[: -len(unit)]) * factor)
    return int(usage)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="agoria-bench-"))
    print(f"setting up a platform in {root} (cohort, image)...", file=sys.stderr)
    trial = prepare(root, datasets=["patients", "treatments"])
    until = (date.today() + timedelta(days=30)).isoformat()
    trial.cli("project", "create", "bench", "--title", "Bench", "--legal-basis", "MR-004")
    users = [f"r{i}" for i in range(PARALLEL)]
    for user in users:
        trial.cli("member", "add", "bench", user, "--role", "researcher")
    for dataset in ("patients", "treatments"):
        trial.cli("grant", "add", "bench", f"{dataset}@1", "--reference", "B", "--until", until)
    image = image_of(trial)
    trial.start()
    hub = trial.hub
    try:
        for user in users:
            hub.ensure_user(user)
        hub.start(users[0], "bench")  # first spawn: network and storage image made
        hub.stop(users[0], "bench")

        started, stopped = [], []
        for _ in range(SEQUENTIAL):
            started.append(hub.start(users[0], "bench"))
            stopped.append(hub.stop(users[0], "bench"))

        parallel: list[float] = []
        threads = [
            threading.Thread(target=lambda u=u: parallel.append(hub.start(u, "bench")))
            for u in users
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        time.sleep(5)  # idle
        memory = [memory_of(trial, f"agoria-ws-bench-{u}") for u in users]
        for user in users:
            hub.stop(user, "bench")

        bare = floor_true(trial, image)
        server = floor_server(trial, image)
    finally:
        trial.stop()

    med, p_95 = statistics.median(started), p95(started)
    floor = statistics.median(server)
    print(f"image {image}")
    print(f"floor: podman run --rm true        median {statistics.median(bare):.2f} s")
    print(f"floor: podman run, Jupyter answers  median {floor:.2f} s")
    print(
        f"spawn to ready, {SEQUENTIAL} sequential  median {med:.2f} s  p95 {p_95:.2f} s"
        f"  ({med / floor:.2f}x the floor; target median <= 3 s, p95 <= 5 s)"
    )
    print(f"stop, sequential                 median {statistics.median(stopped):.2f} s")
    print(
        f"spawn to ready, {PARALLEL} at once         median {statistics.median(parallel):.2f} s"
        f"  max {max(parallel):.2f} s  (all ready after {wall:.2f} s)"
    )
    print(
        f"memory per idle workspace        median {statistics.median(memory) / 1e6:.0f} MB"
        f"  max {max(memory) / 1e6:.0f} MB"
    )


if __name__ == "__main__":
    main()
