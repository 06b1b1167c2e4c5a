"""``ProjectSpawner``: one named server per project, in a container the spec builder decides.

The server's name is the project's slug. On each start the spawner asks the catalog whether
this user may open this project's workspace now, which versions the project may mount
(``catalog.grants.mountable_versions``, nothing else), which network is the project's and
which image is recorded; it prepares the project's storage and network; it stops the user's
other running workspace (all of a user's servers share one web origin, so one page could
script another: one project workspace per user at a time); then it hands the pure
:func:`~agoria_tre.hub.spec.workspace_spec` to the Docker API through DockerSpawner's
machinery (start, poll, stop, address). Each start and stop is written to the audit log
with the mounted set.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

from dockerspawner import DockerSpawner
from jupyterhub.traitlets import ByteSpecification
from sqlalchemy import select
from tornado import web
from traitlets import Float, Integer, Unicode, default, validate

from agoria_tre import audit, images, layout
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.grants import mountable_versions
from agoria_tre.catalog.models import DatasetCopy
from agoria_tre.catalog.projects import get_project
from agoria_tre.config import Settings
from agoria_tre.errors import (
    AgoriaError,
    ConfigurationError,
    Conflict,
    NotFound,
    PermissionDenied,
)
from agoria_tre.hub import docker as docker_api
from agoria_tre.hub import networks, storage
from agoria_tre.hub.spec import (
    ContainerSpec,
    Limits,
    MountedVersion,
    WorkspaceSettings,
    workspace_spec,
)
from agoria_tre.permissions import Actor, check_spawn

STATUS = {PermissionDenied: 403, NotFound: 404, Conflict: 409, ConfigurationError: 503}


class WorkspaceRefused(web.HTTPError):
    """A start refused on purpose. The user sees only ``user_message`` (on the spawn page
    and in API answers); the operator's detail was logged when it was raised."""

    def __init__(self, error: AgoriaError) -> None:
        status = next((s for kind, s in STATUS.items() if isinstance(error, kind)), 400)
        super().__init__(status, "%s", error.user_message)
        self.jupyterhub_message = error.user_message


@functools.lru_cache(maxsize=1)
def platform_catalog() -> Catalog:
    """The catalog of this hub (``AGORIA_HOME``/``AGORIA_DB_URL`` of the hub's process)."""
    return Catalog(Settings.from_env())


class ProjectSpawner(DockerSpawner):  # type: ignore[misc]
    """Spawns a project's workspace; the server name is the project's slug."""

    subnet_pool = Unicode(
        "10.213.0.0/16",
        config=True,
        help="""Private IPv4 range from which each project's network gets its /24.

        A project keeps its subnet for good; the host firewall confines the whole range.
        Choose a range no other network of the host uses. Example:
        ``c.ProjectSpawner.subnet_pool = "10.213.0.0/16"``.
        """,
    )
    workspace_memory = ByteSpecification(
        "4G",
        config=True,
        help="""Memory of one workspace, swap included (K, M, G or T suffix). The kernel ends
        the largest process of a workspace that goes over. Example:
        ``c.ProjectSpawner.workspace_memory = "8G"``.""",
    )
    workspace_cpus = Float(
        1.0,
        config=True,
        help="""CPUs one workspace may use (fractions allowed). Example:
        ``c.ProjectSpawner.workspace_cpus = 2.0``.""",
    )
    workspace_pids = Integer(
        512,
        config=True,
        help="""Most processes and threads one workspace may have at once. Example:
        ``c.ProjectSpawner.workspace_pids = 1024``.""",
    )
    workspace_tmp = ByteSpecification(
        "512M",
        config=True,
        help="""Size of the workspace's /tmp (memory-backed, counted in workspace_memory).
        Example: ``c.ProjectSpawner.workspace_tmp = "1G"``.""",
    )
    project_storage = ByteSpecification(
        "2G",
        config=True,
        help="""Hard cap of a project's writable storage (/project and every member's home
        together), fixed when the project's first workspace starts; a workspace that fills it
        gets "no space left on device". Example:
        ``c.ProjectSpawner.project_storage = "50G"``.""",
    )
    workspace_uid = Integer(
        1000, config=True, help="Unprivileged user id the workspace runs as (the image's)."
    )
    workspace_gid = Integer(1000, config=True, help="Group id the workspace runs as (the image's).")
    airlock_port = Integer(
        0,
        config=True,
        help="""The airlock service's port, which workspaces reach on their network's
        gateway (given to them as ``AGORIA_AIRLOCK_URL``); 0: no airlock.""",
    )

    @validate("subnet_pool")
    def _valid_pool(self, proposal: Any) -> str:
        networks.parse_pool(proposal["value"])  # raises with a message saying how to fix it
        return str(proposal["value"])

    @default("image")
    def _image_default(self) -> str:
        return ""  # the newest image recorded in the catalog

    @default("remove")
    def _remove_default(self) -> bool:
        return True

    @default("use_internal_ip")
    def _internal_ip_default(self) -> bool:
        return True

    @default("pull_policy")
    def _pull_default(self) -> str:
        return "never"  # only images built and recorded here run

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._spec: ContainerSpec | None = None

    # --- what DockerSpawner asks -------------------------------------------------------

    def get_env(self) -> dict[str, str]:
        env: dict[str, str] = super().get_env()
        env.pop("JUPYTER_IMAGE_SPEC", None)
        # DockerSpawner asks only once start() has built the spec.
        if self._spec is not None:  # pragma: no branch
            env.update(self._spec.environment)
        return env

    async def create_object(self) -> dict[str, Any]:
        spec = self._spec
        if spec is None:  # pragma: no cover - start() always builds the spec first
            raise RuntimeError("create_object called before start()")
        kwargs = docker_api.create_kwargs(
            spec, environment=self.get_env(), command=await self.get_command()
        )
        kwargs["host_config"] = self.client.create_host_config(**docker_api.host_config(spec))
        return await self.docker("create_container", **kwargs)  # type: ignore[no-any-return]

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = super().get_state()
        if self._spec is not None and self.object_id:
            state["mounted"] = [v.label for v in self._spec.mounted]
        return state

    # --- start and stop ----------------------------------------------------------------

    async def start(self) -> Any:
        self._stopped_for_this = None
        began = time.perf_counter()
        try:
            spec = await self._prepare()
        except AgoriaError as exc:
            self.log.warning("workspace %s refused: %s", self._log_name, exc.log_message)
            raise WorkspaceRefused(exc) from None
        self._spec = spec
        self.image = spec.image
        self.object_name = spec.name
        self.network_name = spec.network.name
        self.hub_connect_url = spec.hub_connect_url
        prepared = time.perf_counter()
        result = await super().start()
        started = time.perf_counter()
        await self._until_listening(*result)
        await self._audit("workspace.start", {"mounted": [v.label for v in spec.mounted]})
        self.log.info(
            "workspace %s: prepared in %.2f s, container started in %.2f s, server listening"
            " %.2f s later",
            self._log_name,
            prepared - began,
            started - prepared,
            time.perf_counter() - started,
        )
        return result

    async def _until_listening(self, ip: str, port: int) -> None:
        """Return once the workspace's server accepts connections, checking every 50 ms: the
        hub then finds it up at its first check instead of after its exponential back-off
        (0.2, 0.4, 0.8, 1.6 s...), which cost up to a second per spawn."""
        deadline = time.perf_counter() + self.http_timeout
        # Past http_timeout the hub's own check decides.
        while time.perf_counter() < deadline:  # pragma: no branch
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), 1)
            except (OSError, TimeoutError):
                status = await self.poll()
                if status is not None:  # pragma: no cover - a server dying as it starts
                    self.log.error("workspace %s exited while starting: %s", self._log_name, status)
                    raise web.HTTPError(500, "the workspace stopped while starting") from None
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return

    async def stop(self, now: bool = False) -> None:
        container = self.object_id  # empty when no container was made (a refused start)
        mounted = [v.label for v in self._spec.mounted] if self._spec is not None else None
        await super().stop(now=now)
        if container:  # pragma: no branch - a stop of a start refused before its container
            await self._audit("workspace.stop", {"container": self.object_name, "mounted": mounted})

    async def _audit(self, action: str, details: dict[str, Any]) -> None:
        catalog = platform_catalog()

        def write() -> None:
            with catalog.write() as session:
                audit.record(
                    session,
                    actor=self.user.name,
                    action=action,
                    target=f"workspace:{self.user.name}",
                    project=self.name or None,
                    details=details,
                )

        await asyncio.to_thread(write)

    async def _prepare(self) -> ContainerSpec:
        slug = self.name
        if not slug:
            raise NotFound("choose a project on the home page: each workspace belongs to one")
        catalog = platform_catalog()
        settings = catalog.settings
        pool = networks.parse_pool(self.subnet_pool)
        project_uid, versions, image = await asyncio.to_thread(self._read_catalog, catalog, slug)
        found = await self.docker("inspect_image", image.reference)
        if found["Id"].removeprefix("sha256:") != image.image_id.removeprefix("sha256:"):
            raise ConfigurationError(
                "the workspace image is not the one the platform recorded; workspaces cannot"
                " start (ask a platform administrator to run agoria-tre image build)",
                f"image {image.reference} is {found['Id']} in the runtime, recorded as"
                f" {image.image_id}",
            )
        await self._stop_other_workspaces()
        network = await asyncio.to_thread(
            networks.allocate, catalog, slug, pool, actor=self.user.name
        )
        # Docker calls go through DockerSpawner's own executor, one at a time.
        await asyncio.wrap_future(self.executor.submit(networks.ensure, self.client, network))
        size = await asyncio.to_thread(
            storage.record, catalog, slug, int(self.project_storage), actor=self.user.name
        )
        await asyncio.to_thread(
            storage.ensure,
            settings.home,
            project_uid,
            self.user.name,
            size_bytes=size,
            uid=self.workspace_uid,
            gid=self.workspace_gid,
            starters=settings.home / layout.starter_dir(slug),
        )
        hub_port = urlparse(self.hub.api_url).port or 8081
        workspace = WorkspaceSettings(
            home=settings.home,
            image=image.reference,
            limits=Limits(
                memory_bytes=int(self.workspace_memory),
                cpus=float(self.workspace_cpus),
                pids=int(self.workspace_pids),
                tmp_bytes=int(self.workspace_tmp),
            ),
            hub_port=hub_port,
            airlock_port=self.airlock_port,
            uid=self.workspace_uid,
            gid=self.workspace_gid,
        )
        return workspace_spec(
            project_slug=slug,
            project_uid=project_uid,
            user=self.user.name,
            versions=versions,
            network=network,
            settings=workspace,
        )

    def _read_catalog(
        self, catalog: Catalog, slug: str
    ) -> tuple[str, list[MountedVersion], images.RecordedImage]:
        """Who may, what is mounted, which image: one consistent read of the catalog."""
        settings = catalog.settings
        with catalog.read() as session:
            project = get_project(session, slug)
            check_spawn(session, Actor(self.user.name), project)
            versions = mountable_versions(session, slug, tz=settings.timezone)
            copies = {
                c.dataset_version_id
                for c in session.scalars(
                    select(DatasetCopy).where(
                        DatasetCopy.project_id == project.id, DatasetCopy.removed_at.is_(None)
                    )
                )
            }
            missing = [v.label for v in versions if v.id not in copies]
            if missing:
                raise Conflict(
                    f"the project's copy of {', '.join(missing)} is not ready yet; ask a"
                    " platform administrator (agoria-tre dataset reconcile)",
                )
            image = images.recorded_image(session, self.image or None)
            mounted = [MountedVersion(v.dataset.name, v.version) for v in versions]
            return project.uid, mounted, image

    async def _stop_other_workspaces(self) -> None:
        """Stop this user's other running workspace, as the hub's own stop handler does:
        proxy route first, then the server. A workspace still starting is not interrupted:
        this start is refused instead."""
        proxy = self.user.settings.get("proxy")
        for name, other in list(self.user.spawners.items()):
            if name == self.name or not other.active:
                continue
            if other.pending:  # pragma: no cover - a start asked for while another is half-way
                raise Conflict(
                    f"your workspace for project {name!r} is {other.pending}; wait for it,"
                    " then start this one"
                )
            self.log.info("stopping %s: one project workspace per user", other._log_name)
            other._stop_pending = True
            try:
                if proxy is not None:  # pragma: no branch - the hub always sets it
                    await proxy.delete_user(self.user, name)
                await self.user.stop(name)
            finally:
                other._stop_pending = False
            self._stopped_for_this = name

    _stopped_for_this: str | None = None

    async def progress(self) -> AsyncIterator[dict[str, Any]]:
        """Tell the user, on the spawn page, that their other workspace was stopped. The hub
        stops iterating when the start ends."""
        while not self._stopped_for_this:
            await asyncio.sleep(0.2)
        yield {
            "progress": 20,
            "message": f"Your workspace for project {self._stopped_for_this!r} was stopped:"
            " one project workspace runs at a time.",
        }
