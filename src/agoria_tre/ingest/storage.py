"""Files of the data directory: written whole, synced, sealed read-only, removed whole.

Builds happen in an ``.incoming`` folder, one sub-folder per build beside a lock file
(``NAME.lock``) that its builder creates first and keeps locked (``flock``) for as long as
it lives. A folder whose lock can be taken (or is missing) is a leftover of a killed run:
the next run's sweep removes it. Locks, unlike process ids, mean the same thing from
another PID namespace (a container, a cron job).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any


class Interrupted(BaseException):
    """SIGTERM during a build: unwinds like Ctrl-C, so that nothing is left behind."""


@contextmanager
def build_folder(incoming: Path, name: str) -> Iterator[Path]:
    """A new build folder under ``incoming`` (0700), locked until the block ends. The
    caller renames it into place; if it does not, the folder is removed."""
    incoming.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = incoming / f"{name}.{os.getpid()}.{secrets.token_hex(4)}"
    lock = folder.with_name(folder.name + ".lock")
    fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        folder.mkdir(mode=0o700)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)  # gone already if it was renamed
            lock.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _held(lock: Path) -> bool:
    """Whether a live builder holds this lock file."""
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


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


def seal(folder: Path, *, shared: bool = False) -> None:
    """Make a finished build read-only: for its owner only, or, when ``shared``, for anyone
    who can reach it (project copies, read by the workspaces' unprivileged user: the
    folders above them stay owner-only on the host)."""
    for child in folder.iterdir():
        child.chmod(0o444 if shared else 0o400)
    folder.chmod(0o555 if shared else 0o500)


def install(build: Path, final: Path, *, shared: bool = False) -> None:
    """Seal a finished build and rename it to ``final`` (its parent created owner-only). A
    folder already there is one a killed run renamed without recording it: replaced."""
    final.parent.mkdir(mode=0o700, exist_ok=True)
    if final.exists():
        remove_tree(final)
    seal(build, shared=shared)
    build.rename(final)
    fsync_dir(final.parent)


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
    """Remove what killed runs left in an incoming folder: build folders and lock files
    nobody holds. A builder creates and locks its lock file before its folder."""
    removed: list[Path] = []
    if not incoming.is_dir():
        return removed
    for entry in sorted(incoming.iterdir()):
        lock = entry if entry.name.endswith(".lock") else entry.with_name(entry.name + ".lock")
        if _held(lock):
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed
