"""What the hub is configured with, decided from the environment ``agoria-tre hub`` sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from agoria_tre.errors import ConfigurationError
from agoria_tre.hub import config
from agoria_tre.hub.config import HubSettings, OidcSettings

OIDC = {
    "AGORIA_OIDC_ISSUER": "https://idp.chu.example/realms/tre/",
    "AGORIA_OIDC_CLIENT_ID": "agoria",
    "AGORIA_OIDC_CLIENT_SECRET": "s3cret",
}


def test_defaults_are_openid_connect_on_loopback() -> None:
    hub = HubSettings.from_env({**OIDC, "AGORIA_HOME": "/srv/agoria"})
    assert hub.authenticator == config.OIDC_AUTHENTICATOR
    assert hub.public_url == "http://127.0.0.1:8000"
    assert (hub.api_port, hub.proxy_api_port, hub.idle_timeout, hub.reconcile_every) == (
        8081,
        8001,
        3600,
        60,
    )
    assert hub.runtime_url == "unix:///srv/agoria/run/podman.sock"
    assert hub.run_dir == Path("/srv/agoria/run")
    assert hub.subnet_pool == "10.213.0.0/16"
    assert hub.project_storage == "2G"
    assert hub.proxy_api_url == "http://127.0.0.1:8001"
    assert hub.oidc == OidcSettings(
        authorize_url="https://idp.chu.example/realms/tre/auth",
        token_url="https://idp.chu.example/realms/tre/token",
        userdata_url="https://idp.chu.example/realms/tre/me",
        client_id="agoria",
        client_secret="s3cret",
    )


def test_each_oidc_endpoint_may_be_given_on_its_own() -> None:
    oidc = OidcSettings.from_env(
        {
            "AGORIA_OIDC_AUTHORIZE_URL": "https://idp/a",
            "AGORIA_OIDC_TOKEN_URL": "https://idp/t",
            "AGORIA_OIDC_USERDATA_URL": "https://idp/u",
            "AGORIA_OIDC_CLIENT_ID": "c",
            "AGORIA_OIDC_CLIENT_SECRET": "s",
            "AGORIA_OIDC_USERNAME_CLAIM": "email",
        }
    )
    assert (oidc.authorize_url, oidc.token_url, oidc.userdata_url) == (
        "https://idp/a",
        "https://idp/t",
        "https://idp/u",
    )
    assert oidc.username_claim == "email"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "needs AGORIA_OIDC_CLIENT_ID and AGORIA_OIDC_CLIENT_SECRET"),
        (
            {"AGORIA_OIDC_CLIENT_ID": "c", "AGORIA_OIDC_CLIENT_SECRET": "s"},
            "needs AGORIA_OIDC_ISSUER or AGORIA_OIDC_AUTHORIZE_URL",
        ),
    ],
)
def test_oidc_without_its_settings_is_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        HubSettings.from_env(env)


@pytest.mark.parametrize(
    "authenticator",
    ["demo", "dummy", "shared-password", "jupyterhub.auth.DummyAuthenticator"],
)
def test_test_authenticators_need_demo_mode(authenticator: str) -> None:
    with pytest.raises(ConfigurationError, match="refuses to start with the test authenticator"):
        HubSettings.from_env({"AGORIA_HUB_AUTH": authenticator})
    allowed = HubSettings.from_env({"AGORIA_HUB_AUTH": authenticator, "AGORIA_DEMO": "1"})
    assert allowed.oidc is None


def test_demo_mode_uses_the_demo_users() -> None:
    hub = HubSettings.from_env({"AGORIA_HUB_AUTH": "demo", "AGORIA_DEMO": "1"})
    assert hub.authenticator == config.DEMO_AUTHENTICATOR


def test_another_authenticator_class_may_be_named() -> None:
    hub = HubSettings.from_env({"AGORIA_HUB_AUTH": "ldapauthenticator.LDAPAuthenticator"})
    assert hub.authenticator == "ldapauthenticator.LDAPAuthenticator"
    assert hub.oidc is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AGORIA_HUB_URL", "ftp://x", "is not an http"),
        ("AGORIA_HUB_URL", "http://", "is not an http"),
        ("AGORIA_HUB_API_PORT", "eighty", "is not a whole number"),
        ("AGORIA_IDLE_TIMEOUT", "0", "must be positive"),
    ],
)
def test_bad_values_are_refused_with_their_name(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        HubSettings.from_env({**OIDC, name: value})


def test_services_and_their_roles() -> None:
    hub = HubSettings.from_env(
        {
            **OIDC,
            "AGORIA_HOME": "/srv/agoria",
            "AGORIA_KEY_FILE": "/etc/agoria/key",
            "AGORIA_PLATFORM_TOKEN": "p" * 64,
            "AGORIA_ADMIN_TOKEN": "a" * 64,
            "AGORIA_IDLE_TIMEOUT": "600",
        }
    )
    services = {s["name"]: s for s in hub.services()}
    assert set(services) == {
        "idle-culler", "agoria-reconcile", "airlock", "agoria-platform", "agoria-admin",
    }  # fmt: skip
    assert "--timeout=600" in services["idle-culler"]["command"]
    assert "--cull-every=150" in services["idle-culler"]["command"]
    assert services["agoria-reconcile"]["environment"] == {
        "AGORIA_HOME": "/srv/agoria",
        "AGORIA_KEY_FILE": "/etc/agoria/key",
        "AGORIA_RUN_DIR": "/srv/agoria/run",  # the mark a stop ends the run's processes by
    }
    assert services["idle-culler"]["environment"] == {"AGORIA_RUN_DIR": "/srv/agoria/run"}
    airlock = services["airlock"]
    assert airlock["command"][1:] == [
        "-m",
        "agoria_tre.airlock",
        "--AirlockService.bind_ip=0.0.0.0",
    ]
    assert airlock["url"] == "http://127.0.0.1:8082"
    assert airlock["environment"] == {  # never the platform key
        "AGORIA_HOME": "/srv/agoria",
        "AGORIA_RUN_DIR": "/srv/agoria/run",
    }
    assert services["agoria-platform"]["api_token"] == "p" * 64
    roles = {r["name"]: r for r in hub.roles()}
    assert roles["agoria-workspaces"]["services"] == ["agoria-reconcile", "agoria-platform"]
    assert roles["admin"] == {"name": "admin", "services": ["agoria-admin"]}
    assert "delete:servers" in roles["idle-culler"]["scopes"]
    assert roles["user"]["scopes"] == ["self", "access:services!service=airlock"]


def test_without_tokens_there_are_no_token_services() -> None:
    hub = HubSettings.from_env(OIDC)
    assert {s["name"] for s in hub.services()} == {"idle-culler", "agoria-reconcile", "airlock"}
    assert "admin" not in {r["name"] for r in hub.roles()}


def test_the_proxy_command(tmp_path: Path) -> None:
    assert config.proxy_command({"AGORIA_PROXY_COMMAND": '["/opt/chp", "--x"]'}) == [
        "/opt/chp",
        "--x",
    ]
    found = config.proxy_command({})
    assert found[0].endswith("configurable-http-proxy")


def test_the_proxy_is_found_on_path_when_not_installed_beside_the_platform(
    tmp_path: Path,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    chp = bin_dir / "configurable-http-proxy"
    chp.write_text("#!/bin/sh\n")
    chp.chmod(0o755)
    elsewhere = tmp_path / "prefix"  # no lib/agoria-node there
    assert config.proxy_command({"PATH": str(bin_dir)}, prefix=elsewhere) == [str(chp)]
    with pytest.raises(ConfigurationError, match="configurable-http-proxy is not installed"):
        config.proxy_command({"PATH": str(tmp_path)}, prefix=elsewhere)


def test_no_projects_for_an_anonymous_page() -> None:
    assert config.projects_of(None) == []


def test_the_spawner_refuses_a_subnet_pool_that_is_not_a_network() -> None:
    from agoria_tre.hub.spawner import ProjectSpawner

    spawner = ProjectSpawner()
    spawner.subnet_pool = "10.214.0.0/16"
    with pytest.raises(ConfigurationError, match="'nonsense' is not an IPv4 network"):
        spawner.subnet_pool = "nonsense"
    assert spawner.subnet_pool == "10.214.0.0/16"
