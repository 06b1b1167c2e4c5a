"""What the catalog records for workspaces: each project's subnet and storage, made once."""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from agoria_tre.catalog import projects
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.grants import today
from agoria_tre.catalog.models import AuditEvent, Role
from agoria_tre.errors import ConfigurationError, Conflict, NotFound
from agoria_tre.hub import networks, reconcile, storage
from agoria_tre.hub.control import RunningWorkspace
from agoria_tre.hub.spawner import ProjectSpawner
from tests.factories import make_grant, make_project, make_version

POOL = ipaddress.IPv4Network("10.213.0.0/22")  # four /24s, the first one kept out


def actions(catalog: Catalog) -> list[str]:
    with catalog.read() as session:
        return [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def test_each_project_gets_its_own_subnet_once(catalog: Catalog) -> None:
    for slug in ("alpha", "beta"):
        make_project(catalog, slug)
    alpha = networks.allocate(catalog, "alpha", POOL, actor="alice")
    assert alpha.name == "agoria-ws-alpha"
    assert alpha.subnet == ipaddress.IPv4Network("10.213.1.0/24")
    assert alpha.gateway == ipaddress.IPv4Address("10.213.1.1")
    assert networks.allocate(catalog, "alpha", POOL, actor="bob") == alpha
    beta = networks.allocate(catalog, "beta", POOL, actor="carol")
    assert beta.subnet == ipaddress.IPv4Network("10.213.2.0/24")
    assert actions(catalog).count("network.allocate") == 2


def test_a_pool_that_runs_out_is_refused(catalog: Catalog) -> None:
    for slug in ("p-one", "p-two", "p-three", "p-four"):
        make_project(catalog, slug)
    for slug in ("p-one", "p-two", "p-three"):
        networks.allocate(catalog, slug, POOL, actor="alice")
    with pytest.raises(Conflict, match="no workspace subnet is left"):
        networks.allocate(catalog, "p-four", POOL, actor="alice")


def test_concurrent_first_spawns_allocate_one_subnet(catalog: Catalog) -> None:
    make_project(catalog, "gamma")
    with ThreadPoolExecutor(4) as pool:
        found = set(
            pool.map(lambda _: networks.allocate(catalog, "gamma", POOL, actor="a"), range(8))
        )
    assert len(found) == 1
    assert actions(catalog).count("network.allocate") == 1


def test_the_storage_cap_is_the_first_one_recorded(catalog: Catalog) -> None:
    make_project(catalog, "delta")
    assert storage.record(catalog, "delta", 2 << 30, actor="alice") == 2 << 30
    assert storage.record(catalog, "delta", 64 << 20, actor="bob") == 2 << 30
    assert actions(catalog).count("storage.create") == 1


def test_storage_of_an_active_project_is_not_quarantined_nor_purged(catalog: Catalog) -> None:
    make_project(catalog, "eps")
    with pytest.raises(Conflict, match="is active"):
        storage.quarantine(catalog, "eps", keep_days=30, actor="admin")
    with pytest.raises(Exception, match="has no workspace storage"):
        storage.purge(catalog, "eps", actor="admin")
    storage.record(catalog, "eps", 1 << 20, actor="alice")
    with pytest.raises(Conflict, match="is not archived"):
        storage.purge(catalog, "eps", actor="admin")


def test_the_hub_runs_only_recorded_images_the_newest_by_default(catalog: Catalog) -> None:
    from agoria_tre.catalog.models import WorkspaceImage
    from agoria_tre.errors import ConfigurationError
    from agoria_tre.images import recorded_image

    with catalog.read() as session, pytest.raises(ConfigurationError) as none_yet:
        recorded_image(session)
    assert "agoria-tre image build" in none_yet.value.user_message
    with catalog.write() as session:
        for tag in ("aaaa", "bbbb"):
            session.add(
                WorkspaceImage(
                    reference=f"localhost/agoria-workspace:{tag}",
                    content_hash=tag * 16,
                    image_id=f"sha256:{tag}",
                    base="localhost/agoria-base:bookworm-x",
                    size_bytes=3 << 30,  # past 32 bits: PostgreSQL's bigint
                    built_by="operator",
                )
            )
    with catalog.read() as session:
        assert recorded_image(session).reference == "localhost/agoria-workspace:bbbb"
        named = recorded_image(session, "localhost/agoria-workspace:aaaa")
        assert named.image_id == "sha256:aaaa"
        with pytest.raises(ConfigurationError) as unknown:
            recorded_image(session, "docker.io/library/python:3.11")
    assert "is not recorded" in unknown.value.log_message


def test_archived_storage_is_kept_until_its_day_then_purged_once(catalog: Catalog) -> None:
    make_project(catalog, "zeta")
    storage.record(catalog, "zeta", 1 << 20, actor="alice")
    with catalog.write() as session:
        projects.archive_project(session, slug="zeta", actor="admin")
    kept = storage.quarantine(catalog, "zeta", keep_days=3, actor="admin")  # no image made
    assert kept == today(catalog.settings.timezone) + timedelta(days=3)
    with pytest.raises(Conflict, match=f"storage is kept until {kept.isoformat()}"):
        storage.purge(catalog, "zeta", actor="admin")
    assert storage.quarantine(catalog, "zeta", keep_days=0, actor="admin") is not None
    storage.purge(catalog, "zeta", actor="admin")
    assert storage.quarantine(catalog, "zeta", keep_days=0, actor="admin") is None  # purged
    with pytest.raises(NotFound, match="has no workspace storage to purge"):
        storage.purge(catalog, "zeta", actor="admin")
    assert actions(catalog).count("storage.purge") == 1


def test_a_storage_command_that_fails_or_is_missing_is_refused_with_its_words() -> None:
    with pytest.raises(ConfigurationError, match="cannot be prepared") as missing:
        storage._run(["/nonexistent/mkfs.ext4"], "mkfs.ext4")
    assert "mkfs.ext4" in missing.value.log_message
    with pytest.raises(ConfigurationError, match="cannot be prepared") as failed:
        storage._run(["sh", "-c", "echo 'device busy' >&2; exit 32"], "umount")
    assert "device busy" in failed.value.log_message


def test_the_reconciler_stops_what_the_catalog_no_longer_allows(catalog: Catalog) -> None:
    ref = make_version(catalog, "patients")
    make_project(catalog, "eta", {"alice": [Role.RESEARCHER], "dana": [Role.REVIEWER]})
    make_grant(catalog, "eta", ref, until=date.today() + timedelta(days=30))
    label = f"{ref.name}@{ref.version}"
    ok = RunningWorkspace("alice", "eta", (label,))
    judged = [
        ok,
        RunningWorkspace("alice", "eta", (label,), pending="stop"),  # judged next round
        RunningWorkspace("alice", "gone", (label,)),  # no such project
        RunningWorkspace("dana", "eta", (label,)),  # a reviewer may not open it
        RunningWorkspace("alice", "eta", ("outcomes@1",)),  # mounts what is not granted
        RunningWorkspace("alice", "eta", None),  # the hub did not say what it mounts
    ]
    assert reconcile.out_of_bounds(catalog, judged) == judged[2:]


def test_a_workspace_is_refused_until_its_project_copies_exist(catalog: Catalog) -> None:
    ref = make_version(catalog, "patients")
    make_project(catalog, "theta", {"alice": [Role.RESEARCHER]})
    make_grant(catalog, "theta", ref, until=date.today() + timedelta(days=30))  # no copy made
    spawner = ProjectSpawner(user=SimpleNamespace(name="alice"))
    with pytest.raises(Conflict, match=r"copy of patients@1 is not ready yet.*dataset reconcile"):
        spawner._read_catalog(catalog, "theta")
