"""The audit witness: the chain's heads, kept by a process the platform's account cannot
rewrite.

The account that writes the catalog also writes the anchor file, so it could rewrite both
consistently. The witness runs as its own system user and appends every head it is sent
(``SEQ HASH``: the chain's newest event after a commit) to a file only that user can write.
Since each event's hash covers every event before it, one head witnessed after an event
protects it: ``agoria-tre audit verify --witness FILE`` then names a rewrite (or the
deletion of witnessed events) that the anchor file no longer shows.

The platform sends heads after each commit to ``AGORIA_AUDIT_WITNESS`` (the witness's
socket), or, when that is not set, to its catalog's own witness on this host when one runs:
the socket :func:`catalog_paths` names after the catalog's data directory (``agoria-tre hub``
starts it, as the ``agoria-witness`` user). Its file's first line names the anchor identity
of the chain it witnesses (``anchor ID``): a witness never takes the heads of another chain
into it, and ``audit verify`` refuses a chain whose anchor is not that one, so replacing the
whole chain under a new identity does not escape the witness. A witness that cannot be
reached is logged, not fatal: the next head it takes covers what it missed. The witness may
run on another host behind any transport that delivers these lines (see
``docs/operators.md``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pwd
import re
import socket
import socketserver
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

WITNESS_USER = "agoria-witness"  # made by scripts/bootstrap.sh
RUN_DIR = Path("/run/agoria-witness")
LIB_DIR = Path("/var/lib/agoria-witness")
HEAD_LINE = re.compile(rb"([1-9][0-9]{0,17}) ([0-9a-f]{64})\n")
ANCHOR_LINE = re.compile(rb"anchor ([0-9a-f]{32})\n")
MAX_LINE = 84  # 18 digits, a space, 64 hex digits, a newline


def catalog_paths(home: Path) -> tuple[Path, Path]:
    """The socket and the file of heads of the witness of the catalog whose data directory
    is ``home``, on this host: named after the directory, which whoever verifies names too
    (not after anything the platform's account could rewrite)."""
    key = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:32]
    return RUN_DIR / f"{key}.sock", LIB_DIR / f"{key}.log"


def listening(socket_path: Path) -> bool:
    """Whether a witness answers at ``socket_path`` (a file left by a stopped one does not)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(socket_path))
        except OSError:
            return False
    return True


def send_head(socket_path: Path, seq: int, digest: str, timeout: float = 2.0) -> None:
    """Hand one head to the witness; raises OSError when it did not take it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(socket_path))
        sock.sendall(f"{seq} {digest}\n".encode("ascii"))
        answer = sock.recv(16)
    if answer != b"ok\n":
        raise OSError(f"the witness refused head {seq}: {answer!r}")


@dataclass
class Heads:
    """A witness file, read: ``{seq: hash}``, or the problem that makes it unusable."""

    by_seq: dict[int, str] = field(default_factory=dict)
    problem: str | None = None
    anchor: str | None = None  # the identity of the chain witnessed, from the first line


def read_heads(path: Path) -> Heads:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Heads(problem=f"cannot read the witness file {path}: {exc.strerror}")
    heads = Heads()
    first = ANCHOR_LINE.match(raw)
    if first is not None:
        heads.anchor = first.group(1).decode("ascii")
    for number, line in enumerate(raw.splitlines(keepends=True), start=1):
        if number == 1 and first is not None:
            continue
        match = HEAD_LINE.fullmatch(line)
        if match is None:
            if line.endswith(b"\n"):
                return Heads(problem=f"witness file {path} line {number} is malformed")
            break  # a line still being written
        seq, digest = int(match.group(1)), match.group(2).decode("ascii")
        if heads.by_seq.get(seq, digest) != digest:
            return Heads(problem=f"witness file {path} holds two hashes for event {seq}")
        heads.by_seq[seq] = digest
    return heads


class _Witness(socketserver.StreamRequestHandler):
    server: WitnessServer

    def handle(self) -> None:
        line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            return  # a connection closed unused: someone asking whether the witness runs
        if HEAD_LINE.fullmatch(line) is None:
            log.warning("refused a malformed head: %r", line[:MAX_LINE])
            self.wfile.write(b"refused\n")
            return
        self.server.append(line)
        self.wfile.write(b"ok\n")


class WitnessServer(socketserver.UnixStreamServer):
    """Appends each well-formed head it receives to ``log_path``, durably, in order."""

    def __init__(self, socket_path: Path, log_path: Path, anchor: str | None = None) -> None:
        # O_APPEND and no other way in: lines are only ever added.
        self._fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            _bind(self._fd, log_path, anchor)
            socket_path.unlink(missing_ok=True)
            super().__init__(str(socket_path), _Witness)
        except BaseException:
            os.close(self._fd)
            raise
        self.socket_path = socket_path
        os.chmod(socket_path, 0o600)  # the witness's user, and root (the platform's account)
        self.log_path = log_path

    def append(self, line: bytes) -> None:
        os.write(self._fd, line)  # one small O_APPEND write: never interleaved
        os.fsync(self._fd)

    def server_close(self) -> None:
        super().server_close()
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self.socket_path.unlink(missing_ok=True)  # nobody listens there any more


class WitnessRefused(Exception):
    """The witness's file belongs to another chain: it takes no head of this one."""


def _bind(fd: int, log_path: Path, anchor: str | None) -> None:
    """A new file's first line names the chain it witnesses; an old one must name it too."""
    if anchor is None:
        return
    if os.fstat(fd).st_size == 0:
        os.write(fd, f"anchor {anchor}\n".encode("ascii"))
        os.fsync(fd)
        return
    held = read_heads(log_path).anchor
    if held != anchor:
        raise WitnessRefused(
            f"{log_path} witnesses the chain of anchor {held or '(none named)'}, not {anchor}:"
            " that chain was replaced, or the file belongs to another catalog; keep the file"
            " as evidence, and move it away only once that is understood"
        )


def prepare(socket_path: Path, log_path: Path, user: str | None) -> Callable[[], None]:
    """Make the witness's folders (owned by ``user`` when given) and return what drops this
    process to that user; run as root before serving."""
    if user is None:
        for folder in (socket_path.parent, log_path.parent):
            folder.mkdir(mode=0o755, parents=True, exist_ok=True)
        return lambda: None
    account = pwd.getpwnam(user)
    for folder in (socket_path.parent, log_path.parent):
        if not folder.exists():  # a folder that was there stays its owner's
            folder.mkdir(mode=0o755, parents=True)
            os.chown(folder, account.pw_uid, account.pw_gid)

    def drop() -> None:
        os.initgroups(user, account.pw_gid)
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)

    return drop
