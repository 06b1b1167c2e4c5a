"""The workspace image the platform runs: built once, found again by its content hash,
recorded in the catalog, and the one every workspace container runs."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from agoria_tre.images import build
from agoria_tre.testing.hub import Hub
from agoria_tre.testing.platform import CACHE, TrialPlatform


def test_a_second_build_finds_the_image_by_its_content_hash(platform: TrialPlatform) -> None:
    done = platform.cli("image", "build", "--json")
    found = json.loads(done.stdout)
    assert found["built"] is False
    assert found["reference"].startswith("localhost/agoria-workspace:")
    assert found["reference"].endswith(found["content_hash"][:16])
    assert done.stderr == ""  # --json: no progress lines
    listed = json.loads(platform.cli("image", "list", "--json").stdout)[-1]  # the newest
    assert listed["reference"] == found["reference"]
    assert found["image_id"].startswith(listed["image_id"])
    table = platform.cli("image", "list").stdout
    assert found["reference"] in table.splitlines()[-1]


def test_workspaces_run_the_recorded_image(
    platform: TrialPlatform, hub: Hub, workspace: tuple[str, str]
) -> None:
    listed = json.loads(platform.cli("image", "list", "--json").stdout)[-1]  # what the hub runs
    user, project = workspace
    inspected = subprocess.run(
        [
            "podman",
            "ps",
            "--filter",
            f"label=org.agoria-tre.user={user}",
            "--filter",
            f"label=org.agoria-tre.project={project}",
            "--format",
            "{{.ImageID}}",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**platform.env, "CONTAINERS_CONF": str(platform.home / "run" / "containers.conf")},
    ).stdout.split()
    assert len(inspected) == 1
    assert listed["image_id"].startswith(inspected[0][:12])
    assert hub.run(user, project, "import agoria_tre.safe; print('ok')").strip() == "ok"


def test_the_lock_is_resolved_from_requirements_in_and_our_dependencies(
    platform: TrialPlatform, tmp_path: Path
) -> None:
    (wheel,) = (Path(CACHE) / "own-wheel").glob("agoria_tre-*.whl")  # the build made it
    output = tmp_path / "requirements.lock"
    done = platform.cli("image", "lock", "--wheel", str(wheel), "--output", str(output))
    pins = build.locked(output.read_bytes())
    assert done.stdout.strip() == f"{output}: {len(pins)} packages pinned"
    assert output.read_text().startswith(build.LOCK_HEADER)
    assert pins["jupyterhub"] == "5.5.4"
    assert pins["jupyterlab"].startswith("4.")
    assert "agoria-tre" not in pins
    ours = build.locked(build.workspace_files()[1])
    # Every package the packaged lock pins is still needed (versions may have moved on).
    assert set(ours) <= set(pins)


RETAG = "UPDATE workspace_images SET image_id = ? WHERE id = ?"


def test_an_image_that_is_not_the_recorded_one_is_not_run(
    platform: TrialPlatform, hub: Hub
) -> None:
    """Someone retagged the image in the runtime: its id no longer matches the catalog."""
    with sqlite3.connect(platform.home / "catalog.sqlite") as db:
        (row_id, recorded_id) = db.execute(
            "SELECT id, image_id FROM workspace_images ORDER BY id DESC LIMIT 1"
        ).fetchone()
        db.execute(RETAG, ("sha256:" + "0" * 64, row_id))
    try:
        message = hub.start_failure("carol", "onco")
        assert "the workspace image is not the one the platform recorded" in message
    finally:
        with sqlite3.connect(platform.home / "catalog.sqlite") as db:
            db.execute(RETAG, (recorded_id, row_id))
    hub.start("carol", "onco")
    hub.stop("carol", "onco")
