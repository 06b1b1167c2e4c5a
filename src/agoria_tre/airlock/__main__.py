"""``python -m agoria_tre.airlock``: the airlock service, as the hub starts it.

The hub runs it as a managed service (``/services/airlock/``) and gives it, in its
environment, its API token, URL and prefix (``JUPYTERHUB_*``); the catalog comes from
``AGORIA_HOME`` / ``AGORIA_DB_URL`` as for every command. Its settings are traitlets, set on
the command line (``--AirlockService.reviewers=3``) or in a config file (``--config``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from traitlets import Float, Integer, Unicode, default
from traitlets.config import Application

from agoria_tre.airlock.checking import CheckLimits
from agoria_tre.airlock.review import MIN_REVIEWERS, required_reviewers
from agoria_tre.errors import AgoriaError, ConfigurationError

log = logging.getLogger(__name__)


class AirlockService(Application):
    name = "agoria-airlock"
    description = "The Agoria TRE airlock: export requests, their check, review and release."

    config_file = Unicode("", config=True, help="A traitlets config file to load first.")
    reviewers = Integer(
        MIN_REVIEWERS,
        config=True,
        help="""Distinct reviewers each item needs (never fewer than 2). Example:
        ``c.AirlockService.reviewers = 3``.""",
    )
    profile = Unicode(
        "fr",
        config=True,
        help="The disclosure policy the server-side check applies (``fr`` or ``uk``).",
    )
    max_item_bytes = Integer(
        20 * 1024 * 1024,
        config=True,
        help="""Largest file (and largest evidence) one item may be; a larger upload is
        refused before it is read (413).""",
    )
    check_cpu_seconds = Integer(120, config=True, help="CPU seconds one check may use.")
    check_memory_bytes = Integer(
        2 * 1024**3, config=True, help="Address space one check may use, in bytes."
    )
    check_wall_seconds = Float(
        300.0, config=True, help="Seconds after which a check still running is stopped."
    )
    parallel_checks = Integer(
        2, config=True, help="Checks run at once (each a process); the others wait their turn."
    )
    bind_ip = Unicode(
        "",
        config=True,
        help="""Address to listen on; empty: the host of the service's URL as the hub gives
        it. The hub binds it to all addresses so that workspaces reach it on their gateway.""",
    )
    data_dir = Unicode(
        config=True,
        help="""Where the airlock keeps what is submitted and released, outside every
        workspace (default: ``$AGORIA_HOME/airlock``).""",
    )
    auth_cache_seconds = Integer(
        0,
        config=True,
        help="""Seconds the hub's answer about a token may be reused. 0 (the default) asks
        the hub at every request, so a revoked token or a stopped workspace's token stops
        working at once. Project rights are read from the catalog at each request whatever
        this is.""",
    )

    aliases = {"config": "AirlockService.config_file"}  # noqa: RUF012  (traitlets' own)

    @default("data_dir")
    def _data_dir(self) -> str:
        return str(Path(os.environ.get("AGORIA_HOME") or "/var/lib/agoria-tre") / "airlock")

    def initialize(self, argv: Any = None) -> None:
        self.parse_command_line(argv)
        if self.config_file:
            self.load_config_file(self.config_file)
            self.parse_command_line(argv)  # the command line wins
        required_reviewers(self.reviewers)

    def start(self) -> None:
        logging.basicConfig(
            level=logging.INFO, format="[airlock %(asctime)s %(name)s] %(levelname)s %(message)s"
        )
        asyncio.run(self.serve())

    async def serve(self) -> None:
        from agoria_tre.airlock.handlers import HubAuthNow
        from agoria_tre.airlock.service import Airlock
        from agoria_tre.airlock.web import application
        from agoria_tre.catalog.db import Catalog
        from agoria_tre.config import Settings

        url = os.environ.get("JUPYTERHUB_SERVICE_URL", "")
        prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/airlock/")
        where = urlparse(url)
        if not where.port:
            raise ConfigurationError("the airlock runs as a hub service: JUPYTERHUB_SERVICE_URL")
        catalog = Catalog(Settings.from_env())
        catalog.require_ready()
        limits = CheckLimits(
            self.check_cpu_seconds, self.check_memory_bytes, self.check_wall_seconds
        )
        airlock = Airlock(
            catalog,
            Path(self.data_dir),
            reviewers=self.reviewers,
            profile=self.profile,
            limits=limits,
            max_item_bytes=self.max_item_bytes,
        )
        airlock.store.sweep()
        hub_auth = HubAuthNow(cache_max_age=self.auth_cache_seconds)
        app = application(
            airlock,
            hub_auth,
            prefix=prefix,
            cookie_secret=secrets.token_bytes(32),
            parallel_checks=self.parallel_checks,
        )
        address = self.bind_ip or where.hostname or "127.0.0.1"
        server = app.listen(where.port, address=address, xheaders=True)
        log.info("airlock listening on %s (%s), %d reviewers per item", url, prefix, self.reviewers)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        resumed = asyncio.ensure_future(app.settings["checks"].resume())
        await stop.wait()
        log.info("airlock stopping")
        server.stop()
        resumed.cancel()
        app.settings["executor"].shutdown(wait=False, cancel_futures=True)
        catalog.dispose()


def main(argv: list[str] | None = None) -> int:
    """Run the service; a configuration it cannot run with ends it with the reason (2)."""
    service = AirlockService()
    try:
        service.initialize(argv)
        service.start()
    except AgoriaError as exc:
        logging.basicConfig(level=logging.INFO)
        log.error("the airlock cannot start: %s", exc.log_message)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
