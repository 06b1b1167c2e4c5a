"""What the workspace image is built from: the lock, the host's mirror, the content hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from agoria_tre.errors import ConfigurationError
from agoria_tre.images import build


def test_the_lock_pins_every_package() -> None:
    containerfile, lock = build.workspace_files()
    pins = build.locked(lock)
    assert pins["jupyterhub"] == "5.5.4"
    assert {"jupyterlab", "pandas", "statsmodels", "scikit-learn", "matplotlib", "pyarrow"} <= set(
        pins
    )
    assert "agoria-tre" not in pins  # this installation's own wheel is added at build time
    assert b"--network" not in containerfile  # the platform decides that, not the recipe
    assert b"USER 1000:1000" in containerfile
    assert b'ENTRYPOINT ["tini"' in containerfile


def test_a_lock_line_that_is_not_a_pin_is_refused() -> None:
    assert build.locked(b"# comment\n\nPandas==3.1.1  # why\n") == {"pandas": "3.1.1"}
    with pytest.raises(ConfigurationError, match="is not NAME==VERSION"):
        build.locked(b"pandas>=3\n")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_hosts_mirror_is_read_from_its_apt_sources(tmp_path: Path) -> None:
    write(
        tmp_path / "sources.list.d" / "debian.sources",
        "Types: deb\nURIs: http://deb.debian.org/debian/\nSuites: bookworm\n",
    )
    assert build.debian_mirror(tmp_path) == "http://deb.debian.org/debian"
    one_line = tmp_path / "one"
    write(
        one_line / "sources.list",
        "deb [arch=amd64] https://mirror.chu.example/debian bookworm main\n",
    )
    assert build.debian_mirror(one_line) == "https://mirror.chu.example/debian"


def test_without_a_debian_mirror_the_operator_is_asked_for_one(tmp_path: Path) -> None:
    write(
        tmp_path / "sources.list.d" / "other.list",
        "deb https://apt.example.org/tools stable main\n",
    )
    with pytest.raises(ConfigurationError, match="pass --mirror URL"):
        build.debian_mirror(tmp_path)


def test_the_content_hash_covers_every_input() -> None:
    base = build.content_hash(b"FROM x", b"a==1\n", "w" * 64, "sha256:base")
    assert len(base) == 64
    assert base == build.content_hash(b"FROM x", b"a==1\n", "w" * 64, "sha256:base")
    for changed in (
        build.content_hash(b"FROM y", b"a==1\n", "w" * 64, "sha256:base"),
        build.content_hash(b"FROM x", b"a==2\n", "w" * 64, "sha256:base"),
        build.content_hash(b"FROM x", b"a==1\n", "v" * 64, "sha256:base"),
        build.content_hash(b"FROM x", b"a==1\n", "w" * 64, "sha256:other"),
        build.content_hash(b"FROM x", b"a==1\n" + b"w", "w" * 63, "sha256:base"),
    ):
        assert changed != base


def test_the_base_is_named_by_its_inputs() -> None:
    one = build.base_reference("http://deb.debian.org/debian")
    assert one.startswith("localhost/agoria-base:bookworm-")
    assert one == build.base_reference("http://deb.debian.org/debian")
    assert one != build.base_reference("http://mirror.chu.example/debian")


def test_a_given_wheel_must_be_ours(tmp_path: Path) -> None:
    other = tmp_path / "numpy-2.0-py3-none-any.whl"
    other.write_bytes(b"PK")
    with pytest.raises(ConfigurationError, match="is not an agoria_tre wheel"):
        build.own_wheel(tmp_path / "out", other)
    ours = tmp_path / "agoria_tre-0.1.0-py3-none-linux_x86_64.whl"
    ours.write_bytes(b"PK")
    assert build.own_wheel(tmp_path / "out", ours) == ours
