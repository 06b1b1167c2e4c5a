"""Demo logins: generated passwords, stored only as scrypt hashes, owner-only."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agoria_tre.errors import Conflict, InvalidInput
from agoria_tre.hub.auth import DemoAuthenticator, add_user, check_password


def test_a_user_gets_a_generated_password_stored_hashed(tmp_path: Path) -> None:
    path = tmp_path / "hub" / "demo-users.json"
    password = add_user(path, "alice")
    assert len(password) >= 16
    assert path.stat().st_mode & 0o777 == 0o600
    assert password not in path.read_text()
    assert set(json.loads(path.read_text())["alice"]) == {"salt", "scrypt"}
    assert check_password(path, "alice", password)
    assert not check_password(path, "alice", password + "x")
    assert not check_password(path, "bob", password)
    assert add_user(path, "bob") != password  # never a shared password


def test_a_user_cannot_be_made_twice_or_with_a_bad_name(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_user(path, "alice")
    with pytest.raises(Conflict):
        add_user(path, "alice")
    with pytest.raises(InvalidInput):
        add_user(path, "two words")


def test_the_authenticator_checks_the_file(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    password = add_user(path, "alice")
    auth = DemoAuthenticator(users_file=str(path))
    login = asyncio.run(auth.authenticate(None, {"username": " alice ", "password": password}))
    assert login == "alice"
    assert asyncio.run(auth.authenticate(None, {"username": "alice", "password": "x"})) is None
    assert asyncio.run(auth.authenticate(None, {"username": "", "password": ""})) is None
    assert auth.check_allowed("alice")
    assert not auth.check_allowed("mallory")


def test_the_file_defaults_to_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGORIA_HOME", str(tmp_path))
    password = add_user(tmp_path / "hub" / "demo-users.json", "alice")
    auth = DemoAuthenticator()
    assert asyncio.run(auth.authenticate(None, {"username": "alice", "password": password}))
    monkeypatch.delenv("AGORIA_HOME")
    with pytest.raises(Exception, match="needs users_file or AGORIA_HOME"):
        auth.check_allowed("alice")
