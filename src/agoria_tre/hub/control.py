"""Stopping workspaces from outside the hub: the command line and the reconciler.

Everything goes through the hub's REST API (the hub removes the proxy route, stops the
container, records the stop), with the platform's service token that ``agoria-tre hub``
writes, owner-only, to ``AGORIA_HOME/run/hub.json`` at each start (or, inside a hub-managed
service, the service's own ``JUPYTERHUB_API_TOKEN``). A stop is only reported done once the
hub says the server is gone.

When no hub runs, no workspace can be reached by a browser; containers a crashed platform
left behind are removed through the container runtime directly, so that a copy is never
deleted under a container still mounting it.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agoria_tre import layout
from agoria_tre.errors import AgoriaError
from agoria_tre.hub.spec import LABEL_PREFIX

log = logging.getLogger(__name__)

HUB_FILE = "hub.json"
# The hub is on this host: its API is never asked through a proxy named in the environment.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))
STOP_WAIT_SECONDS = 90.0
# Without this, the hub answers a list cut at the page size, with no sign that more follow.
PAGINATED = "application/jupyterhub-pagination+json"


class WorkspacesNotStopped(AgoriaError):
    """Workspaces could not be stopped; whatever depended on it (removing a copy) waits."""

    exit_code = 5


@dataclass(frozen=True)
class HubEndpoint:
    api_url: str  # .../hub/api
    token: str

    @classmethod
    def of_platform(cls, home: Path) -> HubEndpoint | None:
        """The running platform's hub, or None when none runs."""
        path = home / layout.run_dir() / HUB_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        return cls(api_url=data["api_url"], token=data["token"])

    @classmethod
    def of_service(cls) -> HubEndpoint:
        """Inside a hub-managed service."""
        return cls(os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"])

    def call(self, method: str, path: str, accept: str = "application/json") -> Any:
        request = urllib.request.Request(  # noqa: S310
            self.api_url.rstrip("/") + path,
            method=method,
            headers={"Authorization": f"token {self.token}", "Accept": accept},
        )
        try:
            with LOCAL.open(request, timeout=30) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise WorkspacesNotStopped(
                "the hub refused to stop workspaces",
                f"hub API {method} {path}: {exc.code} {exc.read()[:200]!r}",
            ) from None
        except OSError as exc:
            raise WorkspacesNotStopped(
                "the hub cannot be reached to stop workspaces; its reconciler retries",
                f"hub API {method} {path}: {exc}",
            ) from None
        return json.loads(body) if body else None


@dataclass(frozen=True)
class RunningWorkspace:
    user: str
    project: str
    mounted: tuple[str, ...] | None  # None: the hub did not say
    pending: str | None = None  # "spawn", "stop"... while the hub is acting on it


def running(endpoint: HubEndpoint, page_size: int = 200) -> list[RunningWorkspace]:
    """Every project workspace the hub has running or starting, read page by page."""
    found: list[RunningWorkspace] = []
    offset = 0
    while True:
        page = endpoint.call(
            "GET",
            f"/users?state=active&include_stopped_servers=false&offset={offset}&limit={page_size}",
            accept=PAGINATED,
        )
        for user in page["items"]:
            for name, server in (user.get("servers") or {}).items():
                state = server.get("state")
                mounted = tuple(state["mounted"]) if state and "mounted" in state else None
                found.append(RunningWorkspace(user["name"], name, mounted, server.get("pending")))
        following = page["_pagination"].get("next")
        if not following:
            return found
        offset = following["offset"]  # the hub's own count: it may leave users out of items


def stop(endpoint: HubEndpoint, workspaces: Iterable[RunningWorkspace]) -> list[RunningWorkspace]:
    """Ask the hub to stop these workspaces and wait until it says they are gone."""
    chosen = list(workspaces)
    for one in chosen:
        user, server = (urllib.parse.quote(x, safe="") for x in (one.user, one.project))
        endpoint.call("DELETE", f"/users/{user}/servers/{server}")
        log.info("stopping workspace %s of %s", one.project, one.user)
    # The hub answers a DELETE once the server has stopped, unless stopping takes it longer
    # than its slow_stop_timeout (then 202): only such stops are waited for here.
    pending = {(w.user, w.project) for w in chosen} & {
        (w.user, w.project) for w in running(endpoint)
    }
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while pending:  # pragma: no cover - stops that outlast the hub's slow_stop_timeout
        if time.monotonic() > deadline:
            raise WorkspacesNotStopped(
                "workspaces did not stop in time",
                f"still running after {STOP_WAIT_SECONDS:.0f} s: {sorted(pending)}",
            )
        time.sleep(0.25)
        pending &= {(w.user, w.project) for w in running(endpoint)}
    return chosen


def select(
    workspaces: Iterable[RunningWorkspace],
    *,
    project: str,
    user: str | None = None,
    labels: Sequence[str] = (),
) -> list[RunningWorkspace]:
    """The workspaces of ``project`` (of ``user``), mounting any of ``labels`` (all when
    ``labels`` is empty, or when a workspace's mounts are unknown)."""
    wanted = set(labels)
    return [
        w
        for w in workspaces
        if w.project == project
        and (user is None or w.user == user)
        and (not wanted or w.mounted is None or wanted & set(w.mounted))
    ]


def stop_workspaces(
    home: Path,
    project: str,
    labels: Sequence[str] = (),
    *,
    user: str | None = None,
    endpoint: HubEndpoint | None = None,
) -> list[RunningWorkspace]:
    """Stop the workspaces of ``project`` (of ``user``) that mount any of ``labels``; then
    make sure no container of theirs is left in the runtime."""
    endpoint = endpoint or HubEndpoint.of_platform(home)
    stopped: list[RunningWorkspace] = []
    if endpoint is not None:
        stopped = stop(
            endpoint, select(running(endpoint), project=project, user=user, labels=labels)
        )
    _remove_leftover_containers(home, project, user, labels)
    return stopped


def _remove_leftover_containers(
    home: Path, project: str, user: str | None, labels: Sequence[str]
) -> None:
    """Containers of the project (of ``user``, mounting any of ``labels``) still in the
    runtime once the hub has stopped its own: left by a crashed platform."""
    socket = home / layout.run_dir() / "podman.sock"
    if not socket.exists():
        return
    import docker

    filters = [f"{LABEL_PREFIX}project={project}"]
    if user is not None:
        filters.append(f"{LABEL_PREFIX}user={user}")
    try:
        with docker.APIClient(base_url=f"unix://{socket}", timeout=30) as client:
            for container in client.containers(all=True, filters={"label": filters}):
                found = (container.get("Labels") or {}).get(LABEL_PREFIX + "datasets", "")
                if labels and not set(found.split(",")) & set(labels):
                    continue  # a workspace that does not mount what is being removed
                log.warning(
                    "removing workspace container %s left without a hub", container["Id"][:12]
                )
                client.remove_container(container["Id"], force=True)
    except docker.errors.DockerException as exc:
        raise WorkspacesNotStopped(
            "the container runtime could not be asked about workspaces",
            f"runtime at {socket}: {exc}",
        ) from None


def stop_callback(home: Path, endpoint: HubEndpoint | None = None) -> Any:
    """What ``ingest.copies.reconcile`` calls before it removes a copy."""

    def callback(project: str, labels: Sequence[str]) -> None:
        stop_workspaces(home, project, labels, endpoint=endpoint)

    return callback
