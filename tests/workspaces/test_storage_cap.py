"""A project's writable storage has a hard cap: filling it fails inside the workspace."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from agoria_tre.testing.hub import Hub
from agoria_tre.testing.platform import TrialPlatform
from tests.workspaces.conftest import STORAGE_CAP_MB
from tests.workspaces.probes import run_json

pytestmark = pytest.mark.workspaces

FILL = """
import errno, json, os
written = 0
error = None
block = os.urandom(1 << 20)
try:
    with open(PATH, "wb") as handle:
        for _ in range(LIMIT_MB):
            handle.write(block)
            handle.flush()
            written += 1
        os.fsync(handle.fileno())
except OSError as exc:
    error = errno.errorcode[exc.errno]
os.unlink(PATH)
print(json.dumps({"written_mb": written, "error": error}))
"""


def test_filling_the_project_storage_fails_inside_and_spares_the_host(
    hub: Hub, platform: TrialPlatform, workspace: tuple[str, str]
) -> None:
    free_before = shutil.disk_usage(platform.home).free
    for path in ("/project/big.bin", "/home/researcher/big.bin"):
        code = FILL.replace("PATH", repr(path)).replace("LIMIT_MB", str(STORAGE_CAP_MB * 2))
        found = run_json(hub, *workspace, code)
        assert isinstance(found, dict)
        assert found["error"] == "ENOSPC", found
        assert found["written_mb"] < STORAGE_CAP_MB
    shown = json.loads(platform.cli("project", "show", "cardio", "--json").stdout)
    image = platform.home / "workspaces" / f"{shown['uid']}.img"
    assert image.stat().st_size == STORAGE_CAP_MB << 20
    assert os.stat(image).st_blocks * 512 <= STORAGE_CAP_MB << 20
    # The host lost at most the cap, whatever was written inside.
    assert free_before - shutil.disk_usage(platform.home).free < STORAGE_CAP_MB << 20
