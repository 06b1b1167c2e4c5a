"""What a workspace sees under /data: exactly its project's mountable versions, read-only,
with the project's own pseudonyms."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import Dataset, DatasetCopy, DatasetVersion, Project
from agoria_tre.config import Settings
from agoria_tre.testing.hub import Hub
from agoria_tre.testing.platform import TrialPlatform
from tests.workspaces.probes import run_json

pytestmark = pytest.mark.workspaces

LIST = """
import json, os
tree = {name: sorted(os.listdir(f"/data/{name}")) for name in sorted(os.listdir("/data"))}
print(json.dumps(tree))
"""


def test_data_holds_exactly_the_mountable_versions(hub: Hub, workspace: tuple[str, str]) -> None:
    # cardio: outcomes@1 revoked, adverse_events@1 expired (both granted to onco).
    assert run_json(hub, *workspace, LIST) == {"patients": ["v1"], "treatments": ["v1"]}


def test_another_project_sees_its_own(hub: Hub) -> None:
    hub.start("carol", "onco")
    try:
        assert run_json(hub, "carol", "onco", LIST) == {
            "adverse_events": ["v1"],
            "outcomes": ["v1"],
            "patients": ["v1"],
        }
    finally:
        hub.stop("carol", "onco")


def test_data_cannot_be_written(hub: Hub, workspace: tuple[str, str]) -> None:
    code = """
import errno, json, os
attempts = {}
def attempt(name, action):
    try:
        action()
        attempts[name] = "done"
    except OSError as exc:
        attempts[name] = errno.errorcode[exc.errno]
attempt("new file", lambda: open("/data/patients/v1/new.csv", "w"))
attempt("overwrite", lambda: open("/data/patients/v1/data.parquet", "r+b"))
attempt("delete", lambda: os.unlink("/data/patients/v1/manifest.json"))
attempt("mkdir", lambda: os.mkdir("/data/mine"))
attempt("chmod", lambda: os.chmod("/data/patients/v1/data.parquet", 0o666))
mounts = {}
for line in open("/proc/self/mountinfo"):
    fields = line.split()
    if fields[4].startswith("/data/"):
        mounts[fields[4]] = fields[5].split(",")[0]
print(json.dumps({"attempts": attempts, "mounts": mounts}))
"""
    found = run_json(hub, *workspace, code)
    assert isinstance(found, dict)
    assert set(found["attempts"].values()) <= {"EROFS", "EACCES", "EPERM"}, found
    # Read-only by the mount itself, whatever the files' modes say.
    assert found["mounts"] == {"/data/patients/v1": "ro", "/data/treatments/v1": "ro"}


def test_pseudonyms_are_the_projects_never_the_platforms(
    hub: Hub, platform: TrialPlatform, workspace: tuple[str, str]
) -> None:
    code = """
import json
import pyarrow.parquet as pq
print(json.dumps(pq.read_table("/data/patients/v1/data.parquet").column("ipp").to_pylist()))
"""
    seen = run_json(hub, *workspace, code)
    assert isinstance(seen, list)
    catalog = Catalog(Settings.from_env(platform.env))
    with catalog.read() as session:
        version = session.scalars(
            select(DatasetVersion).join(Dataset).where(Dataset.name == "patients")
        ).one()
        copy = session.scalars(
            select(DatasetCopy).where(
                DatasetCopy.dataset_version_id == version.id,
                DatasetCopy.project.has(Project.slug == "cardio"),
                DatasetCopy.removed_at.is_(None),
            )
        ).one()
        version_path, copy_path = version.storage_path, copy.storage_path
    catalog.dispose()
    platform_pseudonyms = set(
        pq.read_table(platform.home / version_path / "data.parquet").column("ipp").to_pylist()
    )
    project_pseudonyms = set(
        pq.read_table(platform.home / copy_path / "data.parquet").column("ipp").to_pylist()
    )
    assert len(seen) == len(platform_pseudonyms) > 0
    assert set(seen) == project_pseudonyms
    assert not set(seen) & platform_pseudonyms
