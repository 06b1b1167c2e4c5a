"""How long the README's first command takes to print the platform's URL, the first time
and the second, against the bare start of the platform on the same data.

Runs ``scripts/demo.sh`` on a fresh data directory (a temporary ``AGORIA_HOME``) until it
prints "Agoria TRE is running at …", then Ctrl-C; runs it again on the same directory;
then, as the floor, starts ``agoria-tre hub --demo`` alone on that directory. Each run gets
free loopback ports. With ``--cold`` the first run also starts from an empty build cache
(a temporary ``AGORIA_CACHE``) and with no workspace image in Podman's store, as on a new
machine once its Debian and Python packages are installed: it then builds the base system
with debootstrap, downloads the image's wheels and builds the image.

Prints the seconds to the URL of each run and the ratios second/first and second/floor.
Targets (issue 12): first run < 300 s, second run < 20 s.
Run: ``.venv/bin/python bench/demo_bench.py [--cold]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agoria_tre.images import REPOSITORY
from agoria_tre.images.build import BASE_REPOSITORY
from agoria_tre.testing.demo import DemoRun
from agoria_tre.testing.platform import AGORIA, free_port

ROOT = Path(__file__).resolve().parents[1]
FIRST_TARGET, SECOND_TARGET = 300.0, 20.0


def ports() -> list[str]:
    return [
        "--url", f"http://127.0.0.1:{free_port()}",
        "--api-port", str(free_port()),
        "--proxy-api-port", str(free_port()),
        "--airlock-port", str(free_port()),
    ]  # fmt: skip


def demo(env: dict[str, str]) -> tuple[float, DemoRun]:
    run = DemoRun(["bash", str(ROOT / "scripts" / "demo.sh"), *ports()], env)
    try:
        _, seconds = run.wait_for_url(timeout=3600)
    finally:
        run.interrupt()
    return seconds, run


def bare_hub(env: dict[str, str]) -> float:
    """``agoria-tre hub --demo`` alone on the prepared directory: the floor."""
    run = DemoRun([AGORIA, "hub", "--demo", *ports()], env)
    try:
        _, seconds = run.wait_for_url(timeout=600)
    finally:
        run.interrupt()
    return seconds


def forget_workspace_images(env: dict[str, str]) -> None:
    """Remove the workspace and base images Podman holds: the build starts from nothing."""
    listed = subprocess.run(
        ["podman", "images", "--format", "json"], capture_output=True, text=True, check=True
    )
    for image in json.loads(listed.stdout or "[]"):
        names = image.get("Names") or []
        if any(name.startswith((REPOSITORY, BASE_REPOSITORY)) for name in names):
            subprocess.run(["podman", "rmi", "--force", image["Id"]], check=True, env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cold", action="store_true", help="empty build cache, no image")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="demo-bench-") as tmp:
        root = Path(tmp)
        env = {
            **{k: v for k, v in os.environ.items() if k != "AGORIA_DB_URL"},
            "AGORIA_HOME": str(root / "home"),
            "AGORIA_KEY_FILE": str(root / "keys" / "platform.key"),
        }
        if options.cold:
            env["AGORIA_CACHE"] = str(root / "cache")
            forget_workspace_images(env)
        first, run = demo(env)
        built = "workspace image: building" in run.output
        image = "built" if built else "found"
        print(f"demo.sh first run (image {image}):   {first:7.1f} s to the URL", flush=True)
        second, again = demo(env)
        print(f"demo.sh second run:                  {second:7.1f} s to the URL", flush=True)
        floor = bare_hub(env)
        print(f"agoria-tre hub --demo alone (floor): {floor:7.1f} s to the URL")
    if "workspace image: up to date" not in again.output:
        print("the second run built the image again")
        return 1
    print(f"ratios: second/first {second / first:.3f}, second/floor {second / floor:.2f}")
    ok = first < FIRST_TARGET and second < SECOND_TARGET
    print(
        f"targets: first < {FIRST_TARGET:.0f} s, second < {SECOND_TARGET:.0f} s:"
        f" {'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    started = time.monotonic()
    status = main()
    print(f"(bench took {time.monotonic() - started:.0f} s)", file=sys.stderr)
    sys.exit(status)
