"""One platform for the workspace tests: real hub, proxy, Podman, the built image, firewall.

Project ``cardio``: researchers alice and bob; patients@1 and treatments@1 granted;
outcomes@1 granted then revoked; adverse_events@1 granted and since expired.
Project ``onco``: researchers alice and carol; patients@1, adverse_events@1, outcomes@1.
Dana is a reviewer of cardio only. Cardio's new homes receive a starter file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from agoria_tre.testing.hub import Hub
from agoria_tre.testing.platform import TrialPlatform, prepare

RECONCILE_EVERY = 5
STORAGE_CAP_MB = 64
UNTIL = (date.today() + timedelta(days=400)).isoformat()


def expire_grant(platform: TrialPlatform, project: str, dataset: str) -> None:
    """Make a grant one that ended yesterday, as time would: grants cannot be given in the
    past, so the test moves its days back in the catalog."""
    yesterday = date.today() - timedelta(days=1)
    with sqlite3.connect(platform.home / "catalog.sqlite") as db:
        changed = db.execute(
            "UPDATE grants SET valid_from = ?, valid_until = ? WHERE revoked_at IS NULL"
            " AND project_id = (SELECT id FROM projects WHERE slug = ?)"
            " AND dataset_version_id = (SELECT v.id FROM dataset_versions v JOIN datasets d"
            " ON d.id = v.dataset_id WHERE d.name = ? AND v.version = 1)",
            (str(yesterday - timedelta(days=1)), str(yesterday), project, dataset),
        ).rowcount
    assert changed == 1


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrialPlatform]:
    trial = prepare(tmp_path_factory.mktemp("platform"))
    for slug, title in (("cardio", "Cardiology"), ("onco", "Oncology")):
        trial.cli("project", "create", slug, "--title", title, "--legal-basis", "MR-004")
    for slug, user, role in (
        ("cardio", "alice", "researcher"),
        ("cardio", "bob", "researcher"),
        ("cardio", "dana", "reviewer"),
        ("onco", "alice", "researcher"),
        ("onco", "carol", "researcher"),
    ):
        trial.cli("member", "add", slug, user, "--role", role)
    for slug, dataset in (
        ("cardio", "patients"),
        ("cardio", "treatments"),
        ("cardio", "outcomes"),
        ("cardio", "adverse_events"),
        ("onco", "patients"),
        ("onco", "adverse_events"),
        ("onco", "outcomes"),
    ):
        trial.cli(
            "grant", "add", slug, f"{dataset}@1", "--reference", "CESREES-T", "--until", UNTIL
        )
    trial.cli("grant", "revoke", "cardio", "outcomes@1")
    expire_grant(trial, "cardio", "adverse_events")
    trial.cli("dataset", "reconcile")
    starters = trial.home / "starters" / "cardio"
    starters.mkdir(parents=True)
    (starters / "welcome.md").write_text("# Cardiology\n")
    (starters / "shadow").symlink_to("/etc/shadow")  # a link is never copied into a home
    trial.start(
        "--reconcile-every", str(RECONCILE_EVERY), "--project-storage", f"{STORAGE_CAP_MB}M"
    )
    hub = trial.hub
    for user in ("alice", "bob", "carol", "dana"):
        hub.ensure_user(user)
    yield trial
    trial.stop()


@pytest.fixture
def hub(platform: TrialPlatform) -> Hub:
    return platform.hub


@pytest.fixture
def workspace(hub: Hub) -> Iterator[tuple[str, str]]:
    """Alice's cardio workspace, running; stopped afterwards."""
    hub.start("alice", "cardio")
    yield ("alice", "cardio")
    hub.stop("alice", "cardio")


def home_of(platform: TrialPlatform) -> Path:
    return platform.home
