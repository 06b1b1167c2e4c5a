"""Access ends while a workspace runs: the workspace stops before its data goes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agoria_tre.hub import control
from agoria_tre.hub.reconcile import ACTOR as RECONCILER
from agoria_tre.testing.hub import Hub
from agoria_tre.testing.platform import TrialPlatform, free_port
from tests.workspaces.conftest import RECONCILE_EVERY, UNTIL, expire_grant
from tests.workspaces.probes import run_json

pytestmark = pytest.mark.workspaces
LIST_DATA = "import json, os; print(json.dumps(sorted(os.listdir('/data'))))"


def events(platform: TrialPlatform, project: str) -> list[dict[str, object]]:
    found = json.loads(platform.cli("audit", "show", "--project", project, "--json").stdout)
    assert isinstance(found, list)
    return found


def seq_of(found: list[dict[str, object]], action: str, target: str, after: int = 0) -> int:
    """The sequence number of the one such event after ``after``."""
    (seq,) = [
        e["seq"]
        for e in found
        if e["action"] == action and e["target"] == target and int(str(e["seq"])) > after
    ]
    assert isinstance(seq, int)
    return seq


def last_seq(found: list[dict[str, object]]) -> int:
    return max(int(str(e["seq"])) for e in found)


def copy_folder(platform: TrialPlatform, project: str, dataset: str) -> Path:
    shown = json.loads(platform.cli("project", "show", project, "--json").stdout)
    return platform.home / "copies" / str(shown["uid"]) / dataset / "v1"


def wait_until_stopped(hub: Hub, user: str, project: str, within: float) -> None:
    deadline = time.monotonic() + within
    while hub.server(user, project) is not None:
        assert time.monotonic() < deadline, f"{project} of {user} still runs"
        time.sleep(0.25)


def project_with_workspace(
    hub: Hub, platform: TrialPlatform, slug: str, user: str, dataset: str
) -> None:
    """A new project with one researcher, one dataset granted, and their workspace running."""
    platform.cli("project", "create", slug, "--title", slug.title(), "--legal-basis", "MR-004")
    platform.cli("member", "add", slug, user, "--role", "researcher")
    platform.cli("grant", "add", slug, f"{dataset}@1", "--reference", "R", "--until", UNTIL)
    hub.ensure_user(user)
    hub.start(user, slug)


def test_revoking_a_grant_stops_the_workspace_before_the_copy_goes(
    hub: Hub, platform: TrialPlatform
) -> None:
    project_with_workspace(hub, platform, "derm", "erin", "treatments")
    folder = copy_folder(platform, "derm", "treatments")
    assert run_json(hub, "erin", "derm", LIST_DATA) == ["treatments"]
    assert folder.is_dir()
    platform.cli("grant", "revoke", "derm", "treatments@1")
    assert hub.server("erin", "derm") is None
    assert not folder.exists()
    found = events(platform, "derm")
    stopped = seq_of(found, "workspace.stop", "workspace:erin")
    removed = seq_of(found, "copy.remove", "dataset:treatments@1")
    assert stopped < removed


def test_a_grant_that_ends_stops_the_workspace_within_the_reconcile_interval(
    hub: Hub, platform: TrialPlatform
) -> None:
    hub.start("carol", "onco")
    before = last_seq(events(platform, "onco"))
    folder = copy_folder(platform, "onco", "outcomes")
    assert folder.is_dir()
    expire_grant(platform, "onco", "outcomes")  # its last day has passed
    wait_until_stopped(hub, "carol", "onco", within=RECONCILE_EVERY * 4 + 30)
    deadline = time.monotonic() + RECONCILE_EVERY * 4
    while folder.exists():
        assert time.monotonic() < deadline, "the ended grant's copy stays"
        time.sleep(0.25)
    found = events(platform, "onco")
    assert seq_of(found, "workspace.stop", "workspace:carol", before) < seq_of(
        found, "copy.remove", "dataset:outcomes@1", before
    )
    # Started again, the workspace no longer mounts it.
    hub.start("carol", "onco")
    try:
        listed = run_json(hub, "carol", "onco", LIST_DATA)
        assert listed == ["adverse_events", "patients"]
    finally:
        hub.stop("carol", "onco")


def test_removing_a_member_stops_their_workspace(hub: Hub, platform: TrialPlatform) -> None:
    platform.cli("member", "add", "onco", "frank", "--role", "researcher")
    hub.ensure_user("frank")
    hub.start("frank", "onco")
    platform.cli("member", "remove", "onco", "frank")
    assert hub.server("frank", "onco") is None
    message = hub.start_failure("frank", "onco")
    assert "you may not start a workspace in project 'onco'" in message


def test_archiving_a_project_stops_its_workspaces(hub: Hub, platform: TrialPlatform) -> None:
    project_with_workspace(hub, platform, "neuro", "gina", "patients")
    run_json(hub, "gina", "neuro", "open('/project/derived.csv', 'w').write('x'); print(1)")
    refused = platform.cli("project", "purge-storage", "neuro", check=False)
    assert refused.returncode == 2
    assert "is not archived" in refused.stderr  # storage in use is never purged
    platform.cli("project", "archive", "neuro", "--keep-storage-days", "0")
    assert hub.server("gina", "neuro") is None
    assert not copy_folder(platform, "neuro", "patients").exists()
    # Its storage is kept, unmounted and read-only, until an explicit purge.
    uid = json.loads(platform.cli("project", "show", "neuro", "--json").stdout)["uid"]
    image = platform.home / "workspaces" / f"{uid}.img"
    assert image.stat().st_mode & 0o777 == 0o400
    assert not os.path.ismount(platform.home / "workspaces" / uid)
    platform.cli("project", "purge-storage", "neuro")
    assert not image.exists()
    actions = [e["action"] for e in events(platform, "neuro")]
    assert actions.index("storage.quarantine") < actions.index("storage.purge")


def test_when_the_hub_refuses_the_copy_stays_and_the_reconciler_finishes(
    hub: Hub, platform: TrialPlatform
) -> None:
    project_with_workspace(hub, platform, "pneumo", "hugo", "treatments")
    folder = copy_folder(platform, "pneumo", "treatments")
    run_file = platform.home / "run" / "hub.json"
    saved = run_file.read_text()
    run_file.write_text(json.dumps({**json.loads(saved), "token": "not-the-platforms-token"}))
    try:
        done = platform.cli("grant", "revoke", "pneumo", "treatments@1", check=False)
    finally:
        run_file.write_text(saved)
    assert done.returncode == 5, done.stderr
    assert "the hub refused to stop workspaces" in done.stderr
    # The revocation stands; the reconciler, with its own token, stops it and removes the copy.
    # (Whether the workspace still runs right now races the reconciler's next round: the
    # audit log below says, after the fact, who removed the copy.)
    wait_until_stopped(hub, "hugo", "pneumo", within=RECONCILE_EVERY * 4 + 30)
    deadline = time.monotonic() + RECONCILE_EVERY * 4
    while folder.exists():
        assert time.monotonic() < deadline, "the revoked copy stays"
        time.sleep(0.25)
    removed = [e for e in events(platform, "pneumo") if e["action"] == "copy.remove"]
    assert [e["actor"] for e in removed] == [RECONCILER]  # the refused revoke removed nothing


def test_revoking_what_a_workspace_does_not_mount_leaves_it_running(
    hub: Hub, platform: TrialPlatform
) -> None:
    project_with_workspace(hub, platform, "gastro", "ivan", "patients")  # mounts patients@1 only
    try:
        platform.cli("grant", "add", "gastro", "treatments@1", "--reference", "R", "--until", UNTIL)
        folder = copy_folder(platform, "gastro", "treatments")
        assert folder.is_dir()
        platform.cli("grant", "revoke", "gastro", "treatments@1")
        assert not folder.exists()
        assert hub.server("ivan", "gastro") is not None
        assert run_json(hub, "ivan", "gastro", LIST_DATA) == ["patients"]
    finally:
        hub.stop("ivan", "gastro")


def test_the_hubs_list_of_workspaces_is_read_page_by_page(
    hub: Hub, platform: TrialPlatform
) -> None:
    hub.start("alice", "onco")
    hub.start("carol", "onco")
    endpoint = control.HubEndpoint(
        f"http://127.0.0.1:{platform.api_port}/hub/api", platform.env["AGORIA_ADMIN_TOKEN"]
    )
    try:
        found = control.running(endpoint, page_size=1)
        assert sorted((w.user, w.project) for w in found) == [("alice", "onco"), ("carol", "onco")]
        assert control.running(endpoint) == found
    finally:
        hub.stop("alice", "onco")
        hub.stop("carol", "onco")


def test_a_reconciler_without_the_platform_key_removes_copies_but_makes_none(
    platform: TrialPlatform,
) -> None:
    env = {k: v for k, v in platform.env.items() if k != "AGORIA_KEY_FILE"}
    env |= {
        "JUPYTERHUB_API_URL": f"http://127.0.0.1:{platform.api_port}/hub/api",
        "JUPYTERHUB_API_TOKEN": platform.env["AGORIA_ADMIN_TOKEN"],
    }

    def one_round() -> str:
        return subprocess.run(
            [sys.executable, "-m", "agoria_tre.hub.reconcile", "--once"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stderr

    assert "copies are only removed here, not made" in one_round()
    env["JUPYTERHUB_API_URL"] = f"http://127.0.0.1:{free_port()}/hub/api"  # no hub there
    assert "reconcile round failed: hub API GET /users" in one_round()
