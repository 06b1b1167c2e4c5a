"""The catalog on SQLite and on a real PostgreSQL server: schema, versions, grants."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from agoria_tre import audit, identity
from agoria_tre.catalog import datasets, grants, projects
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.migrate import InitResult, alembic_config, head_revision, initialise
from agoria_tre.catalog.models import AuditEvent, Base, ProjectStatus, Role
from agoria_tre.config import Settings
from agoria_tre.errors import (
    CatalogNotReady,
    ConfigurationError,
    Conflict,
    InvalidInput,
    NotFound,
)
from agoria_tre.names import DatasetRef
from tests.factories import ADMIN, make_grant, make_project, make_version
from tests.support import snapshot, table_names


def test_migrations_create_exactly_the_models(catalog: Catalog) -> None:
    with catalog.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert table_names(catalog) >= {t.name for t in Base.metadata.sorted_tables}


def test_init_is_idempotent(catalog: Catalog) -> None:
    make_project(catalog)
    before = snapshot(catalog)
    assert initialise(catalog, actor="someone-else") == InitResult(head_revision(), head_revision())
    assert snapshot(catalog) == before


def test_uninitialised_catalog_is_refused_and_nothing_is_created(settings: Settings) -> None:
    fresh = Catalog(settings)
    with pytest.raises(CatalogNotReady, match="run 'agoria-tre init'"):
        fresh.require_ready()
    fresh.dispose()
    assert not settings.home.exists()


def test_init_is_the_first_audit_event(catalog: Catalog) -> None:
    with catalog.read() as session:
        events = session.scalars(select(AuditEvent)).all()
    assert [(e.seq, e.actor, e.action, e.target) for e in events] == [
        (1, "platform-setup", "catalog.init", "catalog")
    ]
    details = json.loads(events[0].details)
    anchor = details.pop("anchor")
    assert details == {"from_revision": None, "to_revision": head_revision()}
    assert anchor == {
        "id": audit.read_anchor(catalog.anchor_path).identity,
        "path": str(catalog.anchor_path),
    }
    assert re.fullmatch(r"[0-9a-f]{32}", anchor["id"])


def test_catalog_newer_than_the_software_is_refused(catalog: Catalog) -> None:
    with catalog.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    other = Catalog(catalog.settings)
    with pytest.raises(CatalogNotReady, match="newer than this version of agoria-tre"):
        other.require_ready()
    with pytest.raises(CatalogNotReady, match="newer than this version of agoria-tre"):
        initialise(other, actor="admin-ops")
    other.dispose()


def test_project_lifecycle(catalog: Catalog) -> None:
    make_project(catalog, "cardio-eap", {"alice": [Role.RESEARCHER, Role.LEAD]})
    with catalog.read() as session:
        project = projects.get_project(session, "cardio-eap")
        assert project.status is ProjectStatus.ACTIVE
        assert project.created_at.tzinfo is not None
        assert len(project.uid) == 36
        assert projects.roles_of(session, project, "alice") == {Role.RESEARCHER, Role.LEAD}
    with catalog.write() as session:
        projects.archive_project(session, slug="cardio-eap", actor=ADMIN)
    with catalog.read() as session:
        project = projects.get_project(session, "cardio-eap")
        assert project.status is ProjectStatus.ARCHIVED
        assert project.archived_at is not None
    with pytest.raises(Conflict, match="archived"), catalog.write() as session:
        projects.add_member(
            session, slug="cardio-eap", username="bob", role=Role.REVIEWER, actor=ADMIN
        )


def test_a_failed_change_writes_nothing(catalog: Catalog) -> None:
    make_project(catalog)
    before = snapshot(catalog)
    with pytest.raises(Conflict), catalog.write() as session:
        projects.add_member(
            session, slug="cardio-eap", username="bob", role=Role.REVIEWER, actor=ADMIN
        )
        projects.add_member(
            session, slug="cardio-eap", username="bob", role=Role.REVIEWER, actor=ADMIN
        )
    assert snapshot(catalog) == before


def test_remove_one_role_or_all(catalog: Catalog) -> None:
    make_project(catalog, members={"alice": [Role.RESEARCHER, Role.REVIEWER, Role.LEAD]})
    with catalog.write() as session:
        removed = projects.remove_member(
            session, slug="cardio-eap", username="alice", role=Role.REVIEWER, actor=ADMIN
        )
    assert removed == [Role.REVIEWER]
    with catalog.write() as session:
        removed = projects.remove_member(
            session, slug="cardio-eap", username="alice", role=None, actor=ADMIN
        )
    assert sorted(removed) == [Role.LEAD, Role.RESEARCHER]
    with pytest.raises(NotFound, match="not a member"), catalog.write() as session:
        projects.remove_member(session, slug="cardio-eap", username="alice", role=None, actor=ADMIN)


def test_versions_number_themselves(catalog: Catalog) -> None:
    assert make_version(catalog, "patients", 10) == DatasetRef("patients", 1)
    assert make_version(catalog, "patients", 11) == DatasetRef("patients", 2)
    assert make_version(catalog, "adverse_events", 5) == DatasetRef("adverse_events", 1)
    with catalog.read() as session:
        labels = [v.label for v in datasets.list_versions(session)]
    assert labels == ["adverse_events@1", "patients@1", "patients@2"]


def test_versions_are_immutable_in_the_orm(catalog: Catalog) -> None:
    ref = make_version(catalog)
    with pytest.raises(Conflict, match="immutable"), catalog.write() as session:
        version = datasets.get_version(session, ref)
        version.row_count = 1
        session.flush()


def test_versions_cannot_be_deleted_in_the_orm(catalog: Catalog) -> None:
    ref = make_version(catalog)
    with pytest.raises(Conflict, match="immutable"), catalog.write() as session:
        session.delete(datasets.get_version(session, ref))
        session.flush()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE dataset_versions SET row_count = 1", "DELETE FROM dataset_versions"],
)
def test_versions_are_immutable_in_the_database(catalog: Catalog, statement: str) -> None:
    make_version(catalog)
    with pytest.raises(DBAPIError, match="immutable"), catalog.engine.begin() as conn:
        conn.execute(text(statement))
    assert make_version(catalog) == DatasetRef("patients", 2)  # numbers are never reused


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("content_hash", "not-a-hash", "SHA-256"),
        ("row_count", -1, "negative"),
        ("name", "Bad Name", "invalid dataset name"),
        ("storage_path", "", "storage path"),
    ],
)
def test_register_refuses_bad_versions(
    catalog: Catalog, field: str, value: object, message: str
) -> None:
    arguments: dict[str, object] = {
        "name": "patients",
        "content_hash": "a" * 64,
        "row_count": 3,
        "schema": {},
        "storage_path": "datasets/patients/1",
        "provenance": {},
        "actor": "dm",
        field: value,
    }
    with pytest.raises(InvalidInput, match=message), catalog.write() as session:
        datasets.register_dataset_version(session, **arguments)  # type: ignore[arg-type]


# --- grants: "which dataset versions may project P mount now" -----------------------------


def _mountable(catalog: Catalog, slug: str, now: datetime | None = None) -> list[str]:
    with catalog.read() as session:
        return [
            v.label
            for v in grants.mountable_versions(session, slug, tz=catalog.settings.timezone, now=now)
        ]


def _today(catalog: Catalog) -> date:
    return grants.today(catalog.settings.timezone)


def test_grant_is_effective_between_its_days_inclusive(catalog: Catalog) -> None:
    make_project(catalog)
    ref = make_version(catalog)
    day = _today(catalog)
    make_grant(
        catalog, "cardio-eap", ref, until=day + timedelta(days=10), start=day + timedelta(days=2)
    )
    tz = catalog.settings.timezone

    def at(local_day: date, hour: int = 12) -> datetime:
        return datetime(local_day.year, local_day.month, local_day.day, hour, tzinfo=tz)

    assert _mountable(catalog, "cardio-eap") == []  # not started yet
    assert _mountable(catalog, "cardio-eap", at(day + timedelta(days=2), 0)) == ["patients@1"]
    assert _mountable(catalog, "cardio-eap", at(day + timedelta(days=10), 23)) == ["patients@1"]
    assert _mountable(catalog, "cardio-eap", at(day + timedelta(days=11), 0)) == []


def test_grant_days_are_read_in_the_platform_time_zone(catalog: Catalog) -> None:
    make_project(catalog)
    ref = make_version(catalog)
    day = _today(catalog)
    make_grant(catalog, "cardio-eap", ref, until=day + timedelta(days=1))
    last = day + timedelta(days=1)
    # 23:30 UTC on the last day is already the next day in Paris (UTC+1 or UTC+2).
    late_utc = datetime(last.year, last.month, last.day, 23, 30, tzinfo=UTC)
    assert _mountable(catalog, "cardio-eap", late_utc) == []
    early_utc = datetime(last.year, last.month, last.day, 21, 0, tzinfo=UTC)
    assert _mountable(catalog, "cardio-eap", early_utc) == ["patients@1"]


def test_revoked_grant_and_archived_project_mount_nothing(catalog: Catalog) -> None:
    make_project(catalog, "cardio-eap")
    make_project(catalog, "onco-eap")
    v1 = make_version(catalog)
    v2 = make_version(catalog)
    until = _today(catalog) + timedelta(days=30)
    make_grant(catalog, "cardio-eap", v1, until)
    make_grant(catalog, "cardio-eap", v2, until)
    make_grant(catalog, "onco-eap", v2, until)
    assert _mountable(catalog, "cardio-eap") == ["patients@1", "patients@2"]
    with catalog.write() as session:
        revoked = grants.revoke_grant(
            session, slug="cardio-eap", ref=v1, actor=ADMIN, tz=catalog.settings.timezone
        )
        assert len(revoked) == 1
    assert _mountable(catalog, "cardio-eap") == ["patients@2"]
    with catalog.write() as session:
        projects.archive_project(session, slug="onco-eap", actor=ADMIN)
    assert _mountable(catalog, "onco-eap") == []
    assert _mountable(catalog, "cardio-eap") == ["patients@2"]


def test_grant_refusals(catalog: Catalog) -> None:
    make_project(catalog)
    ref = make_version(catalog)
    day = _today(catalog)
    make_grant(catalog, "cardio-eap", ref, until=day + timedelta(days=30))
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        ({"valid_until": day - timedelta(days=1)}, InvalidInput, "in the past"),
        ({"valid_from": day - timedelta(days=1)}, InvalidInput, "start date .* in the past"),
        ({"valid_from": day + timedelta(days=40)}, InvalidInput, "after end date"),
        ({}, Conflict, "already holds a grant"),
        ({"slug": "nope-project"}, NotFound, "unknown project"),
        ({"ref": DatasetRef("patients", 9)}, NotFound, "unknown dataset version patients@9"),
        ({"reference": "  "}, InvalidInput, "approval reference"),
    ]
    before = snapshot(catalog)
    for override, error, message in cases:
        arguments: dict[str, object] = {
            "slug": "cardio-eap",
            "ref": ref,
            "reference": "CESREES-2026-042",
            "valid_until": day + timedelta(days=20),
            "valid_from": None,
            "actor": ADMIN,
            "tz": catalog.settings.timezone,
            **override,
        }
        with pytest.raises(error, match=message), catalog.write() as session:
            grants.add_grant(session, **arguments)  # type: ignore[arg-type]
    assert snapshot(catalog) == before


def test_renewal_after_the_current_grant_is_accepted(catalog: Catalog) -> None:
    make_project(catalog)
    ref = make_version(catalog)
    day = _today(catalog)
    make_grant(catalog, "cardio-eap", ref, until=day + timedelta(days=30))
    make_grant(
        catalog, "cardio-eap", ref, until=day + timedelta(days=60), start=day + timedelta(days=31)
    )
    with catalog.read() as session:
        assert len(grants.list_grants(session, "cardio-eap")) == 2


def test_history_answers_as_the_platform_did_then(catalog: Catalog) -> None:
    make_project(catalog)
    ref = make_version(catalog)
    make_grant(catalog, "cardio-eap", ref, until=_today(catalog) + timedelta(days=30))
    before_revocation = datetime.now(UTC)
    with catalog.write() as session:
        grants.revoke_grant(
            session, slug="cardio-eap", ref=ref, actor=ADMIN, tz=catalog.settings.timezone
        )
    assert _mountable(catalog, "cardio-eap") == []
    assert _mountable(catalog, "cardio-eap", before_revocation) == ["patients@1"]
    with pytest.raises(ValueError, match="timezone-aware"):
        _mountable(catalog, "cardio-eap", datetime(2030, 1, 1))


def test_concurrent_identical_grants_admit_exactly_one(catalog: Catalog) -> None:
    """Writers are serialised for their whole transaction, checks included."""
    make_project(catalog)
    ref = make_version(catalog)
    until = _today(catalog) + timedelta(days=30)

    def attempt(_: int) -> str:
        try:
            make_grant(catalog, "cardio-eap", ref, until)
        except Conflict:
            return "refused"
        return "granted"

    with ThreadPoolExecutor(6) as pool:
        outcomes = sorted(pool.map(attempt, range(6)))
    assert outcomes == ["granted"] + ["refused"] * 5
    with catalog.read() as session:
        assert len(grants.list_grants(session, "cardio-eap")) == 1


def test_concurrent_revocations_revoke_once(catalog: Catalog) -> None:
    make_project(catalog)
    ref = make_version(catalog)
    make_grant(catalog, "cardio-eap", ref, until=_today(catalog) + timedelta(days=30))

    def attempt(n: int) -> str:
        try:
            with catalog.write() as session:
                grants.revoke_grant(
                    session,
                    slug="cardio-eap",
                    ref=ref,
                    actor=f"admin-{n}",
                    tz=catalog.settings.timezone,
                )
        except NotFound:
            return "nothing to revoke"
        return "revoked"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(attempt, range(4)))
    assert outcomes == ["nothing to revoke"] * 3 + ["revoked"]
    with catalog.read() as session:
        revokes = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "grant.revoke")
        ).all()
    assert len(revokes) == 1


def test_a_new_catalog_refuses_another_catalogs_anchor(settings: Settings) -> None:
    settings.audit_anchor.parent.mkdir(parents=True)
    settings.audit_anchor.write_text("1 1 " + "a" * 64 + "\n")
    fresh = Catalog(settings)
    with pytest.raises(ConfigurationError, match="already holds another catalog's chain"):
        initialise(fresh, actor="admin-ops")
    fresh.dispose()


def test_init_completes_a_chain_left_empty_by_an_interrupted_first_run(
    settings: Settings,
) -> None:
    fresh = Catalog(settings)
    settings.ensure_dirs()
    command.upgrade(alembic_config(fresh), "head")  # schema created, then the run stopped
    initialise(fresh, actor="admin-ops")
    with fresh.read() as session:
        assert [e.action for e in session.scalars(select(AuditEvent))] == ["catalog.init"]
    fresh.dispose()


def test_upgrading_from_0001_gives_each_existing_project_its_own_key_salt(
    settings: Settings,
) -> None:
    catalog = Catalog(settings)
    try:
        settings.ensure_dirs()
        command.upgrade(alembic_config(catalog), "0001")
        with catalog.engine.begin() as conn:
            for slug in ("old-one", "old-two"):
                conn.execute(
                    text(
                        "INSERT INTO projects (uid, slug, title, legal_basis, status,"
                        " created_at, created_by) VALUES (:uid, :slug, 't', 'MR-004', 'active',"
                        " CURRENT_TIMESTAMP, 'ops')"
                    ),
                    {"uid": f"uid-{slug}", "slug": slug},
                )
        initialise(catalog, actor="ops")
        with catalog.engine.connect() as conn:
            salts = [row[0] for row in conn.execute(text("SELECT key_salt FROM projects"))]
        assert len(salts) == 2
        assert len(set(salts)) == 2
        assert all(len(bytes.fromhex(s)) == 32 for s in salts)
    finally:
        catalog.dispose()


def test_upgrading_keeps_older_events_verifying_and_the_log_append_only(
    settings: Settings,
) -> None:
    """A catalog at 0003 holds events hashed before the operating-system user was: they
    still verify after the upgrade, next to version-2 events, and the table still refuses
    changes (the column is added in place, not by rebuilding the table)."""
    catalog = Catalog(settings)
    try:
        settings.ensure_dirs()
        command.upgrade(alembic_config(catalog), "0003")
        at = "2026-11-01T10:00:00.000000Z"
        canonical = audit.canonical_bytes(1, at, "ops", "catalog.init", "catalog", None, "{}")
        digest = audit.chain_hash(audit.GENESIS_HASH, canonical)
        with catalog.engine.begin() as conn:  # as version 0003 of the platform wrote it
            conn.execute(
                text(
                    "INSERT INTO audit_events (seq, occurred_at, actor, action, target,"
                    " project, details, canonical, prev_hash, hash) VALUES (1, :at, 'ops',"
                    " 'catalog.init', 'catalog', NULL, '{}', :canonical, :prev, :hash)"
                ),
                {"at": at, "canonical": canonical, "prev": audit.GENESIS_HASH, "hash": digest},
            )
            conn.execute(text("UPDATE audit_head SET seq = 1, hash = :h"), {"h": digest})
        audit.append_anchor(settings.audit_anchor, 1, 1, digest)
        initialise(catalog, actor="ops")
        with catalog.snapshot() as session:
            result = audit.verify(session, settings.audit_anchor)
            events = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
            assert [(e.action, e.os_user, e.canonical[:2]) for e in events] == [
                ("catalog.init", None, b"[1"),
                ("catalog.upgrade", identity.process_user(), b"[2"),
            ]
        assert result.ok, result.problem
        # Made before anchors had an identity, it takes no anchor that has one.
        foreign = settings.audit_anchor.read_text()
        settings.audit_anchor.write_text(f"agoria-audit-anchor {'d' * 32}\n{foreign}")
        with catalog.snapshot() as session:
            refused = audit.verify(session, settings.audit_anchor, settle_seconds=0.1)
        assert refused.problem == (
            f"the anchor file {settings.audit_anchor} belongs to another catalog (anchor"
            f" {'d' * 32}); this catalog records no anchor of its own"
        )
        with pytest.raises(DBAPIError, match="append-only"), catalog.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET os_user = 'mallory' WHERE seq = 1"))
    finally:
        catalog.dispose()
