"""Ingest: the synthetic hospital extracts in, pseudonymised immutable versions out; project
copies that link within a project and not across projects."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from agoria_tre.catalog import datasets, grants, projects
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import AuditEvent, DatasetCopy
from agoria_tre.ingest import copies, demo
from agoria_tre.ingest.keys import Key, create_key_file
from agoria_tre.ingest.pipeline import IngestOptions, IngestResult, ingest
from agoria_tre.names import DatasetRef
from tests.factories import ADMIN, make_project
from tests.support import snapshot

PATIENTS = IngestOptions(
    name="patients",
    id_columns=("ipp",),
    drop=("nom", "prenom", "nir", "adresse", "telephone"),
    date_of_birth=("date_naissance",),
    quasi=("sexe", "departement"),
)


def by_ipp(name: str, *attributes: str) -> IngestOptions:
    return IngestOptions(name=name, id_columns=("ipp",), attributes=attributes)


def profiled(files: demo.DemoFiles, extract: str, name: str | None = None) -> IngestOptions:
    """Options for a demo extract: its own ingest profile, under ``name``."""
    return IngestOptions(name=name or extract, profile=files.profile(extract))


@pytest.fixture(scope="module")
def extracts(tmp_path_factory: pytest.TempPathFactory) -> demo.DemoFiles:
    return demo.generate(tmp_path_factory.mktemp("extracts"), patients=300, seed=11)


@pytest.fixture
def key(tmp_path: Path) -> Key:
    return create_key_file(tmp_path / "keys" / "platform.key")


def ingest_all(catalog: Catalog, files: demo.DemoFiles, key: Key) -> dict[str, IngestResult]:
    results = {"patients": ingest(catalog, files.patients, PATIENTS, key=key, actor="dm")}
    for name, path in (
        ("treatments", files.treatments),
        ("adverse_events", files.adverse_events),
        ("outcomes", files.outcomes),
    ):
        results[name] = ingest(catalog, path, profiled(files, name), key=key, actor="dm")
    return results


def grant(catalog: Catalog, slug: str, ref: DatasetRef, *, start: date | None = None) -> None:
    with catalog.write() as session:
        grants.add_grant(
            session,
            slug=slug,
            ref=ref,
            reference="CESREES-2026-042",
            valid_until=grants.today(catalog.settings.timezone) + timedelta(days=365),
            valid_from=start,
            actor=ADMIN,
            tz=catalog.settings.timezone,
        )


def raw_identifiers(files: demo.DemoFiles) -> set[str]:
    """What must never be written: the generator's names, NIRs, addresses, phones, birth
    dates and hospital patient numbers."""
    with files.patients.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found = set()
    for row in rows:
        for column in ("ipp", "nom", "prenom", "nir", "adresse", "telephone", "date_naissance"):
            found.add(row[column])
    return found


def every_text(home: Path, catalog: Catalog) -> Iterator[tuple[str, bytes]]:
    """Every byte the platform wrote: files as stored, Parquet decompressed, the catalog."""
    for path in sorted(home.rglob("*")):
        if path.is_file():
            yield str(path), path.read_bytes()
            if path.suffix == ".parquet":
                table = pq.read_table(path)
                yield (
                    f"{path} (decoded)",
                    json.dumps(table.to_pylist(), default=str, ensure_ascii=False).encode(),
                )
    yield "catalog", repr(snapshot(catalog)).encode()


def find_any(needles: set[str], haystack: bytes) -> list[str]:
    """Needles found as whole tokens ("ROUX" inside a base32 pseudonym is not a name)."""
    alternatives = "|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True))
    pattern = re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")
    text = haystack.decode("utf-8", errors="replace")
    return sorted(set(pattern.findall(text)))[:5]


def test_no_raw_identifier_is_written_anywhere(
    catalog: Catalog, extracts: demo.DemoFiles, key: Key
) -> None:
    ingest_all(catalog, extracts, key)
    make_project(catalog, "cardio")
    for name in ("patients", "treatments", "adverse_events", "outcomes"):
        grant(catalog, "cardio", DatasetRef(name, 1))
    changes = copies.reconcile(catalog, key)
    assert sorted(c.action for c in changes) == ["created"] * 4
    needles = raw_identifiers(extracts)
    assert find_any(needles, extracts.patients.read_bytes())  # the scan finds them in sources
    for where, data in every_text(catalog.settings.home, catalog):
        assert find_any(needles, data) == [], where


def test_manifest_hashes_match_the_files_and_the_catalog(
    catalog: Catalog, extracts: demo.DemoFiles, key: Key
) -> None:
    result = ingest(catalog, extracts.patients, PATIENTS, key=key, actor="dm")
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest == result.manifest
    (entry,) = manifest["files"]
    data = (result.path / entry["path"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert entry["bytes"] == len(data)
    source = manifest["sources"][0]
    assert source["sha256"] == hashlib.sha256(extracts.patients.read_bytes()).hexdigest()
    assert source["rows"] == manifest["row_count"] == extracts.counts["patients"]
    assert manifest["key_fingerprint"] == key.fingerprint
    assert key.secret.hex() not in json.dumps(manifest)
    with catalog.read() as session:
        version = datasets.get_version(session, result.ref)
        assert version.content_hash == entry["sha256"]
        assert version.row_count == manifest["row_count"]
        assert (
            version.provenance["manifest_sha256"]
            == hashlib.sha256((result.path / "manifest.json").read_bytes()).hexdigest()
        )
        assert version.storage_path == "datasets/patients/v1"
    assert [c["name"] for c in manifest["columns"]] == [
        "ipp", "date_naissance", "sexe", "departement"
    ]  # fmt: skip
    table = pq.read_table(result.path / "data.parquet")
    years = set(table.column("date_naissance").to_pylist())
    assert all(isinstance(y, int) and 1935 <= y <= 2005 for y in years)
    assert str(table.schema.field("date_naissance").type) == "int16"
    assert "48" in table.column("departement").to_pylist()  # codes keep their leading zeros
    assert "06" in table.column("departement").to_pylist()


def test_pseudonyms_are_hmac_sha256_base32_stable_for_a_key_and_differ_between_keys(
    catalog: Catalog, extracts: demo.DemoFiles, key: Key, tmp_path: Path
) -> None:
    first = ingest(catalog, extracts.outcomes, profiled(extracts, "outcomes"), key=key, actor="dm")
    again = ingest(catalog, extracts.outcomes, profiled(extracts, "outcomes"), key=key, actor="dm")
    other_key = create_key_file(tmp_path / "other" / "platform.key")
    other = ingest(
        catalog,
        extracts.outcomes,
        profiled(extracts, "outcomes", "outcomes2"),
        key=other_key,
        actor="dm",
    )
    column = [pq.read_table(r.path / "data.parquet").column("ipp").to_pylist() for r in
              (first, again, other)]  # fmt: skip
    assert (first.ref, again.ref) == (DatasetRef("outcomes", 1), DatasetRef("outcomes", 2))
    assert column[0] == column[1]
    assert not set(column[0]) & set(column[2])
    with extracts.outcomes.open(encoding="utf-8") as handle:
        raw = [row["ipp"] for row in csv.DictReader(handle)]
    expected = [
        base64.b32encode(hmac.new(key.secret, v.encode(), hashlib.sha256).digest())[:26].decode()
        for v in raw
    ]
    assert column[0] == expected


def test_project_copies_link_within_a_project_and_not_across(
    catalog: Catalog, extracts: demo.DemoFiles, key: Key
) -> None:
    versions = ingest_all(catalog, extracts, key)
    for slug in ("alpha", "beta"):
        make_project(catalog, slug)
        grant(catalog, slug, versions["patients"].ref)
        grant(catalog, slug, versions["adverse_events"].ref)
    copies.reconcile(catalog, key)
    home = catalog.settings.home

    def table(slug: str, name: str) -> pa.Table:
        with catalog.read() as session:
            (held,) = [
                c for c in copies.live_copies(session)
                if c.project.slug == slug and c.dataset_version.dataset.name == name
            ]  # fmt: skip
            path = home / held.storage_path / "data.parquet"
        return pq.read_table(path)

    def copy(slug: str, name: str) -> set[str]:
        return set(table(slug, name).column("ipp").to_pylist())

    # A researcher's join: every adverse event finds its patient within a project...
    within = table("alpha", "patients").join(
        table("alpha", "adverse_events"), "ipp", join_type="inner"
    )
    assert within.num_rows == extracts.counts["adverse_events"]
    # ... and nothing across projects.
    across = table("alpha", "patients").join(
        table("beta", "adverse_events"), "ipp", join_type="inner"
    )
    assert across.num_rows == 0
    alpha_patients, alpha_events = copy("alpha", "patients"), copy("alpha", "adverse_events")
    beta_patients, beta_events = copy("beta", "patients"), copy("beta", "adverse_events")
    platform = set(
        pq.read_table(versions["patients"].path / "data.parquet").column("ipp").to_pylist()
    )
    assert alpha_events <= alpha_patients
    assert beta_events <= beta_patients
    assert alpha_events
    assert not alpha_patients & beta_patients  # across projects: nothing links
    assert not alpha_patients & beta_events
    assert not (alpha_patients | beta_patients) & platform  # copies never show platform ones
    assert len(alpha_patients) == len(platform)
    with catalog.read() as session:
        version = datasets.get_version(session, versions["patients"].ref)
        assert sorted(c.project.slug for c in copies.holders(session, version)) == [
            "alpha", "beta"
        ]  # fmt: skip


def test_copies_follow_grants_and_workspaces_stop_first(
    catalog: Catalog, extracts: demo.DemoFiles, key: Key
) -> None:
    result = ingest(catalog, extracts.outcomes, profiled(extracts, "outcomes"), key=key, actor="dm")
    make_project(catalog, "gamma")
    today = grants.today(catalog.settings.timezone)  # Paris' day, not the machine's
    tomorrow = today + timedelta(days=1)
    grant(catalog, "gamma", result.ref, start=tomorrow)
    assert [c.action for c in copies.reconcile(catalog, key)] == []
    later = (today + timedelta(days=2)).isoformat()
    then = datetime.fromisoformat(f"{later}T12:00:00+01:00")
    (made,) = copies.reconcile(catalog, key, now=then)
    assert made.action == "created"
    path = catalog.settings.home / made.path
    assert (path / "data.parquet").is_file()
    assert copies.reconcile(catalog, key, now=then) == []  # idempotent

    seen: list[tuple[str, list[str], bool]] = []

    def refuse(slug: str, labels: object) -> None:
        raise RuntimeError("workspace still running")

    def stop(slug: str, labels: object) -> None:
        seen.append((slug, list(labels), path.exists()))  # type: ignore[call-overload]

    with catalog.write() as session:
        grants.revoke_grant(
            session, slug="gamma", ref=result.ref, actor=ADMIN, tz=catalog.settings.timezone
        )
    (kept,) = copies.reconcile(catalog, key, now=then, stop_workspaces=refuse)
    assert kept.action == "failed"
    assert "workspace still running" in kept.detail
    assert path.exists()
    (removed,) = copies.reconcile(catalog, None, now=then, stop_workspaces=stop)
    assert removed.action == "removed"
    assert seen == [("gamma", ["outcomes@1"], True)]  # stopped while the copy still existed
    assert not path.exists()
    with catalog.read() as session:
        (row,) = session.scalars(select(DatasetCopy)).all()
        assert row.removed_at is not None
        actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
    assert actions.count("copy.create") == actions.count("copy.remove") == 1
    assert actions.index("copy.create") < actions.index("copy.remove")


def test_copies_end_with_the_grant_or_the_project(
    catalog: Catalog, extracts: demo.DemoFiles, key: Key
) -> None:
    result = ingest(catalog, extracts.outcomes, profiled(extracts, "outcomes"), key=key, actor="dm")
    make_project(catalog, "delta")
    grant(catalog, "delta", result.ref)
    assert [c.action for c in copies.reconcile(catalog, key)] == ["created"]
    today = grants.today(catalog.settings.timezone)
    after = datetime.fromisoformat(f"{today + timedelta(days=400)}T12:00:00+00:00")
    assert [c.action for c in copies.reconcile(catalog, key, now=after)] == ["removed"]
    make_project(catalog, "epsilon")
    grant(catalog, "epsilon", result.ref)
    assert [c.action for c in copies.reconcile(catalog, key, project="epsilon")] == ["created"]
    with catalog.write() as session:
        projects.archive_project(session, slug="epsilon", actor=ADMIN)
    removed = copies.reconcile(catalog, None, project="epsilon")
    assert [(c.project, c.action) for c in removed] == [("epsilon", "removed")]


def test_without_a_key_copies_are_pending_and_a_wrong_key_is_refused(
    catalog: Catalog, extracts: demo.DemoFiles, key: Key, tmp_path: Path
) -> None:
    result = ingest(catalog, extracts.outcomes, profiled(extracts, "outcomes"), key=key, actor="dm")
    make_project(catalog, "zeta")
    grant(catalog, "zeta", result.ref)
    (pending,) = copies.reconcile(catalog, None)
    assert pending.action == "pending"
    wrong = create_key_file(tmp_path / "wrong" / "k")
    (failed,) = copies.reconcile(catalog, wrong)
    assert failed.action == "failed"
    assert "another platform key" in failed.detail
    with catalog.read() as session:
        assert copies.live_copies(session) == []


def test_k_anonymity_report_on_quasi_identifiers(
    catalog: Catalog, key: Key, tmp_path: Path
) -> None:
    rows = ["id,sexe,dep"] + [f"P{i},F,75" for i in range(11)] + [f"Q{i},M,48" for i in range(3)]
    source = tmp_path / "k.csv"
    source.write_text("\n".join(rows) + "\n")
    options = IngestOptions(name="kanon", id_columns=("id",), quasi=("sexe", "dep"))
    report = ingest(catalog, source, options, key=key, actor="dm").manifest["k_anonymity"]
    assert report == {
        "quasi_identifiers": ["sexe", "dep"],
        "threshold": 11,
        "records": 14,
        "classes": 2,
        "smallest_class": 3,
        "classes_under_threshold": 1,
        "records_in_classes_under_threshold": 3,
        "share_in_classes_under_threshold": round(3 / 14, 6),
        "k_anonymous": False,
    }


def test_windows_exports_are_read_as_cp1252(catalog: Catalog, key: Key, tmp_path: Path) -> None:
    source = tmp_path / "win.csv"
    note = "cœur à 5 €, l\u2019effet"  # a curly apostrophe, as Word types it
    source.write_bytes(f"ipp;note\n1;{note}\n".encode("cp1252"))
    result = ingest(catalog, source, by_ipp("win", "note"), key=key, actor="dm")
    assert pq.read_table(result.path / "data.parquet").column("note").to_pylist() == [note]


def test_types_dates_and_encodings(catalog: Catalog, key: Key, tmp_path: Path) -> None:
    text = (
        "ipp;naissance;dep;dose;grade;debut;note\n"
        "001;12/03/1950;06;12,5;3;2024-01-08;Nausée\n"
        "002;1961-11-30;2A;7;1;2024-02-01;\n"
    )
    source = tmp_path / "latin.csv"
    source.write_bytes(text.encode("latin-1"))
    options = IngestOptions(
        name="typed",
        id_columns=("ipp",),
        date_of_birth=("naissance",),
        birth_precision="month",
        attributes=("dep", "dose", "grade", "debut", "note"),
    )
    result = ingest(catalog, source, options, key=key, actor="dm")
    table = pq.read_table(result.path / "data.parquet")
    assert table.column("naissance").to_pylist() == ["1950-03", "1961-11"]
    assert table.column("dep").to_pylist() == ["06", "2A"]
    assert table.column("dose").to_pylist() == [12.5, 7.0]
    assert table.column("grade").to_pylist() == [3, 1]
    assert table.column("debut").to_pylist() == [date(2024, 1, 8), date(2024, 2, 1)]
    assert table.column("note").to_pylist() == ["Nausée", None]
    assert result.manifest["sources"][0]["encoding"] == "cp1252"  # Latin-1's superset
    assert result.manifest["sources"][0]["delimiter"] == ";"


def test_a_folder_of_parts_and_parquet_sources(
    catalog: Catalog, key: Key, tmp_path: Path, extracts: demo.DemoFiles
) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    lines = extracts.treatments.read_text().splitlines()
    half = len(lines) // 2
    (folder / "a.csv").write_text("\n".join(lines[:half]) + "\n")
    (folder / "b.csv").write_text("\n".join([lines[0], *lines[half:]]) + "\n")
    from_parts = ingest(
        catalog, folder, profiled(extracts, "treatments", "parts"), key=key, actor="dm"
    )
    whole = ingest(
        catalog, extracts.treatments, profiled(extracts, "treatments", "whole"), key=key, actor="dm"
    )
    assert from_parts.manifest["row_count"] == whole.manifest["row_count"]
    assert [s["file"] for s in from_parts.manifest["sources"]] == ["a.csv", "b.csv"]
    parquet = tmp_path / "t.parquet"
    pq.write_table(pq.read_table(whole.path / "data.parquet"), parquet)
    again = ingest(
        catalog, parquet, profiled(extracts, "treatments", "from_parquet"), key=key, actor="dm"
    )
    assert again.manifest["row_count"] == whole.manifest["row_count"]


def test_demo_cohort_is_deterministic_and_plants_rare_groups(tmp_path: Path) -> None:
    one = demo.generate(tmp_path / "a", patients=400, seed=5)
    two = demo.generate(tmp_path / "b", patients=400, seed=5)
    three = demo.generate(tmp_path / "c", patients=400, seed=6)
    for name in ("patients", "treatments", "adverse_events", "outcomes"):
        assert getattr(one, name).read_bytes() == getattr(two, name).read_bytes()
    assert one.patients.read_bytes() != three.patients.read_bytes()
    with one.patients.open(encoding="utf-8") as handle:
        patients = list(csv.DictReader(handle))
    assert sum(p["departement"] == demo.RARE_DEPARTEMENT for p in patients) == 3
    for patient in patients:
        nir = patient["nir"]
        assert len(nir) == 15
        assert int(nir[-2:]) == demo.nir_key(nir[:-2])
    with one.adverse_events.open(encoding="latin-1") as handle:
        events = list(csv.DictReader(handle, delimiter=";"))
    fatal = [e for e in events if e["grade"] == "5"]
    assert len(fatal) == 2
    assert {e["terme"] for e in fatal} == {demo.FATAL_TERM}


def test_a_signal_held_through_the_commit_keeps_the_registered_version(
    catalog: Catalog, extracts: demo.DemoFiles, key: Key, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    from agoria_tre import audit

    flush = audit.flush_pending_anchor

    def interrupted_flush(session: object) -> None:
        signal.raise_signal(signal.SIGINT)  # held by Catalog.write, raised after the commit
        flush(session)  # type: ignore[arg-type]

    monkeypatch.setattr(audit, "flush_pending_anchor", interrupted_flush)
    with pytest.raises(KeyboardInterrupt):
        ingest(
            catalog, extracts.outcomes, profiled(extracts, "outcomes", "late"), key=key, actor="dm"
        )
    monkeypatch.setattr(audit, "flush_pending_anchor", flush)
    with catalog.read() as session:
        version = datasets.get_version(session, DatasetRef("late", 1))
        stored = catalog.settings.home / version.storage_path
    assert (stored / "data.parquet").is_file()
    assert hashlib.sha256((stored / "data.parquet").read_bytes()).hexdigest() == (
        version.content_hash
    )


def test_copies_do_not_keep_the_versions_row_order(
    catalog: Catalog, extracts: demo.DemoFiles, key: Key
) -> None:
    result = ingest(
        catalog, extracts.treatments, profiled(extracts, "treatments"), key=key, actor="dm"
    )
    for slug in ("alpha", "beta"):
        make_project(catalog, slug)
        grant(catalog, slug, result.ref)
    copies.reconcile(catalog, key)
    home = catalog.settings.home
    with catalog.read() as session:
        paths = {c.project.slug: home / c.storage_path / "data.parquet" for c in
                 copies.live_copies(session)}  # fmt: skip
    alpha, beta = (pq.read_table(paths[s]) for s in ("alpha", "beta"))
    version = pq.read_table(result.path / "data.parquet")
    assert alpha.num_rows == beta.num_rows == version.num_rows
    assert alpha.column("ipp").to_pylist() == sorted(alpha.column("ipp").to_pylist())
    rest = [c for c in version.column_names if c != "ipp"]
    assert alpha.select(rest).to_pylist() != beta.select(rest).to_pylist()  # no row N = row N
    assert sorted(map(str, alpha.select(rest).to_pylist())) == sorted(
        map(str, version.select(rest).to_pylist())
    )


def test_reconcile_removes_copy_folders_no_copy_records(
    catalog: Catalog, extracts: demo.DemoFiles, key: Key
) -> None:
    import shutil

    result = ingest(catalog, extracts.outcomes, profiled(extracts, "outcomes"), key=key, actor="dm")
    make_project(catalog, "eta")
    grant(catalog, "eta", result.ref)
    (made,) = copies.reconcile(catalog, key)
    home = catalog.settings.home
    stray = (home / made.path).with_name("v9")
    shutil.copytree(home / made.path, stray)  # as a crash after recording a removal leaves
    assert copies.reconcile(catalog, key) == []
    assert not stray.exists()
    assert (home / made.path / "data.parquet").is_file()


def test_sweeps_leave_live_builds_alone(tmp_path: Path) -> None:
    from agoria_tre.ingest import storage

    incoming = tmp_path / ".incoming"
    with storage.build_folder(incoming, "live") as live:
        (live / "data.parquet").write_bytes(b"partial")
        dead = incoming / "dead.1.abcd"
        dead.mkdir()
        (incoming / "dead.1.abcd.lock").write_bytes(b"")  # nobody holds it: its process died
        assert storage.sweep(incoming) == [dead, incoming / "dead.1.abcd.lock"]
        assert live.is_dir()
    assert list(incoming.iterdir()) == []


def test_parquet_sources_keep_their_types(catalog: Catalog, key: Key, tmp_path: Path) -> None:

    source = tmp_path / "typed.parquet"
    pq.write_table(
        pa.table(
            {
                "ipp": pa.array([1, 2], pa.int64()),
                "seen": pa.array([datetime(2024, 1, 1, 8), datetime(2024, 2, 1, 9)]),
                "flag": pa.array([True, False]),
                "n": pa.array([3, 4], pa.int32()),
                "ward": pa.array(["a", "b"]).dictionary_encode(),
            }
        ),
        source,
    )
    result = ingest(
        catalog, source, by_ipp("typed", "seen", "flag", "n", "ward"), key=key, actor="dm"
    )
    table = pq.read_table(result.path / "data.parquet")
    assert {f.name: str(f.type) for f in table.schema} == {
        "ipp": "string", "seen": "timestamp[us]", "flag": "bool", "n": "int32", "ward": "string"
    }  # fmt: skip
    assert table.column("ipp").to_pylist() == [
        reference_pseudonym(key, "1"), reference_pseudonym(key, "2")
    ]  # fmt: skip


def reference_pseudonym(key: Key, value: str) -> str:
    digest = hmac.new(key.secret, value.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest)[:26].decode()


def test_missing_identifiers_are_counted_not_hashed(
    catalog: Catalog, key: Key, tmp_path: Path
) -> None:
    source = tmp_path / "blank.csv"
    source.write_text('ipp,a\nP1,1\n"",2\n   ,3\nP1,4\n')
    result = ingest(catalog, source, by_ipp("blank", "a"), key=key, actor="dm")
    assert result.manifest["identifiers"] == {"ipp": {"missing": 2}}
    column = pq.read_table(result.path / "data.parquet").column("ipp").to_pylist()
    assert column[1:3] == [None, None]
    assert column[0] == column[3] == reference_pseudonym(key, "P1")


def test_a_recorded_copy_path_outside_the_data_directory_is_never_deleted(
    catalog: Catalog, extracts: demo.DemoFiles, key: Key, tmp_path: Path
) -> None:
    result = ingest(catalog, extracts.outcomes, profiled(extracts, "outcomes"), key=key, actor="dm")
    make_project(catalog, "zeta")
    grant(catalog, "zeta", result.ref)
    (made,) = copies.reconcile(catalog, key)
    victim = tmp_path / "precious"
    victim.mkdir()
    (victim / "keep.txt").write_text("host data")
    with catalog.write() as session:  # a hostile or corrupted row
        (row,) = session.scalars(select(DatasetCopy)).all()
        row.storage_path = str(victim)
    with catalog.write() as session:
        grants.revoke_grant(
            session, slug="zeta", ref=result.ref, actor=ADMIN, tz=catalog.settings.timezone
        )
    (refused,) = copies.reconcile(catalog, None)
    assert refused.action == "failed"
    assert "outside the data directory" in refused.detail
    assert (victim / "keep.txt").read_text() == "host data"
    assert made.action == "created"
