"""A project's writable storage: ``/project`` and the members' homes, under a hard cap.

Each project gets one fixed-size ext4 image (``AGORIA_HOME/workspaces/<uid>.img``, sparse:
it takes disk only as it fills) mounted on a loop device at ``AGORIA_HOME/workspaces/<uid>``
while its workspaces may run. A workspace that fills it gets "no space left on device"
inside its own filesystem; the host's disk is untouched. The image has no blocks reserved
for root, so the cap is the same for everyone.

Inside: ``project/`` (shared by the project's researchers) and ``homes/<user>/`` (one per
member, mounted only into that member's workspace), owned by the workspace's unprivileged
user.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

from agoria_tre import layout
from agoria_tre.errors import ConfigurationError
from agoria_tre.hub.spec import safe_name

log = logging.getLogger(__name__)


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise ConfigurationError(
            "the project's storage cannot be prepared on this host", f"{what}: {exc}"
        ) from exc
    if done.returncode != 0:
        raise ConfigurationError(
            "the project's storage cannot be prepared on this host",
            f"{what} failed ({done.returncode}): {done.stderr.strip()}",
        )


def mount_point(home: Path, project_uid: str) -> Path:
    return home / layout.workspace_mount(project_uid)


def ensure(home: Path, project_uid: str, user: str, *, size_bytes: int, uid: int, gid: int) -> Path:
    """Mount the project's storage (making it the first time) and the user's home in it."""
    image = home / layout.workspace_image(project_uid)
    mount = mount_point(home, project_uid)
    if not os.path.ismount(mount):
        mount.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not image.exists():
            tmp = image.with_suffix(".new")
            with tmp.open("wb") as handle:
                handle.truncate(size_bytes)
            os.chmod(tmp, 0o600)
            _run(
                ["mkfs.ext4", "-q", "-F", "-m", "0", "-L", "agoria-ws", str(tmp)],
                f"mkfs.ext4 {tmp}",
            )
            tmp.replace(image)
            log.info("storage image for project %s made (%d bytes)", project_uid, size_bytes)
        mount.mkdir(mode=0o700, exist_ok=True)
        _run(["mount", "-o", "loop,nosuid,nodev", str(image), str(mount)], f"mount {image}")
        log.info("storage of project %s mounted at %s", project_uid, mount)
    # Bind mounts are resolved by the runtime as root: the folders above the ones the
    # workspace sees stay owner-only.
    os.chmod(mount, 0o700)
    project_dir = mount / "project"
    homes = mount / "homes"
    user_home = homes / safe_name(user)
    for path, mode in ((project_dir, 0o770), (homes, 0o700), (user_home, 0o700)):
        if not path.is_dir():
            path.mkdir(mode=mode)
            if path is not homes:
                os.chown(path, uid, gid)
            os.chmod(path, mode)
    return mount


def unmount(home: Path, project_uid: str) -> None:
    mount = mount_point(home, project_uid)
    if os.path.ismount(mount):
        _run(["umount", str(mount)], f"umount {mount}")
        log.info("storage of project %s unmounted", project_uid)


def unmount_all(home: Path) -> None:
    """At shutdown, after the workspaces have stopped."""
    root = home / "workspaces"
    if not root.is_dir():
        return
    for mount in sorted(root.iterdir()):
        if mount.is_dir() and os.path.ismount(mount):
            try:
                unmount(home, mount.name)
            except ConfigurationError as exc:
                log.warning("%s", exc.log_message)
