"""A project's writable storage: ``/project`` and the members' homes, under a hard cap.

Each project gets one fixed-size ext4 image (``AGORIA_HOME/workspaces/<uid>.img``, sparse:
it takes disk only as it fills) mounted on a loop device at ``AGORIA_HOME/workspaces/<uid>``
while its workspaces may run. A workspace that fills it gets "no space left on device"
inside its own filesystem; the host's disk is untouched. The image has no blocks reserved
for root, so the cap is the same for everyone.

Inside: ``project/`` (shared by the project's researchers) and ``homes/<user>/`` (one per
member, mounted only into that member's workspace), owned by the workspace's unprivileged
user.

The catalog records each project's storage (``workspace_storage``): its cap, and once the
project is archived, until when it is kept read-only before ``agoria-tre project
purge-storage`` may delete it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from agoria_tre import audit, layout
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.grants import today
from agoria_tre.catalog.models import WorkspaceStorage, utcnow
from agoria_tre.catalog.projects import get_project
from agoria_tre.errors import ConfigurationError, Conflict, NotFound
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


def ensure(
    home: Path,
    project_uid: str,
    user: str,
    *,
    size_bytes: int,
    uid: int,
    gid: int,
    starters: Path | None = None,
) -> Path:
    """Mount the project's storage (making it the first time) and the user's home in it; a
    home made now receives a copy of the regular files in ``starters`` (links and folders
    there are skipped)."""
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
    new_home = not user_home.is_dir()
    for path, mode in ((project_dir, 0o770), (homes, 0o700), (user_home, 0o700)):
        if not path.is_dir():
            path.mkdir(mode=mode)
            if path is not homes:
                os.chown(path, uid, gid)
            os.chmod(path, mode)
    if new_home and starters is not None and starters.is_dir():
        for source in sorted(starters.iterdir()):
            if source.is_file() and not source.is_symlink():
                target = user_home / source.name
                shutil.copyfile(source, target, follow_symlinks=False)
                os.chown(target, uid, gid)
                os.chmod(target, 0o600)
                log.info("starter file %s copied into %s's new home", source.name, user)
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
            except ConfigurationError as exc:  # pragma: no cover - still busy: left mounted
                log.warning("%s", exc.log_message)


# --- the record in the catalog: cap, quarantine, purge ----------------------------------


def _row(session: Session, project_id: int) -> WorkspaceStorage | None:
    return session.scalar(select(WorkspaceStorage).where(WorkspaceStorage.project_id == project_id))


def record(catalog: Catalog, slug: str, size_bytes: int, *, actor: str) -> int:
    """The project's storage cap: recorded the first time (``storage.create``), then that
    one whatever the configuration says later, since the image is made once."""

    def find(session: Session) -> int | None:
        row = _row(session, get_project(session, slug).id)
        return None if row is None else row.size_bytes

    def make(session: Session) -> int:
        session.add(WorkspaceStorage(project=get_project(session, slug), size_bytes=size_bytes))
        audit.record(
            session,
            actor=actor,
            action="storage.create",
            target=f"storage:{slug}",
            project=slug,
            details={"size_bytes": size_bytes},
        )
        return size_bytes

    return catalog.find_or_make(find, make)


def quarantine(catalog: Catalog, slug: str, *, keep_days: int, actor: str) -> date | None:
    """An archived project's storage: unmounted, read-only, kept ``keep_days`` days (its
    derived data stays behind in /project and the homes). None when it has none."""
    home = catalog.settings.home
    with catalog.write() as session:
        project = get_project(session, slug)
        if project.is_active:
            raise Conflict(f"project {slug!r} is active: archive it first")
        row = _row(session, project.id)
        if row is None or row.purged_at is not None:
            return None
        keep_until = today(catalog.settings.timezone) + timedelta(days=keep_days)
        row.keep_until = keep_until
        uid = project.uid
        audit.record(
            session,
            actor=actor,
            action="storage.quarantine",
            target=f"storage:{slug}",
            project=slug,
            details={"keep_until": keep_until},
        )
    unmount(home, uid)
    image = home / layout.workspace_image(uid)
    if image.exists():
        os.chmod(image, 0o400)
    return keep_until


def purge(catalog: Catalog, slug: str, *, actor: str) -> None:
    """Delete an archived project's storage once its retention has passed."""
    home = catalog.settings.home
    with catalog.write() as session:
        project = get_project(session, slug)
        row = _row(session, project.id)
        if row is None or row.purged_at is not None:
            raise NotFound(f"project {slug!r} has no workspace storage to purge")
        if row.keep_until is None:
            raise Conflict(f"project {slug!r} is not archived: its storage is in use")
        day = today(catalog.settings.timezone)
        if row.keep_until > day:
            raise Conflict(f"project {slug!r}'s storage is kept until {row.keep_until.isoformat()}")
        row.purged_at = utcnow()
        uid = project.uid
        audit.record(
            session,
            actor=actor,
            action="storage.purge",
            target=f"storage:{slug}",
            project=slug,
            details={"kept_until": row.keep_until},
        )
    unmount(home, uid)
    (home / layout.workspace_image(uid)).unlink(missing_ok=True)
    mount = mount_point(home, uid)
    if mount.is_dir():
        mount.rmdir()
