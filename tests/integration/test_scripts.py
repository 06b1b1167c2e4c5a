"""The README's two commands, as a new operator runs them."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", readme, re.S)
    assert block is not None
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands_and_ci_runs_the_second() -> None:
    commands = _readme_commands()
    assert commands == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line.startswith("bash ")] == [commands[1]]


def test_demo_command_sets_up_a_verified_demo_project_and_can_run_again(tmp_path: Path) -> None:
    env = {**os.environ, "AGORIA_HOME": str(tmp_path / "home")}
    env.pop("AGORIA_KEY_FILE", None)
    env.pop("AGORIA_DB_URL", None)
    first = subprocess.run(
        ["bash", "scripts/demo.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "project demo-eap created" in first.stdout
    # init, project, 4 members (6), then 4 versions, 4 grants and 4 project copies
    assert "audit chain intact: 18 events" in first.stdout
    assert re.search(r"^demo-eap\s+2000\s", first.stdout, re.M), first.stdout  # a copy
    for user, role in [("alice", "researcher"), ("bob", "reviewer"), ("carol", "reviewer"),
                       ("dana", "lead")]:  # fmt: skip
        assert re.search(rf"^{user}\s+{role}\s", first.stdout, re.M), first.stdout
    again = subprocess.run(
        ["bash", "scripts/demo.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "project demo-eap already exists" in again.stdout
    assert "audit chain intact: 18 events" in again.stdout
    assert "copies agree with the grants in force" in again.stdout
    assert (tmp_path / "home" / "catalog.sqlite").exists()
    assert (tmp_path / "home").stat().st_mode & 0o777 == 0o700
