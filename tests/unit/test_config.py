from __future__ import annotations

from pathlib import Path

import pytest

from agoria_tre.config import DEFAULT_HOME, Settings
from agoria_tre.errors import ConfigurationError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.home == DEFAULT_HOME
    assert settings.db_url == f"sqlite:///{DEFAULT_HOME}/catalog.sqlite"
    assert settings.audit_anchor == DEFAULT_HOME / "audit" / "anchor.log"
    assert settings.is_embedded
    assert str(settings.timezone) == "Europe/Paris"


def test_environment_overrides(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "AGORIA_HOME": str(tmp_path),
            "AGORIA_DB_URL": "postgresql+psycopg://agoria@/agoria",
            "AGORIA_AUDIT_ANCHOR": str(tmp_path / "worm" / "anchor"),
            "AGORIA_TIMEZONE": "UTC",
        }
    )
    assert not settings.is_embedded
    assert settings.audit_anchor == tmp_path / "worm" / "anchor"


def test_unknown_timezone_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="not a known time zone"):
        Settings.from_env({"AGORIA_TIMEZONE": "Mars/Olympus"})


def test_unwritable_home_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigurationError, match="set AGORIA_HOME"):
        Settings.from_env({"AGORIA_HOME": str(blocker / "home")}).ensure_dirs()


def test_data_directories_are_owner_only(tmp_path: Path) -> None:
    settings = Settings.from_env({"AGORIA_HOME": str(tmp_path / "a" / "home")})
    settings.ensure_dirs()
    assert (settings.home.stat().st_mode & 0o777) == 0o700
    assert (settings.audit_anchor.parent.stat().st_mode & 0o777) == 0o700
