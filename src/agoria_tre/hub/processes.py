"""The platform's processes, found by a mark in their environment.

Every process ``agoria-tre hub`` starts carries ``AGORIA_RUN_DIR=<its run folder>`` in its
environment: the container runtime, the hub, and through the hub the proxy and the managed
services (which the hub starts in sessions of their own, so they outlive a hub that
crashes). A stop, and a start after a crash, end every process so marked: nothing of a run
survives it, and a process id reused since by another program is never touched (its
environment does not carry the mark).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)

MARK = "AGORIA_RUN_DIR"


def mark(run_dir: Path) -> dict[str, str]:
    """The environment entry that makes a process one of this run's."""
    return {MARK: str(run_dir)}


def marked(run_dir: Path, program: bytes = b"") -> list[int]:
    """The live processes carrying this run folder's mark (this process excepted), only
    those whose command line holds ``program`` when given."""
    needle = MARK.encode() + b"=" + os.fsencode(run_dir)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            command = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # pragma: no cover - ended between the listing and the reading
            continue
        if state != "Z" and program in command and needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return sorted(found)


def end_marked(run_dir: Path, timeout: float = 5.0, program: bytes = b"") -> list[int]:
    """SIGTERM every process of this run (whose command line holds ``program``), then
    SIGKILL those still there after ``timeout`` seconds; returns the ids found."""
    found = marked(run_dir, program)
    if not found:
        return []
    log.info("ending %d process(es) of the run in %s: %s", len(found), run_dir, found)
    _signal(found, signal.SIGTERM)
    left = _wait_gone(run_dir, found, timeout)
    if left:
        log.warning("processes %s did not stop in %g s: killed", left, timeout)
        _signal(left, signal.SIGKILL)
        _wait_gone(run_dir, left, 5.0)
    return found


def _wait_gone(run_dir: Path, pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := [pid for pid in marked(run_dir) if pid in pids]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    return left


def _signal(pids: list[int], number: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):  # ended meanwhile
            os.kill(pid, number)


def end_process(process: subprocess.Popen[bytes], *, timeout: float, group: bool = False) -> None:
    """SIGTERM a child, then SIGKILL if it has not exited within ``timeout`` seconds (its
    whole process group with ``group``)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log.warning("process %d did not stop in %g s: killed", process.pid, timeout)
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            if group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        process.wait()
