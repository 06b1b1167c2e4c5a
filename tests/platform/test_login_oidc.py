"""Production logins: OpenID Connect through GenericOAuthenticator, against a real OpenID
provider run locally. Who someone is comes from the provider; which projects they see comes
from the catalog."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from agoria_tre.testing.platform import TrialPlatform, free_port, prepare
from tests.platform.oidc import Browser, provider

pytestmark = pytest.mark.workspaces

PASSWORDS = {"alice": secrets.token_urlsafe(12), "bob": secrets.token_urlsafe(12)}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrialPlatform]:
    trial = prepare(tmp_path_factory.mktemp("oidc"), datasets=["patients"])
    until = (date.today() + timedelta(days=30)).isoformat()
    for slug in ("cardio", "onco", "derm"):
        trial.cli("project", "create", slug, "--title", slug.title(), "--legal-basis", "MR-004")
    trial.cli("member", "add", "cardio", "alice", "--role", "researcher")
    trial.cli("member", "add", "onco", "alice", "--role", "reviewer")  # reviews, no workspace
    trial.cli("member", "add", "derm", "bob", "--role", "researcher")
    trial.cli("grant", "add", "cardio", "patients@1", "--reference", "R", "--until", until)
    hub_port = free_port()
    secret = secrets.token_hex(16)
    redirect = f"http://127.0.0.1:{hub_port}/hub/oauth_callback"
    with provider(free_port(), redirect, PASSWORDS, secret) as issuer:
        trial.start(
            demo=False,
            public_port=hub_port,
            env={
                "AGORIA_OIDC_ISSUER": issuer,
                "AGORIA_OIDC_CLIENT_ID": "agoria-hub",
                "AGORIA_OIDC_CLIENT_SECRET": secret,
            },
        )
        yield trial
        trial.stop()


def test_a_login_reaches_the_home_page_listing_only_the_users_projects(
    platform: TrialPlatform,
) -> None:
    browser = Browser()
    page = browser.sign_in(platform.public_url, "alice", PASSWORDS["alice"])
    assert page.url == f"{platform.public_url}/hub/home"
    assert page.status == 200
    assert 'data-server-name="cardio"' in page.body
    assert 'href="/hub/spawn/alice/cardio"' in page.body
    # onco: alice only reviews there; derm: not hers.
    assert "onco" not in page.body
    assert "derm" not in page.body
    assert any(name.startswith("jupyterhub-session") for name in browser.cookies())


def test_another_user_sees_their_own_projects(platform: TrialPlatform) -> None:
    page = Browser().sign_in(platform.public_url, "bob", PASSWORDS["bob"])
    assert page.url == f"{platform.public_url}/hub/home"
    assert 'data-server-name="derm"' in page.body
    assert "cardio" not in page.body


def test_a_wrong_password_is_refused_by_the_provider(platform: TrialPlatform) -> None:
    browser = Browser()
    page = browser.sign_in(platform.public_url, "alice", "not-her-password")
    assert page.status == 401
    assert "/interaction/" in page.url
    assert "Invalid username or password" in page.body
    assert not any(name.startswith("jupyterhub-session") for name in browser.cookies())


def test_an_unknown_user_of_the_provider_cannot_sign_in(platform: TrialPlatform) -> None:
    page = Browser().sign_in(platform.public_url, "mallory", "whatever")
    assert page.status == 401
