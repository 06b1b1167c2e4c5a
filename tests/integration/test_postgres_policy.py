"""PostgreSQL tests skip, saying why, only outside CI; under CI=true they fail instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ONE_PG_TEST = "tests/integration/test_catalog.py::test_init_is_idempotent[postgresql]"


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "AGORIA_REQUIRE_POSTGRES")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         f"--basetemp={tmp_path / 'inner'}", ONE_PG_TEST],
        cwd=ROOT, env={**base, "AGORIA_PG_BINDIR": str(tmp_path / "none"), **env},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_without_a_server_the_postgresql_tests_skip_and_say_why(tmp_path: Path) -> None:
    run = _pytest(tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout
    assert "PostgreSQL tests skipped: no server could be started here" in run.stdout


def test_under_ci_a_missing_server_is_a_failure(tmp_path: Path) -> None:
    run = _pytest(tmp_path, CI="true")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "PostgreSQL is required here (CI) but could not be started" in run.stdout
    assert "skipped" not in run.stdout
