"""Who runs this process, from the operating system rather than from the environment.

``USER``, ``LOGNAME`` and ``SUDO_USER`` are the caller's to set. The audit log records the
process's real user (:func:`process_user`, from its uid) beside the actor a command names,
and only root or members of the platform's admin group may name an actor other than
themselves (:func:`may_name_actor`). The group's name is fixed, not read from the
environment, which would let anyone name their own group. Root can still do anything on its
host: see ``docs/operators.md``.
"""

from __future__ import annotations

import functools
import grp
import os
import pwd

ADMIN_GROUP = "agoria-admins"


def _name_of(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def user_name(uid: int) -> str:
    """A uid's name, or ``uid:N`` when it has none."""
    return _name_of(uid) or f"uid:{uid}"


@functools.cache
def process_user() -> str:
    """The real user of this process."""
    return user_name(os.getuid())


def invoking_user() -> str | None:
    """The user a command acts for by default: the process's real user, or, when root runs
    it through sudo, the user sudo ran it for (sudo sets ``SUDO_UID``; only root could have
    set it otherwise, and root is trusted with the host anyway)."""
    uid = os.getuid()
    sudo_uid = os.environ.get("SUDO_UID", "")
    if uid == 0 and sudo_uid.isdigit():
        return _name_of(int(sudo_uid))
    return _name_of(uid)


def may_name_actor(
    group: str = ADMIN_GROUP, *, uid: int | None = None, gids: set[int] | None = None
) -> bool:
    """Whether a process (this one, unless ``uid`` and ``gids`` say another) may record an
    actor other than its own user: root, or a member of the admin group."""
    uid = os.getuid() if uid is None else uid
    gids = {os.getgid(), *os.getgroups()} if gids is None else gids
    if uid == 0:
        return True
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:  # no such group on this host: nobody but root
        return False
    return gid in gids
