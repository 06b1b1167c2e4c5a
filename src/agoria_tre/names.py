"""The shapes of names the platform accepts, checked in one place.

Project slugs become container, network and directory names, so they are strict:
lowercase ``[a-z0-9-]``, 3 to 40 characters, starting and ending with a letter or digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agoria_tre.errors import InvalidInput

SLUG_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]")
# User names as JupyterHub normalises them after OIDC login: lowercase, may be an e-mail.
USERNAME_RE = re.compile(r"[a-z0-9](?:[a-z0-9._@+-]{0,62}[a-z0-9])?")
DATASET_NAME_RE = re.compile(r"[a-z][a-z0-9_-]{0,63}")
MAX_TEXT = 200
MAX_ACTOR = 64
MAX_VERSION = 2**31 - 1


def check_slug(slug: str) -> str:
    if not SLUG_RE.fullmatch(slug) or "--" in slug:
        raise InvalidInput(
            f"invalid project slug {slug!r}: use 3 to 40 lowercase letters, digits and single"
            " hyphens, starting and ending with a letter or digit (e.g. 'covid-eap-2026')"
        )
    return slug


def check_username(username: str) -> str:
    if not USERNAME_RE.fullmatch(username):
        raise InvalidInput(
            f"invalid user name {username!r}: use 1 to 64 lowercase letters, digits and"
            " '.', '_', '-', '@', '+', starting and ending with a letter or digit"
        )
    return username


def check_actor(actor: str) -> str:
    """Who acted, as the audit log records it: a name in the platform's user-name form
    (ASCII: a look-alike of "alice" spelt with a Cyrillic letter is refused, not recorded)."""
    if not USERNAME_RE.fullmatch(actor):
        raise InvalidInput(
            f"invalid actor {actor!r}: use 1 to {MAX_ACTOR} lowercase ASCII letters, digits"
            " and '.', '_', '-', '@', '+', starting and ending with a letter or digit"
        )
    return actor


def check_dataset_name(name: str) -> str:
    if not DATASET_NAME_RE.fullmatch(name):
        raise InvalidInput(
            f"invalid dataset name {name!r}: use up to 64 lowercase letters, digits, '_' and"
            " '-', starting with a letter"
        )
    return name


def check_text(label: str, value: str) -> str:
    """A free-text field: non-empty after trimming, one line, at most 200 characters."""
    cleaned = value.strip()
    if not cleaned or len(cleaned) > MAX_TEXT or not cleaned.isprintable():
        raise InvalidInput(f"{label} must be one line of 1 to {MAX_TEXT} printable characters")
    return cleaned


@dataclass(frozen=True)
class DatasetRef:
    """``NAME@VERSION``, as admins type it."""

    name: str
    version: int

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"

    @classmethod
    def parse(cls, text: str) -> DatasetRef:
        name, sep, version = text.partition("@")
        if (
            not sep
            or not (version.isascii() and version.isdigit() and len(version) <= 10)
            or not 1 <= int(version) <= MAX_VERSION
        ):
            raise InvalidInput(
                f"invalid dataset version {text!r}: write NAME@VERSION, e.g. 'patients@2'"
            )
        return cls(check_dataset_name(name), int(version))
