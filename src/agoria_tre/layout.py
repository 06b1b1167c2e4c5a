"""Where things live under ``AGORIA_HOME``: one place that names every path the platform
builds from catalog facts, so that writers, readers and deleters agree.

Paths returned here are relative to the data directory; :func:`under_home` turns one into
an absolute path and refuses anything that would leave it.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from agoria_tre.errors import ConfigurationError


def copy_dir(project_uid: str, dataset: str, version: int) -> PurePosixPath:
    """A project's copy of one dataset version."""
    return PurePosixPath("copies", project_uid, dataset, f"v{version}")


def workspace_image(project_uid: str) -> PurePosixPath:
    """The fixed-size filesystem image holding a project's writable storage."""
    return PurePosixPath("workspaces", f"{project_uid}.img")


def workspace_mount(project_uid: str) -> PurePosixPath:
    """Where that image is mounted on the host while workspaces may run."""
    return PurePosixPath("workspaces", project_uid)


def starter_dir(project_slug: str) -> PurePosixPath:
    """Files an administrator puts there are copied into each member's new home."""
    return PurePosixPath("starters", project_slug)


def run_dir() -> PurePosixPath:
    """Runtime state of a running platform: sockets, the hub's files, its pid."""
    return PurePosixPath("run")


def under_home(home: Path, relative: str | PurePosixPath) -> Path:
    """``home / relative``, refused when it would point outside ``home``."""
    candidate = PurePosixPath(relative)
    if candidate.is_absolute() or ".." in candidate.parts:
        raise ConfigurationError(
            "a storage path recorded in the catalog points outside the data directory",
            f"refused storage path {str(relative)!r}: not a relative path under {home}",
        )
    return home / candidate
