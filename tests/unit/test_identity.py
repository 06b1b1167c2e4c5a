"""Who runs a process, from the operating system: names from uids, sudo's user, and who may
name another actor."""

from __future__ import annotations

import grp
import os
import pwd

import pytest

from agoria_tre import identity

NOBODY = pwd.getpwnam("nobody")


def test_a_uid_is_named_from_the_user_database() -> None:
    assert identity.user_name(0) == "root"
    assert identity.user_name(NOBODY.pw_uid) == "nobody"
    assert identity.user_name(4_242_424) == "uid:4242424"  # no passwd entry
    assert identity.process_user() == pwd.getpwuid(os.getuid()).pw_name


def test_the_environment_does_not_say_who_invokes(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("USER", "LOGNAME", "SUDO_USER"):
        monkeypatch.setenv(variable, "alice")
    monkeypatch.delenv("SUDO_UID", raising=False)
    assert identity.invoking_user() == pwd.getpwuid(os.getuid()).pw_name


def test_under_sudo_root_acts_for_the_user_sudo_ran_it_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert os.getuid() == 0  # the suite runs as root, as the platform does
    monkeypatch.setenv("SUDO_UID", str(NOBODY.pw_uid))
    assert identity.invoking_user() == "nobody"
    monkeypatch.setenv("SUDO_UID", "not-a-number")
    assert identity.invoking_user() == "root"


def test_only_root_and_the_admin_group_may_name_another_actor() -> None:
    nogroup = grp.getgrnam("nogroup")
    assert identity.may_name_actor(uid=0, gids=set())
    assert not identity.may_name_actor(uid=NOBODY.pw_uid, gids={NOBODY.pw_gid})
    assert identity.may_name_actor("nogroup", uid=NOBODY.pw_uid, gids={nogroup.gr_gid})
    assert not identity.may_name_actor("no-such-group-here", uid=NOBODY.pw_uid, gids={0})
    assert identity.may_name_actor() == (os.getuid() == 0)
