"""Building the workspace image when something is wrong: each failure is refused with a
message saying which step failed, and leaves no image under the name it would have had.

The successful build runs in the workspace tests (``prepare`` builds the image, or finds it
by its content hash); these run the real tools (debootstrap, tar, podman) into the failures.
"""

from __future__ import annotations

import http.server
import io
import json
import secrets
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import AuditEvent
from agoria_tre.errors import ConfigurationError
from agoria_tre.images import build
from agoria_tre.testing.platform import operator_env
from tests.integration.test_cli import agoria


@pytest.fixture
def podman(tmp_path: Path) -> build.Podman:
    return build.Podman(tmp_path / "run")


@pytest.fixture
def empty_base(podman: build.Podman) -> Iterator[str]:
    """An image with one file and no shell: anything the Containerfile runs fails in it."""
    reference = f"localhost/agoria-test-empty:{secrets.token_hex(4)}"
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo("etc/hostname")
        info.size = 6
        tar.addfile(info, io.BytesIO(b"empty\n"))
    podman.run("import", "-", reference, stdin=archive.getvalue())
    yield reference
    podman.run("image", "rm", "--ignore", reference)


@pytest.fixture
def mirror_that_has_nothing() -> Iterator[str]:
    """A Debian mirror on loopback that answers 404 to everything."""

    class Nothing(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(404)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Nothing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/debian"
    server.shutdown()
    server.server_close()


def test_a_base_image_the_runtime_lacks_is_refused(tmp_path: Path) -> None:
    env = operator_env({"AGORIA_HOME": str(tmp_path / "home"), "AGORIA_CACHE": str(tmp_path)})
    assert agoria(env, "init").code == 0
    refused = agoria(env, "image", "build", "--base", "localhost/agoria-absent:1")
    assert refused.code == 2
    assert "the base image localhost/agoria-absent:1 is not in the container runtime" in (
        refused.err
    )
    assert agoria(env, "image", "list", "--json").json() == []


def test_a_wheel_that_is_not_agoria_tres_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "pandas-3.0.0-py3-none-any.whl"
    other.write_bytes(b"PK")
    for wheel in (other, tmp_path / "agoria_tre-0.1.0-py3-none-any.whl"):  # the second: absent
        with pytest.raises(ConfigurationError, match="is not an agoria_tre wheel"):
            build.own_wheel(tmp_path / "dest", wheel)
    installed = tmp_path / "site-packages"  # installed from a wheel: no checkout to build
    installed.mkdir()
    with pytest.raises(ConfigurationError, match="not installed from a source checkout here"):
        build.own_wheel(tmp_path / "dest", None, source=installed)


def test_without_debootstrap_the_base_cannot_be_made(
    podman: build.Podman, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # debootstrap lives in /usr/sbin
    with pytest.raises(ConfigurationError, match="debootstrap is not installed"):
        build.ensure_base(podman, tmp_path / "cache", "http://127.0.0.1:9/debian", print)


def test_a_mirror_that_fails_stops_the_base_with_debootstraps_words(
    podman: build.Podman, tmp_path: Path, mirror_that_has_nothing: str
) -> None:
    steps: list[str] = []
    with pytest.raises(ConfigurationError, match=r"debootstrap failed: .*Release"):
        build.ensure_base(podman, tmp_path / "cache", mirror_that_has_nothing, steps.append)
    assert steps == [
        f"making the base root filesystem from {mirror_that_has_nothing} (debootstrap)"
    ]
    assert podman.image_id(build.base_reference(mirror_that_has_nothing)) is None
    assert list((tmp_path / "cache").iterdir()) == []  # the scratch root filesystem is gone


def test_an_import_that_fails_leaves_no_base(podman: build.Podman, tmp_path: Path) -> None:
    reference = f"localhost/agoria-test-base:{secrets.token_hex(4)}"
    with pytest.raises(ConfigurationError, match=r"importing the base image failed: tar: .*absent"):
        build.import_rootfs(podman, tmp_path / "absent", reference)
    assert podman.image_id(reference) is None
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    dangling = ("images", "--quiet", "--no-trunc", "--filter", "dangling=true")
    before = set(podman.run(*dangling).split())
    with pytest.raises(
        ConfigurationError, match=r"importing the base image failed: .*invalid reference format"
    ):
        build.import_rootfs(podman, rootfs, "Not A Valid Reference")
    for unnamed in set(podman.run(*dangling).split()) - before:  # stored, then not named
        podman.run("image", "rm", unnamed)


def test_a_failing_podman_build_is_reported_and_tags_nothing(
    podman: build.Podman, tmp_path: Path, empty_base: str
) -> None:
    containerfile, lock = build.workspace_files()
    elsewhere = Path(tempfile.mkdtemp(dir="/dev/shm"))
    ours = elsewhere / "agoria_tre-0.1.0-py3-none-any.whl"  # copied, as it cannot be linked
    ours.write_bytes(b"PK")
    reference = f"localhost/agoria-test-build:{secrets.token_hex(4)}"
    steps: list[str] = []
    with pytest.raises(ConfigurationError, match="podman build failed: "):
        build._build(
            podman, tmp_path / "cache", containerfile, lock, [], ours, empty_base, reference,
            steps.append,
        )  # fmt: skip
    shutil.rmtree(elsewhere)
    assert any("STEP 1/" in step and empty_base in step for step in steps)
    assert podman.image_id(reference) is None


def test_a_lock_version_the_registry_lacks_fails_the_download(tmp_path: Path) -> None:
    lock = b"agoria-tre-no-such-package==0.0.1\n"
    steps: list[str] = []
    with pytest.raises(ConfigurationError, match="pip download failed"):
        build.fill_wheelhouse(tmp_path / "wheels", lock, steps.append)
    assert steps == [f"downloading 1 Python packages into {tmp_path / 'wheels'}"]


def test_podman_failures_and_absence_are_configuration_errors(
    podman: build.Podman, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match=r"podman image failed: .*agoria-absent"):
        podman.run("image", "inspect", "localhost/agoria-absent:1")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConfigurationError, match="podman is not installed"):
        build.Podman(tmp_path / "run").run("info")


def test_an_image_rebuilt_under_the_same_inputs_is_recorded_with_its_new_id(
    catalog: Catalog,
) -> None:
    reference = "localhost/agoria-workspace:0123456789abcdef"
    args = (catalog, reference, "0123456789abcdef" * 4)
    build._record(*args, "sha256:aaa", "localhost/agoria-base:x", 10, "alice")
    build._record(*args, "sha256:aaa", "localhost/agoria-base:x", 10, "alice")  # unchanged
    build._record(*args, "sha256:bbb", "localhost/agoria-base:x", 12, "bob")
    (image,) = build.recorded(catalog)
    assert (image.reference, image.image_id) == (reference, "sha256:bbb")
    with catalog.read() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "image.record").order_by(AuditEvent.seq)
        ).all()
        assert [(e.actor, json.loads(e.details)["image_id"]) for e in events] == [
            ("alice", "sha256:aaa"),
            ("bob", "sha256:bbb"),
        ]
