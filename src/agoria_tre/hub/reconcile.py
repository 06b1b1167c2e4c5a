"""The hub-managed service that keeps running workspaces within what the catalog allows now.

Every ``--every`` seconds:

1. a running workspace whose user may no longer open it (removed from the project, project
   archived) or which mounts a version its project may no longer mount (grant revoked or
   ended) is stopped through the hub;
2. the project copies are reconciled with the grants (``ingest.copies.reconcile``), which
   stops the workspaces mounting a copy before that copy is removed.

The command line does the same at once when it revokes, removes or archives; this loop
catches what ends by itself (a grant's last day) and what the command line could not reach.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence

from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.grants import mountable_versions
from agoria_tre.catalog.projects import get_project
from agoria_tre.config import Settings
from agoria_tre.errors import AgoriaError
from agoria_tre.hub import control
from agoria_tre.permissions import Actor, can_spawn

log = logging.getLogger(__name__)
ACTOR = "agoria-reconcile"


def out_of_bounds(
    catalog: Catalog, workspaces: Sequence[control.RunningWorkspace]
) -> list[control.RunningWorkspace]:
    """The workspaces the catalog no longer allows as they run."""
    tz = catalog.settings.timezone
    found = []
    with catalog.read() as session:
        for one in workspaces:
            if one.pending:  # starting or stopping: judged at the next round
                continue
            try:
                project = get_project(session, one.project)
            except AgoriaError:
                found.append(one)
                continue
            if not can_spawn(session, Actor(one.user), project):
                found.append(one)
                continue
            allowed = {v.label for v in mountable_versions(session, one.project, tz=tz)}
            if one.mounted is None or not set(one.mounted) <= allowed:
                found.append(one)
    return found


def once(catalog: Catalog, endpoint: control.HubEndpoint) -> None:
    from agoria_tre.ingest import copies
    from agoria_tre.ingest.keys import key_path, load_key

    stale = out_of_bounds(catalog, control.running(endpoint))
    if stale:
        log.info("stopping %d workspace(s) the catalog no longer allows", len(stale))
        control.stop(endpoint, stale)
    try:
        key = load_key(key_path(None), home=catalog.settings.home)
    except AgoriaError as exc:
        log.info("copies are only removed here, not made: %s", exc.log_message)
        key = None
    changes = copies.reconcile(
        catalog,
        key,
        stop_workspaces=control.stop_callback(catalog.settings.home, endpoint),
        actor=ACTOR,
    )
    for change in changes:
        log.info(
            "copy %s of %s: %s %s", change.dataset, change.project, change.action, change.detail
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="agoria_tre.hub.reconcile")
    parser.add_argument("--every", type=float, default=60.0, help="seconds between rounds")
    parser.add_argument("--once", action="store_true", help="one round, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="[%(levelname).1s %(asctime)s %(name)s] %(message)s"
    )
    catalog = Catalog(Settings.from_env())
    endpoint = control.HubEndpoint.of_service()
    while True:
        try:
            once(catalog, endpoint)
        except AgoriaError as exc:
            log.warning("reconcile round failed: %s", exc.log_message)
        if args.once:
            return
        time.sleep(args.every)


if __name__ == "__main__":  # pragma: no cover - run by the hub as a managed service
    main()
