"""The platform key, the keyed pseudonyms made with it, and the project keys derived from it.

The platform key is one file named by ``AGORIA_KEY_FILE`` (``--key-file`` overrides it). It
is kept outside ``AGORIA_HOME`` and must be readable by its owner only: the platform refuses
a key file that anyone else could read, one that is too short, and one inside the data
directory. The key never enters the catalog, the data directory, a log line or a workspace;
the catalog records its fingerprint only.

A pseudonym is HMAC-SHA256(key, value) in base32, cut to 26 characters (130 bits). A
project's copy of a dataset re-keys every pseudonym with the project key, HKDF-SHA256
(RFC 5869) of the platform key with the project's random salt and its immutable id: two
projects cannot link their records, records stay linked across datasets within a project,
and a re-used slug never re-links an old project's data.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import hmac
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from agoria_tre.errors import ConfigurationError, InvalidInput

MIN_KEY_BYTES = 32
MAX_KEY_BYTES = 4096
PSEUDONYM_LENGTH = 26  # base32 characters: 130 bits
_FINGERPRINT_LABEL = b"agoria-tre/key-fingerprint/v1"
_PROJECT_INFO = b"agoria-tre/project-key/v1/"


@dataclass(frozen=True, repr=False)
class Key:
    """Secret bytes with a public fingerprint. ``repr`` never shows the secret."""

    secret: bytes

    def __repr__(self) -> str:
        return f"Key(fingerprint={self.fingerprint})"

    @property
    def fingerprint(self) -> str:
        """What the catalog records: names the key without revealing it."""
        return hmac.new(self.secret, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()[:32]

    def pseudonymiser(self) -> Pseudonymiser:
        return Pseudonymiser(self)

    def for_project(self, project_uid: str, salt: bytes) -> Key:
        """The project key: HKDF-SHA256 with the project's salt, its immutable id as info."""
        if len(salt) < 16:
            raise ValueError("a project salt has at least 16 bytes")
        return Key(hkdf_sha256(self.secret, salt=salt, info=_PROJECT_INFO + project_uid.encode()))


def hkdf_sha256(ikm: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF (RFC 5869) with SHA-256: extract, then expand to ``length`` bytes."""
    if not 0 < length <= 255 * 32:
        raise ValueError("HKDF-SHA256 gives 1 to 8160 bytes")
    prk = hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()
    out, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
    return out[:length]


class Pseudonymiser:
    """HMAC-SHA256 of a value, base32, 26 characters. The inner and outer hash states are
    prepared once (as ``hmac`` itself does) and copied for each value; base32 is computed
    for many digests at once."""

    def __init__(self, key: Key) -> None:
        secret = key.secret
        if len(secret) > 64:
            secret = hashlib.sha256(secret).digest()
        secret = secret.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in secret))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in secret))

    def __call__(self, value: bytes) -> str:
        return self.many([value]).decode("ascii")

    def many(self, values: Sequence[bytes]) -> bytes:
        """The pseudonyms of ``values``, concatenated: 26 ASCII bytes each."""
        inner_base, outer_base = self._inner, self._outer
        digests = bytearray()
        for value in values:
            inner = inner_base.copy()
            inner.update(value)
            outer = outer_base.copy()
            outer.update(inner.digest())
            digests += outer.digest()
        return base32_prefix(bytes(digests))


_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", dtype=np.uint8)


def base32_prefix(digests: bytes) -> bytes:
    """RFC 4648 base32 of each 32-byte digest, first 26 characters (its first 130 bits),
    for all digests at once. Equal to ``base64.b32encode(d)[:26]`` for each."""
    n = len(digests) // 32
    if n == 0:
        return b""
    raw = np.frombuffer(digests, dtype=np.uint8).reshape(n, 32)
    hi = raw[:, 0:8].copy().view(">u8").astype(np.uint64).ravel()
    lo = raw[:, 8:16].copy().view(">u8").astype(np.uint64).ravel()
    extra = raw[:, 16].astype(np.uint64)
    out = np.empty((n, PSEUDONYM_LENGTH), dtype=np.uint64)
    for k in range(12):  # bits 0..59 of the digest
        out[:, k] = (hi >> np.uint64(59 - 5 * k)) & np.uint64(31)
    out[:, 12] = ((hi & np.uint64(15)) << np.uint64(1)) | (lo >> np.uint64(63))
    for k in range(13, 25):  # bits 65..124
        out[:, k] = (lo >> np.uint64(58 - 5 * (k - 13))) & np.uint64(31)
    out[:, 25] = ((lo & np.uint64(7)) << np.uint64(2)) | (extra >> np.uint64(6))
    return bytes(_ALPHABET[out].tobytes())


def fixed_width_strings(
    data: Any, count: int, *, validity: pa.Buffer | None = None, null_count: int = 0
) -> pa.Array:
    """``count`` strings of PSEUDONYM_LENGTH bytes each, laid end to end in ``data`` (bytes
    or a buffer); ``validity`` marks the nulls, as Arrow's bitmap does."""
    offsets = np.arange(0, (count + 1) * PSEUDONYM_LENGTH, PSEUDONYM_LENGTH, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(),
        count,
        [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
        null_count=null_count,
    )


NATIVE_LIBRARY = "libagoria_pseudonym.so"
NativeFunction = Callable[[bytes, pa.Array], pa.Array]


def native_library_path() -> Path:
    """Where the build backend (``hatch_build.py``) puts the native library: inside the
    installed package, and nowhere else. No setting can point elsewhere: a library loaded
    here sees the platform key."""
    return Path(__file__).with_name("native") / NATIVE_LIBRARY


@functools.lru_cache(maxsize=1)
def native_pseudonyms() -> NativeFunction | None:
    """The C loop of ``native/pseudonym.c`` (OpenSSL's SHA-256), or None when it was not
    built here. ctypes releases the GIL while it runs, so columns hash in parallel."""
    path = native_library_path()
    if os.environ.get("AGORIA_NATIVE") == "0" or not path.is_file():
        return None
    library = ctypes.CDLL(str(path))
    function = library.agoria_pseudonyms
    function.argtypes = [
        ctypes.c_char_p,
        ctypes.c_int64,
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_int64,
        ctypes.c_void_p,
    ]
    function.restype = ctypes.c_int

    def pseudonyms(secret: bytes, column: pa.Array) -> pa.Array:
        if column.type != pa.string():
            column = column.cast(pa.string())
        if column.offset:
            column = pa.concat_arrays([column])  # a slice: give it offsets of its own
        count = len(column)
        validity, offsets, values = column.buffers()
        out = np.empty(count * PSEUDONYM_LENGTH, dtype=np.uint8)
        if count:
            status = function(
                secret,
                len(secret),
                values.address if values is not None and values.size else None,
                offsets.address,
                count,
                out.ctypes.data,
            )
            if status != 0:
                raise RuntimeError("the native pseudonymiser failed")
        return fixed_width_strings(out, count, validity=validity, null_count=column.null_count)

    return pseudonyms


def key_path(
    explicit: str | os.PathLike[str] | None, environ: dict[str, str] | None = None
) -> Path:
    env = os.environ if environ is None else environ
    value = explicit or env.get("AGORIA_KEY_FILE")
    if not value:
        raise ConfigurationError(
            "no platform key: set AGORIA_KEY_FILE or pass --key-file"
            " (a file of at least 32 random bytes, readable by its owner only)"
        )
    return Path(value).expanduser().absolute()


def load_key(path: Path, *, home: Path) -> Key:
    """Read the platform key, refusing any file whose handling would expose it."""
    resolved = path.resolve()
    home_resolved = home.expanduser().absolute().resolve()
    if resolved == home_resolved or home_resolved in resolved.parents:
        raise ConfigurationError(
            f"the key file {path} is inside the data directory {home}: keep it elsewhere"
        )
    parent = os.stat(resolved.parent) if resolved.parent.exists() else None
    if parent is not None and parent.st_mode & 0o022 and not parent.st_mode & stat.S_ISVTX:
        raise InvalidInput(
            f"the key file's folder {resolved.parent} can be written by others: they could"
            " replace the key; keep it in an owner-only folder"
        )
    try:
        # The name given, not what it resolves to: a symbolic link (say in a shared folder,
        # to a file of known content) is refused by O_NOFOLLOW, even one made after a check.
        # O_NONBLOCK: a FIFO planted in place of the key must not hang the platform.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InvalidInput(f"key file {path} does not exist") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InvalidInput(
                f"key file {path} is a symbolic link: name the key file itself"
            ) from None
        raise InvalidInput(f"cannot read key file {path}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidInput(f"key file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise InvalidInput(
                f"key file {path} can be read by others (mode {stat.S_IMODE(info.st_mode):04o}):"
                f" chmod 600 it"
            )
        if info.st_uid != os.geteuid():
            raise InvalidInput(f"key file {path} belongs to another user")
        if info.st_nlink > 1:
            raise InvalidInput(
                f"key file {path} has other hard links: one of them could be anywhere,"
                " even in the data directory"
            )
        secret = os.read(fd, MAX_KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(secret) > MAX_KEY_BYTES:
        raise InvalidInput(f"key file {path} is longer than {MAX_KEY_BYTES} bytes")
    if len(secret) < MIN_KEY_BYTES:
        raise InvalidInput(
            f"key file {path} holds {len(secret)} bytes: a key needs at least {MIN_KEY_BYTES}"
        )
    return Key(secret)


def create_key_file(path: Path) -> Key:
    """Write a new random 32-byte key, owner-only; refuses to overwrite one."""
    secret = os.urandom(MIN_KEY_BYTES)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInput(f"key file {path} already exists: it is never overwritten") from None
    except OSError as exc:
        raise InvalidInput(f"cannot create key file {path}: {exc.strerror}") from None
    try:
        os.write(fd, secret)
        os.fsync(fd)
    finally:
        os.close(fd)
    return Key(secret)
