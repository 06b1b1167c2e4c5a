"""What every route of the airlock shares: authentication through the hub, the caller, and
errors in one shape.

Every request is authenticated through the hub: programs by a hub API token
(``Authorization: token …``), browsers by the hub's OAuth (a cookie, with an ``_xsrf`` value
on every form). The hub says only who calls and whether they may reach this service; what
they may do in a project is asked of the catalog by :class:`~agoria_tre.airlock.service.Airlock`
at each request. A token the hub gave a workspace (its server's own) binds the caller to
that workspace's project.

Errors are ``{"error": …, "message": …}`` with the status that says what went wrong: 400 bad
input, 401 not authenticated, 403 not allowed (with the reason), 404, 405, 409 wrong state,
413 too large.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from jupyterhub.services.auth import HubOAuth, HubOAuthenticated, UserNotAllowed
from tornado import web

from agoria_tre.airlock.service import Airlock, Caller, TooLarge
from agoria_tre.airlock.store import CorruptContent
from agoria_tre.errors import (
    AgoriaError,
    CatalogNotReady,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

ERRORS: tuple[tuple[type[AgoriaError], int, str], ...] = (
    (TooLarge, 413, "too_large"),
    (InvalidInput, 400, "bad_request"),
    (PermissionDenied, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (CorruptContent, 500, "integrity"),
    (CatalogNotReady, 503, "unavailable"),
    (AgoriaError, 400, "bad_request"),  # any other refusal of what was asked
)
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    411: "length_required",
    413: "too_large",
    500: "internal",
    503: "unavailable",
}
JSON_BODY_LIMIT = 64 * 1024
WORKSPACE_SCOPE = "access:servers!server="
# Pages never run what an output carries: no script at all, styles of our own, images and
# item frames from this service only.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self';"
    " form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)


class HubAuthNow(HubOAuth):  # type: ignore[misc]
    """The hub's OAuth, asking the hub about a token at every request when
    ``cache_max_age`` is 0 (HubAuth's own cache would keep answers forever then)."""

    def user_for_token(
        self, token: str, use_cache: bool = True, session_id: str = "", *, sync: bool = True
    ) -> Any:
        fresh = use_cache and self.cache_max_age > 0
        return super().user_for_token(token, fresh, session_id, sync=sync)


class Refused(web.HTTPError):
    """An HTTP error with the message its caller sees."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, "%s", message)
        self.message = message


def caller_of(model: dict[str, Any]) -> Caller:
    """Who calls, from the hub's model of the token: a token the hub gave a workspace
    carries the scope to reach that one server (``access:servers!server=<user>/<project>``)
    and no wider one; the caller then acts for that project only."""
    name = str(model["name"])
    scopes = [str(s) for s in model.get("scopes") or []]
    servers = {s[len(WORKSPACE_SCOPE) :] for s in scopes if s.startswith(WORKSPACE_SCOPE)}
    wider = any(s == "access:servers" or s.startswith("access:servers!user") for s in scopes)
    if len(servers) == 1 and not wider:
        user, _, project = next(iter(servers)).partition("/")
        if user == name and project:
            return Caller(name, workspace=project)
    return Caller(name)


class Base(HubOAuthenticated, web.RequestHandler):  # type: ignore[misc]
    """Authentication through the hub, the caller, errors in one shape, blocking work off
    the event loop."""

    body_limit = JSON_BODY_LIMIT
    api = True

    @property
    def airlock(self) -> Airlock:
        found: Airlock = self.settings["airlock"]
        return found

    @property
    def hub_auth(self) -> HubOAuth:
        found: HubOAuth = self.settings["hub_auth"]
        return found

    @hub_auth.setter
    def hub_auth(self, value: HubOAuth) -> None:  # pragma: no cover - set once in settings
        self.settings["hub_auth"] = value

    def set_default_headers(self) -> None:
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Cache-Control", "no-store")

    async def prepare(self) -> None:
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > self.body_limit):
            raise Refused(413, f"the request body is larger than {self.body_limit:,} bytes")
        model = await self.hub_auth.get_user(self, sync=False)
        if model is not None:
            try:
                model = self.check_hub_user(model)
            except UserNotAllowed:  # a token without access to this service
                model = None
        self._hub_auth_user_cache = model
        if model is None:
            if self.request.method not in ("GET", "HEAD") and self.get_cookie(
                self.hub_auth.cookie_name
            ):
                self.check_xsrf_cookie()  # says why the login cookie was not accepted
            if not self.api and self.request.method in ("GET", "HEAD"):
                self.redirect(self.get_login_url())
                return
            raise Refused(401, "log in through the hub, or send a hub API token")

    @property
    def caller(self) -> Caller:
        model = self.current_user
        if model is None:  # pragma: no cover - prepare() refused the request
            raise Refused(401, "not authenticated")
        return caller_of(model)

    async def blocking(self, work: Callable[[], T]) -> T:
        pool: ThreadPoolExecutor = self.settings["executor"]
        return await asyncio.get_running_loop().run_in_executor(pool, work)

    async def act(self, work: Callable[[], T]) -> T:
        """Run ``work`` off the event loop; a refusal becomes its HTTP error."""
        try:
            return await self.blocking(work)
        except AgoriaError as exc:
            status, _ = status_of(exc)
            log.info("refused %s %s: %s", self.request.method, self.request.path, exc.log_message)
            raise Refused(status, exc.user_message) from None

    def body(self) -> dict[str, Any]:
        """The JSON object a request sent (an empty body is an empty object)."""
        if not self.request.body:
            return {}
        try:
            found = json.loads(self.request.body)
        except ValueError:
            raise Refused(400, "the body is not valid JSON") from None
        if not isinstance(found, dict):
            raise Refused(400, "the body must be a JSON object")
        return found

    def send(self, model: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(model, ensure_ascii=False))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = (
            exc.message
            if isinstance(exc, Refused)
            else (exc.log_message % exc.args if exc.log_message else self._reason)
            if isinstance(exc, web.HTTPError)
            else "the airlock failed; the operators have the details in its log"
        )
        if status_code == 403 and "xsrf" in message.lower():
            message = f"{message}: reload the page and submit the form again"
        if self.api or status_code not in (403, 404, 409, 400):
            self.set_header("Content-Type", "application/json; charset=utf-8")
            self.finish(json.dumps({"error": CODES.get(status_code, "error"), "message": message}))
            return
        model = self.current_user if hasattr(self, "_hub_auth_user_cache") else None
        self.render(
            "error.html",
            prefix=self.settings["prefix"],
            who=model["name"] if model else "",
            title=f"Error {status_code}",
            message=message,
        )

    def data_received(self, chunk: bytes) -> None:  # pragma: no cover - only streaming ones
        raise NotImplementedError


def status_of(exc: AgoriaError) -> tuple[int, str]:
    return next((status, code) for kind, status, code in ERRORS if isinstance(exc, kind))
