"""The Jupyter server extension every workspace loads: direct downloads refused, and the
export button's routes (:mod:`agoria_tre.workspace.export`).

Results leave a workspace through an export request, checked and reviewed. This extension
refuses the routes that hand a file straight to the browser (``/files/``, ``/view/``,
nbconvert's download and export routes); the workspace image also hides JupyterLab's
download commands. It is a speed bump, not a boundary: what a browser shows can be copied,
typed out or photographed, which is why outputs are reviewed by people.

The image loads it with ``ServerApp.reraise_server_extension_failures``: a server that
cannot load it does not start.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join

REFUSED_ROUTES = (r"/files/.*", r"/view/.*", r"/nbconvert/.*", r"/api/nbconvert.*")
MESSAGE = (
    "Downloads are disabled in Agoria TRE workspaces: results leave through an export"
    " request, checked and reviewed."
)


class DownloadsDisabled(JupyterHandler):
    """403 with a message, whatever the method, for a logged-in user (others are sent to
    the login page by the server, as everywhere)."""

    def get(self, *args: Any, **kwargs: Any) -> None:
        self.set_status(403)
        self.finish({"message": MESSAGE})

    post = put = patch = delete = head = get


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "agoria_tre.workspace"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    # Tornado tries rules added by add_handlers before the server's own (given when the
    # application was made), so these take the routes over.
    serverapp.web_app.add_handlers(
        ".*$",
        [(url_path_join(serverapp.base_url, route), DownloadsDisabled) for route in REFUSED_ROUTES],
    )
    serverapp.log.info("agoria-tre: direct downloads refused (%s)", ", ".join(REFUSED_ROUTES))
    from agoria_tre.workspace import export

    settings = export.settings_for(serverapp)
    serverapp.web_app.settings["agoria_export"] = settings
    serverapp.web_app.add_handlers(
        ".*$",
        [
            (url_path_join(serverapp.base_url, export.PREFIX, route), handler)
            for route, handler in export.ROUTES
        ],
    )
    if settings.airlock is None:
        serverapp.log.warning("agoria-tre: %s", export.NOT_CONFIGURED)
    else:
        serverapp.log.info("agoria-tre: exports go to %s", settings.airlock.url)
