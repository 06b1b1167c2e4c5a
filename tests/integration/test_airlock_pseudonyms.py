"""The pseudonyms the airlock's check looks for (airlock/pseudonyms.py): those of every
project the requester belongs to, read once from each live copy's pseudonym columns."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from agoria_tre.airlock.pseudonyms import PseudonymCache
from agoria_tre.catalog import datasets
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import DatasetCopy, Role
from agoria_tre.catalog.projects import get_project
from agoria_tre.ingest.pipeline import DATA_FILE
from tests.factories import make_project

COLUMNS = [{"name": "pid", "role": "pseudonym"}, {"name": "age", "role": "attribute"}]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def copy_of(
    catalog: Catalog, project: str, name: str, pids: list[str | None], columns: list[dict[str, str]]
) -> None:
    home = catalog.settings.home
    folder = Path("copies") / project / name
    (home / folder).mkdir(parents=True)
    pq.write_table(pa.table({"pid": pids, "age": [40] * len(pids)}), home / folder / DATA_FILE)
    with catalog.write() as session:
        version = datasets.register_dataset_version(
            session, name=name, content_hash=digest(name), row_count=len(pids),
            schema={"columns": columns}, storage_path=f"datasets/{name}/v1",
            provenance={}, actor="data-manager",
        )  # fmt: skip
        session.add(
            DatasetCopy(
                project=get_project(session, project), dataset_version=version,
                storage_path=str(folder), content_hash=digest(str(folder)),
                row_count=len(pids), key_fingerprint="f" * 32,
            )
        )  # fmt: skip


def test_the_requesters_projects_pseudonyms_are_joined(catalog: Catalog, tmp_path: Path) -> None:
    make_project(catalog, "cardio", {"alice": [Role.RESEARCHER]})
    make_project(catalog, "onco", {"alice": [Role.REVIEWER]})
    make_project(catalog, "other", {"bob": [Role.RESEARCHER]})
    copy_of(catalog, "cardio", "patients", ["P1", "P2", None], COLUMNS)
    copy_of(catalog, "onco", "tumours", ["P3"], COLUMNS)
    copy_of(catalog, "cardio", "empty", [None, None], COLUMNS)  # no pseudonym in it
    copy_of(catalog, "cardio", "sites", ["X"], [{"name": "pid", "role": "attribute"}])
    copy_of(catalog, "other", "secret", ["Q9"], COLUMNS)
    cache = PseudonymCache(tmp_path / "cache", catalog.settings.home)
    with catalog.read() as session:
        joined = cache.file_for(session, "alice", tmp_path)
        assert joined is not None
        assert sorted(joined.read_text().split()) == ["P1", "P2", "P3"]
        cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
        assert len(cached) == 2  # one file per copy that holds pseudonyms
        assert cache.file_for(session, "alice", tmp_path) == joined  # read from the cache
        assert cache.file_for(session, "nobody", tmp_path) is None
