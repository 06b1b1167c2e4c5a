"""The automated check of a request, run apart from the service.

The airlock checks what it is sent with the same checker, report and policy as
``agoria-tre check``, in a child process with limits of its own: CPU seconds and address
space (``setrlimit``) and wall-clock time (the child's process group is killed). A hostile
item can then neither stall nor crash the service: a check that exceeds a limit, or dies, is
a :class:`CheckRun` without a report and with the reason, and every item of the request fails
on it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckLimits:
    cpu_seconds: int = 120
    memory_bytes: int = 2 * 1024**3
    wall_seconds: float = 300.0


@dataclass(frozen=True)
class CheckRun:
    """A check's JSON report (``agoria-tre check --format json``), or why there is none."""

    report: dict[str, Any] | None
    failure: str = ""


# The child holds itself to its limits before it imports the checker: no code runs between
# fork and exec in the service (``preexec_fn`` is unsafe beside threads).
_CHILD = """
import resource, runpy, sys
cpu, memory = int(sys.argv[1]), int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL a second later
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
sys.argv = ["agoria-tre", *sys.argv[3:]]
runpy.run_module("agoria_tre.cli.main", run_name="__main__")
"""


def _command(
    paths: Sequence[Path],
    profile: str,
    pseudonyms: Path | None,
    released: Sequence[Path],
    limits: CheckLimits,
    canonical_out: Path | None,
) -> list[str]:
    command = [sys.executable, "-c", _CHILD, str(limits.cpu_seconds), str(limits.memory_bytes)]
    command += ["check", *map(str, paths), "--profile", profile, "--format", "json"]
    if canonical_out is not None:
        command += ["--canonical-out", str(canonical_out)]
    if pseudonyms is not None:
        command += ["--pseudonyms", str(pseudonyms)]
    for folder_released in released:
        command += ["--released", str(folder_released)]
    return command


def run_check(
    paths: Sequence[Path],
    *,
    profile: str = "fr",
    pseudonyms: Path | None = None,
    released: Sequence[Path] = (),
    limits: CheckLimits = CheckLimits(),
    canonical_out: Path | None = None,
) -> CheckRun:
    """Check the files ``paths`` name (folders are walked) in a child process held to
    ``limits``; given ``canonical_out``, the child writes there the canonical form of each
    file it checked, named by its SHA-256."""
    folder = paths[0] if len(paths) == 1 else paths[0].parent
    child = subprocess.Popen(
        _command(paths, profile, pseudonyms, released, limits, canonical_out),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = child.communicate(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        log.warning("check of %s stopped after %g s", folder, limits.wall_seconds)
        return CheckRun(None, f"the check took longer than {limits.wall_seconds:g} s")
    report = _report(out) if child.returncode in (0, 1, 3) else None
    if report is None:
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        log.warning(
            "check of %s ended without a report (%d): %s", folder, child.returncode, tail[0]
        )
        how = (
            f"was stopped ({signal.Signals(-child.returncode).name})"
            if child.returncode < 0
            else f"ended without its report (exit status {child.returncode})"
        )
        held_to = f"{limits.cpu_seconds} s of CPU, {limits.memory_bytes:,} bytes of memory"
        return CheckRun(None, f"the check {how}; it is held to {held_to}")
    return CheckRun(report)


def _report(out: bytes) -> dict[str, Any] | None:
    """The JSON report the child printed, or None when it printed none."""
    try:
        report = json.loads(out)
    except ValueError:
        return None
    return report if isinstance(report, dict) and "status" in report else None
