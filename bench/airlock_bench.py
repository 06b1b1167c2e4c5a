"""The airlock's submit+check latency and its throughput under load, against the bare
check of the same notebook.

Sets up a whole platform (fresh catalog, synthetic cohort, ``agoria-tre hub --demo`` with
the airlock), then measures, each in the same run:

- floor: the server-side check alone (``airlock.checking.run_check``: a child process
  running ``agoria-tre check`` with its limits) of a 20-output notebook, 10 times;
- submit+check through the proxy: create a request, upload the notebook, submit (the
  answer comes once the check has run), 20 times in turn;
- load: 50 researchers submitting the notebook and 10 reviewers deciding at once (a
  bounded loop on loopback): requests per second over the whole run, p95 of each call.

Prints median and p95 and the ratio of submit+check to the floor. Target (issue 11):
p95 of submit+check < 1 s. Run: ``.venv/bin/python bench/airlock_bench.py``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from agoria_tre.airlock.checking import run_check
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import Role
from agoria_tre.config import Settings
from agoria_tre.testing.airlock import AirlockClient
from agoria_tre.testing.load import Tally, enrol, notebook, percentile, run_load, submit_one
from agoria_tre.testing.platform import prepare

SEQUENTIAL = 20
RESEARCHERS, REVIEWERS = 50, 10
NOTEBOOK = notebook(20)


def floor(folder: Path, runs: int = 10) -> list[float]:
    path = folder / "analysis.ipynb"
    path.write_bytes(NOTEBOOK)
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        run = run_check([path])
        times.append(time.perf_counter() - began)
        assert run.report is not None, run.failure
    return times


def line(label: str, values: list[float]) -> str:
    return (
        f"{label:<28} median {statistics.median(values) * 1000:7.0f} ms"
        f"   p95 {percentile(values, 0.95) * 1000:7.0f} ms   (n={len(values)})"
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="airlock-bench-") as tmp:
        root = Path(tmp)
        platform = prepare(root / "platform", datasets=["patients"])
        platform.cli("project", "create", "bench", "--title", "Bench", "--legal-basis", "MR-004")
        researchers = [f"researcher{k}" for k in range(RESEARCHERS)]
        reviewers = [f"reviewer{k}" for k in range(REVIEWERS)]
        catalog = Catalog(Settings.from_env(platform.env))
        enrol(catalog, "bench", researchers, Role.RESEARCHER)
        enrol(catalog, "bench", reviewers, Role.REVIEWER)
        catalog.dispose()
        platform.start()
        try:
            client = AirlockClient(platform.public_url, platform.hub.token_for("researcher0"))
            client.wait_until_up()
            bare = floor(root)
            tally = Tally()
            for _ in range(SEQUENTIAL):
                submit_one(client, "bench", tally, NOTEBOOK, "analysis.ipynb")
            sequential = tally.timings["submit+check"]
            load = run_load(
                platform.hub, platform.public_url, researchers, reviewers, "bench",
                NOTEBOOK, "analysis.ipynb",
            )  # fmt: skip
        finally:
            platform.stop()
    print("airlock: submit+check of a 20-output notebook")
    print(line("check alone (floor)", bare))
    print(line("submit+check, one at a time", sequential))
    ratio = statistics.median(sequential) / statistics.median(bare)
    print(f"{'ratio to the floor (median)':<28} {ratio:7.2f}x")
    target = percentile(sequential, 0.95) < 1.0
    print(f"target p95 < 1 s: {'met' if target else 'NOT met'}")
    calls = len(load.tally.statuses)
    print(
        f"\nload: {RESEARCHERS} researchers and {REVIEWERS} reviewers at once:"
        f" {calls} calls in {load.seconds:.1f} s = {calls / load.seconds:.1f} requests/s,"
        f" {len(load.tally.server_errors())} server errors, {load.decisions} decisions"
    )
    for kind in ("create", "upload", "submit+check", "queue", "view", "decide"):
        if kind in load.tally.timings:
            print(line(f"  {kind}", load.tally.timings[kind]))
    return 0 if target else 1


if __name__ == "__main__":
    sys.exit(main())
