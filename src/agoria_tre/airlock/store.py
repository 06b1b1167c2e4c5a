"""Where the airlock keeps what researchers ask to export: outside every workspace, each
content once, named by its SHA-256.

A content is written under a temporary name in the store's ``.incoming`` folder, flushed to
disk, then renamed into place: a reader finds a whole file or none, and a crash leaves only a
temporary file that the next :meth:`ContentStore.sweep` removes. Reading verifies the hash
again, so a file changed on disk is never served or released as what was checked.

:func:`item_name` is the only way a name given by a researcher becomes an item's name: a
file name, never a path.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import stat
from pathlib import Path

from agoria_tre.errors import AgoriaError, InvalidInput, NotFound

log = logging.getLogger(__name__)

_SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_NAME_BYTES = 255  # what file systems hold in one name


class CorruptContent(AgoriaError):
    """A stored content no longer has the hash it was stored under. Exit status 1: an
    integrity check failed."""

    exit_code = 1


def item_name(raw: str) -> str:
    """``raw`` as an item's name, or the refusal: a name, not a path (no ``/`` or ``\\``, not
    ``.`` or ``..``), without control characters, at most 255 bytes in UTF-8."""
    if not raw.strip():
        raise InvalidInput("a file needs a name")
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise InvalidInput("a file name cannot hold control characters (NUL, new lines…)")
    if "/" in raw or "\\" in raw:
        raise InvalidInput(f"{raw!r} is a path: give the file's name alone")
    if raw in (".", ".."):
        raise InvalidInput(f"{raw!r} is not a file name")
    if raw != raw.strip():
        raise InvalidInput(f"{raw!r} starts or ends with spaces")
    if len(raw.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise InvalidInput(f"a file name has at most {MAX_NAME_BYTES} bytes")
    return raw


def _digest(sha256: str) -> str:
    if not _SHA256.fullmatch(sha256):
        raise InvalidInput(f"{sha256!r} is not a SHA-256 in lower-case hexadecimal")
    return sha256


class ContentStore:
    """Contents named by their SHA-256 under ``root`` (created if missing, owner-only)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._incoming = root / ".incoming"
        self._incoming.mkdir(parents=True, exist_ok=True, mode=0o700)
        root.chmod(0o700)

    def path(self, sha256: str) -> Path:
        digest = _digest(sha256)
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` (once: the same content twice is one file) and return its hash."""
        digest = hashlib.sha256(data).hexdigest()
        final = self.path(digest)
        if final.exists():
            return digest
        final.parent.mkdir(exist_ok=True, mode=0o700)
        temporary = self._incoming / f"{digest}.{secrets.token_hex(8)}"
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, final)
        finally:
            temporary.unlink(missing_ok=True)
        return digest

    def get(self, sha256: str) -> bytes:
        """The content stored under ``sha256``, its hash verified. Only a regular file is
        read: a link put in its place is refused, never followed."""
        path = self.path(sha256)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise NotFound(f"no stored content {sha256}") from None
        except OSError as exc:  # ELOOP: a symbolic link where the content should be
            log.error("stored content %s is not a regular file: %s", sha256, exc)
            raise CorruptContent(f"the stored content {sha256} was replaced on disk") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            log.error("stored content %s is not a regular file", sha256)
            raise CorruptContent(f"the stored content {sha256} was replaced on disk")
        with os.fdopen(fd, "rb") as stored:
            data = stored.read()
        if hashlib.sha256(data).hexdigest() != sha256:
            log.error("stored content %s does not match its hash", sha256)
            raise CorruptContent(f"the stored content {sha256} was changed on disk")
        return data

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def sweep(self) -> int:
        """Remove what writes interrupted by a crash left in ``.incoming``; how many."""
        removed = 0
        for leftover in self._incoming.iterdir():
            leftover.unlink(missing_ok=True)
            removed += 1
        if removed:
            log.info("removed %d unfinished writes from %s", removed, self._incoming)
        return removed
