"""What a project workspace container is: decided here, by a pure function, and nowhere else.

:func:`workspace_spec` turns catalog facts (the project, the user, the dataset versions the
project may mount now, its network) and the operator's settings into a
:class:`ContainerSpec`. It reads no database, calls no runtime and touches no file, so every
rule can be tested by comparing whole values. Spawners only translate a spec for their
runtime (``hub.docker`` for the Docker API, which Podman serves too).

The rules, each tested:

- mounts: each mountable version's project copy read-only at ``/data/NAME/vN``; the
  project's shared folder read-write at ``/project``; this user's home for this project
  read-write at ``/home/researcher``; nothing else from the host;
- network: the project's internal network only (no default route, no DNS), with the hub
  reached on that network's gateway, and the airlock too (``AGORIA_AIRLOCK_URL``);
- hardening: every capability dropped, ``no-new-privileges``, a read-only root filesystem
  with a size-capped ``/tmp``, memory (without extra swap), CPU and process limits, no
  devices, an unprivileged user;
- environment: the project, the user and the paths; never a secret of the platform.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agoria_tre import layout

HOME_IN_CONTAINER = "/home/researcher"
PROJECT_IN_CONTAINER = "/project"
DATA_IN_CONTAINER = "/data"
LABEL_PREFIX = "org.agoria-tre."
AIRLOCK_PREFIX = "/services/airlock/"  # the hub serves its service named "airlock" there


@dataclass(frozen=True)
class Limits:
    """Per-workspace resource limits. ``memory_bytes`` is also the memory+swap cap."""

    memory_bytes: int
    cpus: float
    pids: int
    tmp_bytes: int


@dataclass(frozen=True)
class WorkspaceSettings:
    """The operator's side of a spec: what every workspace gets."""

    home: Path  # AGORIA_HOME on the host
    image: str  # a recorded image reference (see ``hub.images``)
    limits: Limits
    hub_port: int  # the hub's API port, which workspaces reach on their gateway
    airlock_port: int = 0  # the airlock's port, reached the same way (0: no airlock)
    uid: int = 1000
    gid: int = 1000


@dataclass(frozen=True)
class ProjectNetwork:
    """A project's internal network, as the platform allocated and recorded it."""

    name: str
    subnet: ipaddress.IPv4Network

    @property
    def gateway(self) -> ipaddress.IPv4Address:
        return self.subnet.network_address + 1


@dataclass(frozen=True, order=True)
class MountedVersion:
    """A dataset version the project may mount now (``catalog.grants.mountable_versions``)."""

    dataset: str
    version: int

    @property
    def label(self) -> str:
        return f"{self.dataset}@{self.version}"


@dataclass(frozen=True)
class Mount:
    source: Path  # on the host
    target: str  # in the container
    read_only: bool


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    user: str  # "UID:GID"
    mounts: tuple[Mount, ...]
    tmpfs: tuple[tuple[str, str], ...]  # (path, mount options)
    network: ProjectNetwork
    hub_connect_url: str
    env: tuple[tuple[str, str], ...]
    limits: Limits
    labels: tuple[tuple[str, str], ...]
    cap_drop: tuple[str, ...] = ("ALL",)
    security_opt: tuple[str, ...] = ("no-new-privileges",)
    read_only_root: bool = True
    mounted: tuple[MountedVersion, ...] = field(default=())

    @property
    def environment(self) -> dict[str, str]:
        return dict(self.env)


_SAFE = re.compile(r"[^a-z0-9]")


def safe_name(value: str) -> str:
    """A name fit for a folder or a container: lower-case letters and digits kept, every
    other character written ``-XX`` (its code point in hex), so two names never collide."""
    return _SAFE.sub(lambda m: "".join(f"-{b:02x}" for b in m.group().encode()), value.lower())


def airlock_url(network: ProjectNetwork, port: int) -> str:
    """Where a workspace on ``network`` reaches the airlock service (its gateway)."""
    return f"http://{network.gateway}:{port}{AIRLOCK_PREFIX}"


def workspace_storage(home: Path, project_uid: str) -> Path:
    return home / layout.workspace_mount(project_uid)


def workspace_spec(
    *,
    project_slug: str,
    project_uid: str,
    user: str,
    versions: Sequence[MountedVersion],
    network: ProjectNetwork,
    settings: WorkspaceSettings,
) -> ContainerSpec:
    """The container of ``user``'s workspace for one project."""
    storage = workspace_storage(settings.home, project_uid)
    mounted = tuple(sorted(set(versions)))
    data = tuple(
        Mount(
            source=settings.home / layout.copy_dir(project_uid, v.dataset, v.version),
            target=f"{DATA_IN_CONTAINER}/{v.dataset}/v{v.version}",
            read_only=True,
        )
        for v in mounted
    )
    writable = (
        Mount(source=storage / "project", target=PROJECT_IN_CONTAINER, read_only=False),
        Mount(
            source=storage / "homes" / safe_name(user),
            target=HOME_IN_CONTAINER,
            read_only=False,
        ),
    )
    env: Mapping[str, str] = {
        "HOME": HOME_IN_CONTAINER,
        "USER": "researcher",
        "AGORIA_PROJECT": project_slug,
        "AGORIA_USER": user,
        "AGORIA_DATA": DATA_IN_CONTAINER,
        "AGORIA_PROJECT_DIR": PROJECT_IN_CONTAINER,
        "MPLCONFIGDIR": f"{HOME_IN_CONTAINER}/.config/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if settings.airlock_port:
        # The export button's server side calls the airlock directly, with its own token.
        env = {**env, "AGORIA_AIRLOCK_URL": airlock_url(network, settings.airlock_port)}
    labels = {
        "project": project_slug,
        "project-uid": project_uid,
        "user": user,
        "datasets": ",".join(v.label for v in mounted),
    }
    return ContainerSpec(
        name=f"agoria-ws-{project_slug}-{safe_name(user)}",
        image=settings.image,
        user=f"{settings.uid}:{settings.gid}",
        mounts=(*data, *writable),
        tmpfs=(("/tmp", f"rw,nosuid,nodev,noexec,size={settings.limits.tmp_bytes}"),),  # noqa: S108
        network=network,
        hub_connect_url=f"http://{network.gateway}:{settings.hub_port}",
        env=tuple(sorted(env.items())),
        limits=settings.limits,
        labels=tuple(sorted((LABEL_PREFIX + k, v) for k, v in labels.items())),
        mounted=mounted,
    )
