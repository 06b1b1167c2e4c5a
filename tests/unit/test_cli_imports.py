"""``agoria-tre --help`` answers at once: the command line imports the heavy libraries
(SQLAlchemy, Alembic, pyarrow, pandas, the disclosure checker's numpy and scipy) only inside
the commands that use them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agoria_tre.testing.platform import operator_env

HEAVY = ["sqlalchemy", "alembic", "pyarrow", "pandas", "numpy", "scipy", "statsmodels"]
HEAVY += ["matplotlib", "PIL"]
AGORIA = str(Path(sys.executable).with_name("agoria-tre"))
GROUPS = ["audit", "check", "dataset", "demo-data", "grant", "init", "key", "member", "project"]


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_importing_the_cli_loads_no_heavy_library() -> None:
    out = _python(
        "import json, sys, agoria_tre.cli.main\n"
        f"heavy = set({HEAVY!r}) & {{m.split('.')[0] for m in sys.modules}}\n"
        "print(json.dumps(sorted(heavy)))"
    )
    assert json.loads(out) == []


def test_the_enums_are_the_models_ones() -> None:
    from agoria_tre.catalog import enums, models

    assert (models.Role, models.ProjectStatus) == (enums.Role, enums.ProjectStatus)


@pytest.mark.parametrize("args", [["--help"], ["project", "--help"], ["--version"]], ids=" ".join)
def test_help_and_version_answer_without_a_catalog(tmp_path: Path, args: list[str]) -> None:
    done = subprocess.run(
        [AGORIA, *args],
        env=operator_env({"AGORIA_HOME": str(tmp_path / "h")}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    if args == ["--help"]:
        listed = done.stdout.split("Commands:\n", 1)[1].split()
        assert all(group in listed for group in GROUPS), done.stdout
    assert not (tmp_path / "h").exists()
