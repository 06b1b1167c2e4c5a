"""Files of the data directory: written whole, synced, sealed read-only, removed whole.

Builds happen in an ``.incoming`` folder named ``<what>.<pid>.<random>``; a folder whose
process is gone is a leftover of a killed run, removed by the next run's sweep.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any


class Interrupted(BaseException):
    """SIGTERM during a build: unwinds like Ctrl-C, so that nothing is left behind."""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def terminate_unwinds() -> Iterator[None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: nothing to install
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def seal(folder: Path) -> None:
    for child in folder.iterdir():
        child.chmod(0o400)
    folder.chmod(0o500)


def remove_tree(folder: Path) -> None:
    for path in (folder, *folder.rglob("*")):
        if path.is_dir():
            path.chmod(0o700)
    shutil.rmtree(folder, ignore_errors=True)


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write a new JSON file (never over an existing one), synced to disk."""
    data = json.dumps(document, indent=2, ensure_ascii=False).encode() + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def sweep(incoming: Path) -> list[Path]:
    """Remove what killed runs left in an incoming folder (their process is gone)."""
    removed: list[Path] = []
    if not incoming.is_dir():
        return removed
    for entry in incoming.iterdir():
        parts = entry.name.split(".")
        pid = parts[-2] if len(parts) >= 3 else ""
        if pid.isdigit() and alive(int(pid)):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed
