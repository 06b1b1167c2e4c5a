"""The wheel is the whole product: built from a clean checkout, it carries the native
pseudonymiser (compiled by the build backend) and the workspace image's recipe."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built by pip from the repository's tracked files only (a clean checkout)."""
    checkout = tmp_path_factory.mktemp("checkout")
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, tracked):
        source = ROOT / os.fsdecode(name)
        if source.is_file():
            target = checkout / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    assert not list(checkout.rglob("*.so")), "the checkout must not carry a built library"
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(checkout)],
        check=True,
        env={**os.environ, "AGORIA_REQUIRE_NATIVE": "1"},
    )  # fmt: skip
    (built,) = out.glob("agoria_tre-*.whl")
    return built


def test_the_wheel_carries_the_native_pseudonymiser(wheel: Path) -> None:
    assert wheel.name.endswith("-py3-none-linux_x86_64.whl")  # a platform wheel, any Python 3
    names = zipfile.ZipFile(wheel).namelist()
    assert "agoria_tre/ingest/native/libagoria_pseudonym.so" in names
    assert "agoria_tre/images/workspace/Containerfile" in names
    assert "agoria_tre/images/workspace/requirements.lock" in names
    assert "agoria_tre/hub/jupyterhub_config.py" in names
    assert "agoria_tre/hub/templates/home.html" in names


def test_an_installed_wheel_pseudonymises_natively(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
         str(target), str(wheel)],
        check=True,
    )  # fmt: skip
    probe = """
import pyarrow as pa
from agoria_tre.ingest import keys
from agoria_tre.ingest.pipeline import ColumnPseudonymiser
native = keys.native_pseudonyms()
assert native is not None, "no native library"
print(keys.native_library_path())
secret = bytes(range(32))
column = pa.array(["080000001", "080000002", None, "080000001"])
python = ColumnPseudonymiser(keys.Key(secret))
python._native = None
assert native(secret, column).to_pylist() == python(column).to_pylist()
"""
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(str(target))


def test_without_a_compiler_the_wheel_falls_back_to_python(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "src", checkout / "src", ignore=shutil.ignore_patterns("*.so"))
    for name in ("pyproject.toml", "hatch_build.py", "README.md"):
        shutil.copy2(ROOT / name, checkout / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path / "dist"), str(checkout)],
        env={**os.environ, "CC": "/nonexistent/cc", "AGORIA_REQUIRE_NATIVE": ""},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (built,) = (tmp_path / "dist").glob("*.whl")
    assert (
        "agoria_tre/ingest/native/libagoria_pseudonym.so" not in zipfile.ZipFile(built).namelist()
    )
