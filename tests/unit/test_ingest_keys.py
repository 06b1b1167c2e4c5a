"""The platform key, pseudonyms, project keys: formats, derivations, refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import random
from pathlib import Path

import pyarrow as pa
import pytest

from agoria_tre.errors import ConfigurationError, InvalidInput
from agoria_tre.ingest.keys import (
    Key,
    Pseudonymiser,
    base32_prefix,
    create_key_file,
    hkdf_sha256,
    key_path,
    load_key,
    native_pseudonyms,
)
from agoria_tre.ingest.pipeline import ColumnPseudonymiser, identifier_text


def reference(secret: bytes, value: bytes) -> str:
    digest = hmac.new(secret, value, hashlib.sha256).digest()
    return base64.b32encode(digest)[:26].decode()


def test_hkdf_matches_rfc_5869_test_cases() -> None:
    okm = hkdf_sha256(
        bytes.fromhex("0b" * 22),
        salt=bytes.fromhex("000102030405060708090a0b0c"),
        info=bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
        length=42,
    )
    assert okm.hex() == (
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )
    no_salt = hkdf_sha256(bytes.fromhex("0b" * 22), salt=b"", info=b"", length=42)
    assert no_salt.hex() == (
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    )


def test_project_keys_differ_by_project_and_salt() -> None:
    platform = Key(os.urandom(32))
    salt = os.urandom(32)
    a = platform.for_project("uid-a", salt)
    assert a == platform.for_project("uid-a", salt)
    assert a != platform.for_project("uid-b", salt)
    assert a != platform.for_project("uid-a", os.urandom(32))
    assert a != Key(os.urandom(32)).for_project("uid-a", salt)
    with pytest.raises(ValueError, match="16 bytes"):
        platform.for_project("uid-a", b"short")


@pytest.mark.parametrize("length", [32, 64, 65, 200])
def test_pseudonyms_are_hmac_sha256_in_base32(length: int) -> None:
    secret = os.urandom(length)
    values = [b"", b"080000001", "Zoé".encode(), os.urandom(100), b"x" * 64]
    made = Pseudonymiser(Key(secret)).many(values)
    assert [made[i : i + 26].decode() for i in range(0, len(made), 26)] == [
        reference(secret, v) for v in values
    ]
    assert repr(Key(secret)).startswith("Key(fingerprint=")
    assert secret.hex() not in repr(Key(secret))


def test_base32_of_many_digests_at_once() -> None:
    digests = [os.urandom(32) for _ in range(500)]
    assert base32_prefix(b"".join(digests)) == b"".join(base64.b32encode(d)[:26] for d in digests)


def test_the_native_pseudonymiser_is_built_and_agrees_with_python() -> None:
    native = native_pseudonyms()
    if native is None:
        if os.environ.get("AGORIA_REQUIRE_NATIVE") or os.environ.get("CI") == "true":
            pytest.fail("the native pseudonymiser was not built (scripts/bootstrap.sh builds it)")
        pytest.skip("the native pseudonymiser is not built here")
    rng = random.Random(3)
    values: list[str | None] = []
    for _ in range(5000):
        choice = rng.random()
        if choice < 0.05:
            values.append(None)
        elif choice < 0.3 and values:
            values.append(values[-1])  # consecutive repeats: reused, not re-hashed
        else:
            values.append(
                "".join(rng.choice("0123456789ABCéz ") for _ in range(rng.randrange(0, 90)))
            )
    column = pa.array(values, type=pa.string())
    for secret in (os.urandom(32), os.urandom(100)):
        key = Key(secret)
        expected = [
            None if v is None or not v.strip() else reference(secret, v.strip().encode())
            for v in values
        ]
        assert native(secret, identifier_text(column)).to_pylist() == expected
        assert ColumnPseudonymiser(key)(column.slice(7)).to_pylist() == expected[7:]
        python = ColumnPseudonymiser(key)
        python._native = None  # the pure-Python path, as on a host without the library
        assert python(column).to_pylist() == expected


def test_key_files_are_checked_before_use(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    good = tmp_path / "keys" / "platform.key"
    key = create_key_file(good)
    assert oct(good.stat().st_mode & 0o777) == "0o600"
    assert load_key(good, home=home) == key
    with pytest.raises(InvalidInput, match="never overwritten"):
        create_key_file(good)
    with pytest.raises(InvalidInput, match="does not exist"):
        load_key(tmp_path / "missing.key", home=home)
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * 31)
    short.chmod(0o600)
    with pytest.raises(InvalidInput, match="holds 31 bytes: a key needs at least 32"):
        load_key(short, home=home)
    loose = tmp_path / "loose.key"
    loose.write_bytes(os.urandom(32))
    loose.chmod(0o640)
    with pytest.raises(InvalidInput, match="can be read by others"):
        load_key(loose, home=home)
    inside = home / "platform.key"
    inside.write_bytes(os.urandom(32))
    inside.chmod(0o600)
    with pytest.raises(ConfigurationError, match="inside the data directory"):
        load_key(inside, home=home)
    link = tmp_path / "link.key"
    link.symlink_to(inside)
    with pytest.raises(ConfigurationError, match="inside the data directory"):
        load_key(link, home=home)
    with pytest.raises(ConfigurationError, match="AGORIA_KEY_FILE"):
        key_path(None, environ={})
    assert key_path(None, environ={"AGORIA_KEY_FILE": str(good)}) == good


def test_identifiers_are_normalised_before_hashing() -> None:
    key = Key(os.urandom(32))
    composed, decomposed = "Hél\u00e8ne-1", "He\u0301le\u0300ne-1"
    column = pa.array([composed, decomposed, "  ", "", None, " P1 "], type=pa.string())
    for native in (True, False):
        pseudonymise = ColumnPseudonymiser(key)
        if not native:
            pseudonymise._native = None
        out = pseudonymise(column).to_pylist()
        assert out[0] == out[1] == reference(key.secret, composed.encode())
        assert out[2:5] == [None, None, None]  # blanks identify nobody: never one shared value
        assert out[5] == reference(key.secret, b"P1")


def test_a_symbolic_link_is_never_taken_for_the_key(tmp_path: Path) -> None:
    """A link in a shared (sticky) folder to a file of known content, owned by the
    platform's account, would make that content the key."""
    home = tmp_path / "home"
    home.mkdir()
    known = tmp_path / "private" / "known-content"
    known.parent.mkdir(mode=0o700)
    known.write_bytes(b"k" * 32)
    known.chmod(0o600)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    link = shared / "platform.key"
    link.symlink_to(known)
    with pytest.raises(InvalidInput, match="is a symbolic link: name the key file itself"):
        load_key(link, home=home)
    assert load_key(known, home=home).secret == b"k" * 32  # the file itself is a key
