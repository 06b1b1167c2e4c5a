"""Logins for the embedded demo: named users, each with a generated password shown once.

Production logs in through OpenID Connect (``oauthenticator.generic.GenericOAuthenticator``;
the identity provider enforces MFA). The demo instead has its own users, each with a random
password printed once when the user is made and stored only as a salted scrypt hash in an
owner-only file: never a shared password. The hub refuses to start with this authenticator
unless demo mode is explicit (``AGORIA_DEMO=1``, see ``hub.config``).

Who may do what in a project always comes from the catalog, never from the login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from jupyterhub.auth import Authenticator
from traitlets import Unicode

from agoria_tre.errors import ConfigurationError, Conflict
from agoria_tre.names import check_actor

SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)


def _load(path: Path) -> dict[str, dict[str, str]]:
    try:
        data: dict[str, dict[str, str]] = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return data


def add_user(path: Path, username: str) -> str:
    """Make a demo user; returns its password, which is stored nowhere in clear."""
    username = check_actor(username)
    users = _load(path)
    if username in users:
        raise Conflict(f"demo user {username!r} already exists")
    password = secrets.token_urlsafe(12)
    salt = secrets.token_bytes(16)
    users[username] = {
        "salt": base64.b64encode(salt).decode(),
        "scrypt": base64.b64encode(_hash(password, salt)).decode(),
    }
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(users, handle, indent=1, sort_keys=True)
    tmp.replace(path)
    return password


def check_password(path: Path, username: str, password: str) -> bool:
    record = _load(path).get(username)
    if record is None:
        _hash(password, b"\0" * 16)  # the same work either way: no user enumeration by time
        return False
    expected = base64.b64decode(record["scrypt"])
    return hmac.compare_digest(_hash(password, base64.b64decode(record["salt"])), expected)


class DemoAuthenticator(Authenticator):  # type: ignore[misc]
    """Users of the embedded demo, with generated passwords (``agoria-tre hub demo-user``)."""

    users_file = Unicode(
        "",
        config=True,
        help="""Owner-only JSON file of the demo users and their scrypt password hashes.

        Empty means ``$AGORIA_HOME/hub/demo-users.json``. Written by
        ``agoria-tre hub demo-user NAME``, which prints the generated password once. Example:
        ``c.DemoAuthenticator.users_file = "/var/lib/agoria-tre/hub/demo-users.json"``.
        """,
    )

    def _path(self) -> Path:
        if self.users_file:
            return Path(self.users_file)
        home = os.environ.get("AGORIA_HOME")
        if not home:
            raise ConfigurationError("DemoAuthenticator needs users_file or AGORIA_HOME")
        return Path(home) / "hub" / "demo-users.json"

    def check_allowed(self, username: str, authentication: Any = None) -> bool:
        return username in _load(self._path())

    async def authenticate(self, handler: Any, data: dict[str, str]) -> str | None:
        username = (data.get("username") or "").strip()
        password = data.get("password") or ""
        if username and password and check_password(self._path(), username, password):
            return username
        self.log.warning("demo login refused for %r", username[:64])
        return None
