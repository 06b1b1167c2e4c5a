"""The service's side of checks (airlock/web.py ``Checks``) and its start
(airlock/__main__.py): a request's check runs once however often it is asked for, what a
stopped service left in ``checking`` is checked again, and a configuration the airlock cannot
run with stops it with the reason."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agoria_tre.airlock.__main__ import AirlockService, main
from agoria_tre.airlock.service import Airlock, Caller
from agoria_tre.airlock.web import Checks
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.models import Role
from tests.factories import make_project

ALICE = Caller("alice")


def test_checks_run_once_and_resume_after_a_restart(catalog: Catalog, tmp_path: Path) -> None:
    make_project(catalog, "cardio", {"alice": [Role.RESEARCHER]})
    airlock = Airlock(catalog, tmp_path / "airlock")
    made = []
    for _ in range(2):
        request = airlock.create(ALICE, "cardio", "t")
        airlock.add_item(ALICE, request["id"], "t.csv", b"sex,n\nF,40\nM,30\n")
        airlock.submit(ALICE, request["id"])
        made.append(request["id"])

    async def scenario() -> tuple[list[str], list[str]]:
        with ThreadPoolExecutor(2) as pool:
            checks = Checks(airlock, pool, parallel=1)
            twice = await asyncio.gather(checks.run(made[0]), checks.run(made[0]))
            await checks.resume()  # the other one, left in checking
            return list(twice), airlock.pending_checks()

    twice, pending = asyncio.run(scenario())
    assert twice == ["in_review", "in_review"]
    assert pending == []
    assert airlock.get(ALICE, made[1])["status"] == "in_review"


def test_a_configuration_with_one_reviewer_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "airlock_config.py"
    config.write_text("c.AirlockService.reviewers = 1\n")
    assert main(["--config", str(config)]) == 2
    service = AirlockService()
    service.initialize(["--AirlockService.reviewers=3"])
    assert service.reviewers == 3


def test_the_airlock_runs_only_as_a_hub_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTERHUB_SERVICE_URL", raising=False)
    assert main([]) == 2
