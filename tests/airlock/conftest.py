"""A running platform with the airlock, shared by the airlock's tests: the hub (demo mode),
its proxy and the airlock service, two projects and their members, and each member's own
hub API token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from agoria_tre.testing.airlock import AirlockClient
from agoria_tre.testing.platform import TrialPlatform, prepare

MEMBERS = {
    "cardio": {
        "alice": ["researcher", "reviewer"],
        "bob": ["researcher"],
        "rita": ["reviewer"],
        "sam": ["reviewer"],
        "tom": ["reviewer"],
        "lea": ["lead"],
    },
    "onco": {"olga": ["researcher", "reviewer"]},
}


@pytest.fixture(scope="package")
def airlock_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrialPlatform]:
    platform = prepare(tmp_path_factory.mktemp("airlock"), datasets=["patients"])
    until = (date.today() + timedelta(days=30)).isoformat()
    for slug, members in MEMBERS.items():
        platform.cli("project", "create", slug, "--title", slug.title(), "--legal-basis", "MR-004")
        for user, roles in members.items():
            for role in roles:
                platform.cli("member", "add", slug, user, "--role", role)
    platform.cli("grant", "add", "cardio", "patients@1", "--reference", "R", "--until", until)
    platform.cli("dataset", "reconcile")
    platform.start()
    AirlockClient(platform.public_url, platform.env["AGORIA_ADMIN_TOKEN"]).wait_until_up()
    yield platform
    platform.stop()


@pytest.fixture(scope="package")
def tokens(airlock_platform: TrialPlatform) -> dict[str, str]:
    hub = airlock_platform.hub
    names = {user for members in MEMBERS.values() for user in members} | {"nobody"}
    return {name: hub.token_for(name) for name in sorted(names)}


@pytest.fixture(scope="package")
def as_user(airlock_platform: TrialPlatform, tokens: dict[str, str]) -> dict[str, AirlockClient]:
    return {name: AirlockClient(airlock_platform.public_url, t) for name, t in tokens.items()}
