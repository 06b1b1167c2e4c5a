"""The airlock's content store (airlock/store.py): contents once, named by their SHA-256,
whole or absent, verified when read; and item names that are names, never paths."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from agoria_tre.airlock.store import MAX_NAME_BYTES, ContentStore, CorruptContent, item_name
from agoria_tre.errors import InvalidInput, NotFound

TABLE = b"sex,n\nF,40\nM,52\n"


def test_a_content_is_stored_once_under_its_hash(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "store")
    digest = store.put(TABLE)
    assert digest == hashlib.sha256(TABLE).hexdigest()
    assert store.put(TABLE) == digest
    assert store.get(digest) == TABLE
    assert store.has(digest)
    files = [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert files == [store.path(digest)]
    assert stat.S_IMODE((tmp_path / "store").stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path(digest).stat().st_mode) == 0o600


def test_a_content_changed_on_disk_is_never_served(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    digest = store.put(TABLE)
    store.path(digest).write_bytes(TABLE.replace(b"40", b"4"))
    with pytest.raises(CorruptContent, match="was changed on disk") as refused:
        store.get(digest)
    assert refused.value.exit_code == 1


def test_a_link_or_a_folder_in_place_of_a_content_is_refused(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "store")
    secret = tmp_path / "elsewhere.csv"
    secret.write_bytes(b"sex,n\nF,1\n")
    digest = hashlib.sha256(secret.read_bytes()).hexdigest()
    store.path(digest).parent.mkdir()
    store.path(digest).symlink_to(secret)  # the same bytes, but not the store's
    with pytest.raises(CorruptContent, match="replaced on disk"):
        store.get(digest)
    other = hashlib.sha256(b"x").hexdigest()
    store.path(other).parent.mkdir(exist_ok=True)
    store.path(other).mkdir()
    with pytest.raises(CorruptContent, match="replaced on disk"):
        store.get(other)


def test_a_missing_content_and_a_malformed_hash_are_refused(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    with pytest.raises(NotFound, match="no stored content"):
        store.get("0" * 64)
    assert not store.has("0" * 64)
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63, ""):
        with pytest.raises(InvalidInput, match="is not a SHA-256"):
            store.get(bad)


def test_a_write_that_fails_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ContentStore(tmp_path)

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        store.put(TABLE)
    monkeypatch.undo()
    assert not store.has(hashlib.sha256(TABLE).hexdigest())
    assert list((tmp_path / ".incoming").iterdir()) == []


def test_what_a_crash_left_is_swept(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    (tmp_path / ".incoming" / "abc.123").write_bytes(b"half a tab")
    assert store.sweep() == 1
    assert store.sweep() == 0


@pytest.mark.parametrize(
    "name", ["table 1.csv", "résultats.csv", ".hidden.csv", "x" * MAX_NAME_BYTES]
)
def test_a_file_name_is_kept_as_given(name: str) -> None:
    assert item_name(name) == name


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "needs a name"),
        ("   ", "needs a name"),
        ("../secrets.csv", "is a path"),
        ("/etc/passwd", "is a path"),
        ("outputs\\t.csv", "is a path"),
        ("..", "is not a file name"),
        (".", "is not a file name"),
        ("t\x00.csv", "control characters"),
        ("t\n.csv", "control characters"),
        ("t\x7f.csv", "control characters"),
        (" t.csv", "starts or ends with spaces"),
        ("é" * 128, "at most 255 bytes"),
    ],
)
def test_a_name_that_is_not_a_file_name_is_refused(raw: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        item_name(raw)
