"""Files as the checker reads them: each one once, through one descriptor, never a link.

A check may be slow, and the folder it reads belongs to the requester, who can change it
meanwhile: swap a file for a link to something outside the folder, or for a FIFO that would
hang the reader. So :func:`read_once` opens a path without following a link and without
blocking, checks *the opened descriptor* (a regular file, within the size limit), reads its
bytes into memory, and the caller checks, hashes and releases those bytes and never the path
again. :func:`walk` lists what a folder holds without following links either, and reports
a folder it cannot read instead of skipping what is inside.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Refusal:
    """Why a file is not read: the rule that fails it, and a summary naming no content."""

    rule: str  # file.type, file.limits or file.unreadable
    summary: str


def read_once(path: Path, limit: int) -> bytes | Refusal:
    """The bytes of the regular file at ``path`` (at most ``limit``), or why not."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Refusal("file.type", "a link: only regular files may leave")
        return Refusal("file.unreadable", f"cannot be read: {exc.strerror or exc}")
    try:
        mode = os.fstat(fd)
        if not stat.S_ISREG(mode.st_mode):
            what = "a folder" if stat.S_ISDIR(mode.st_mode) else "a special file (FIFO, device)"
            return Refusal("file.type", f"{what}: only regular files may leave")
        if mode.st_size > limit:
            return _too_big(mode.st_size, limit)
        parts: list[bytes] = []
        size = 0
        while size <= limit:  # a file that grows while it is read stops at the limit
            part = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not part:
                break
            parts.append(part)
            size += len(part)
    except OSError as exc:
        return Refusal("file.unreadable", f"cannot be read: {exc.strerror or exc}")
    finally:
        os.close(fd)
    if size > limit:
        return Refusal(
            "file.limits", f"the file grew past the limit of {limit:,} bytes as it was read"
        )
    return b"".join(parts)


def _too_big(size: int, limit: int) -> Refusal:
    return Refusal("file.limits", f"the file has {size:,} bytes, over the limit of {limit:,}")


@dataclass(frozen=True)
class Found:
    """A path under what was given to check, its label in the report, and, for a folder
    that could not be listed, why (its contents are then failed, never skipped)."""

    path: Path
    label: str
    unlisted: str | None = None


def walk(paths: Iterable[Path]) -> list[Found]:
    """Every entry under ``paths``, sorted by label: files, and links and special files
    (which :func:`read_once` refuses), without following a link to a folder. A folder that
    cannot be listed (permissions, a path too long to name) is an entry of its own."""
    found: list[Found] = []
    for top in paths:
        try:
            mode = os.lstat(top).st_mode
        except OSError:
            mode = 0  # read_once says why
        if not stat.S_ISDIR(mode):
            found.append(Found(top, str(top.name if top.is_absolute() else top)))
            continue
        base, pending = top.parent, [top]
        while pending:
            folder = pending.pop()
            try:
                with os.scandir(folder) as listing:
                    entries = list(listing)
            except OSError as exc:
                reason = f"a folder that cannot be read: {exc.strerror or exc}"
                found.append(Found(folder, str(folder.relative_to(base)), reason))
                continue
            for entry in entries:
                path = folder / entry.name
                if entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                else:
                    found.append(Found(path, str(path.relative_to(base))))
    return sorted(found, key=lambda f: f.label)
