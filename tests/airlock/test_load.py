"""Fifty researchers submitting and ten reviewers deciding at once, through the proxy: no
request lost, no server error, every item decided by two reviewers, the audit chain intact."""

from __future__ import annotations

import pytest

from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import Role
from agoria_tre.config import Settings
from agoria_tre.testing.airlock import AirlockClient
from agoria_tre.testing.load import enrol, run_load
from agoria_tre.testing.platform import TrialPlatform

pytestmark = pytest.mark.workspaces


def test_concurrent_researchers_and_reviewers(airlock_platform: TrialPlatform) -> None:
    platform = airlock_platform
    platform.cli("project", "create", "busy", "--title", "Busy", "--legal-basis", "MR-004")
    researchers = [f"researcher{k}" for k in range(50)]
    reviewers = [f"reviewer{k}" for k in range(10)]
    catalog = Catalog(Settings.from_env(platform.env))
    try:
        enrol(catalog, "busy", researchers, Role.RESEARCHER)
        enrol(catalog, "busy", reviewers, Role.REVIEWER)
    finally:
        catalog.dispose()
    result = run_load(
        platform.hub, platform.public_url, researchers, reviewers, "busy",
        b"site,n\nA,40\nB,35\nC,52\n", "sites.csv",
    )  # fmt: skip
    assert result.tally.server_errors() == []
    assert len(set(result.request_ids)) == len(researchers)
    lead = AirlockClient(platform.public_url, platform.hub.token_for("reviewer0"))
    for request_id in result.request_ids:
        seen = lead.get(f"api/requests/{request_id}").json
        assert seen["status"] == "in_review"
        assert [i["outcome"] for i in seen["items"]] == ["approved"]
        assert len({d["reviewer"] for d in seen["items"][0]["decisions"]}) == 2
    assert result.decisions == len(researchers) * 2
    verify = platform.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
