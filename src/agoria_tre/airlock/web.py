"""The airlock's HTTP face: the REST API under ``api/`` and the reviewers' and researchers'
pages (``pages``), served under the hub's service prefix (``/services/airlock/``).

Every request is authenticated through the hub (``handlers.Base``); errors are
``{"error": …, "message": …}`` with the status that says what went wrong: 400 bad input,
401 not authenticated, 403 not allowed (with the reason), 404, 405, 409 wrong state, 413
too large.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join
from tornado import httputil, web

from agoria_tre.airlock import pages
from agoria_tre.airlock.handlers import Base, Refused
from agoria_tre.airlock.service import Airlock

log = logging.getLogger(__name__)


class RequestsAPI(Base):
    async def get(self) -> None:
        project = self.get_query_argument("project", None)
        status = self.get_query_argument("status", None)
        found = await self.act(
            lambda: self.airlock.listing(self.caller, project=project, status=status)
        )
        self.send({"requests": found})

    async def post(self) -> None:
        body = self.body()
        made = await self.act(
            lambda: self.airlock.create(self.caller, body.get("project"), body.get("title"))
        )
        self.send(made, 201)


class RequestAPI(Base):
    async def get(self, request_id: str) -> None:
        self.send(await self.act(lambda: self.airlock.get(self.caller, request_id)))


@web.stream_request_body
class ItemsAPI(Base):
    """``multipart/form-data``: the file in ``file``; optional ``evidence`` (a file or
    text) and ``justification``. Refused before reading when it announces more than the
    airlock takes."""

    def prepare(self) -> Awaitable[None]:  # type: ignore[override]
        self.body_limit = 2 * self.airlock.max_item_bytes + 64 * 1024
        self.request.connection.set_max_body_size(self.body_limit)  # type: ignore[union-attr]
        self._chunks: list[bytes] = []
        return super().prepare()

    def data_received(self, chunk: bytes) -> None:
        self._chunks.append(chunk)

    async def post(self, request_id: str) -> None:
        kind = self.request.headers.get("Content-Type", "")
        if not kind.startswith("multipart/form-data"):
            raise Refused(400, "send the file as multipart/form-data, in the field 'file'")
        arguments: dict[str, list[bytes]] = {}
        files: dict[str, list[httputil.HTTPFile]] = {}
        try:
            httputil.parse_body_arguments(kind, b"".join(self._chunks), arguments, files)
        except httputil.HTTPInputError:
            raise Refused(
                400,
                "the multipart body cannot be read: a part's headers hold a character HTTP"
                " forbids (NUL, a new line…) or the body is cut short",
            ) from None
        finally:
            self._chunks = []
        if "file" not in files:
            raise Refused(400, "send the file in the multipart field 'file'")
        upload = files["file"][0]
        evidence_bytes: bytes | None = None
        if files.get("evidence"):
            evidence_bytes = files["evidence"][0].body
        elif arguments.get("evidence"):
            evidence_bytes = arguments["evidence"][0]
        justification = _text_field(arguments, "justification")
        item = await self.act(
            lambda: self.airlock.add_item(
                self.caller,
                request_id,
                upload.filename,
                upload.body,
                evidence=evidence_bytes,
                justification=justification,
            )
        )
        self.send(item, 201)


def _text_field(arguments: dict[str, list[bytes]], name: str) -> str:
    raw = (arguments.get(name) or [b""])[0]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, f"the field {name!r} is not UTF-8 text") from None


class SubmitAPI(Base):
    async def post(self, request_id: str) -> None:
        await self.act(lambda: self.airlock.submit(self.caller, request_id))
        await self.settings["checks"].run(request_id)
        self.send(await self.act(lambda: self.airlock.get(self.caller, request_id)))


class ReviewAPI(Base):
    async def post(self, request_id: str, item_id: str) -> None:
        body = self.body()
        self.send(
            await self.act(
                lambda: self.airlock.decide(
                    self.caller,
                    request_id,
                    item_id,
                    body.get("decision"),
                    comment=body.get("comment", ""),
                    exception=body.get("exception", False),
                )
            )
        )


class ReturnAPI(Base):
    async def post(self, request_id: str) -> None:
        body = self.body()
        self.send(
            await self.act(
                lambda: self.airlock.return_to_requester(
                    self.caller, request_id, body.get("comment")
                )
            )
        )


class ReleaseAPI(Base):
    async def post(self, request_id: str) -> None:
        self.send(await self.act(lambda: self.airlock.release(self.caller, request_id)))


class WithdrawAPI(Base):
    async def post(self, request_id: str) -> None:
        self.send(await self.act(lambda: self.airlock.withdraw(self.caller, request_id)))


class DownloadAPI(Base):
    async def get(self, request_id: str) -> None:
        found = await self.act(lambda: self.airlock.download(self.caller, request_id))
        self.set_header("Content-Type", "application/zip")
        self.set_header("Content-Disposition", f'attachment; filename="{found.filename}"')
        self.finish(found.data)


class OpenAPI(Base):
    async def get(self) -> None:
        from agoria_tre.airlock.openapi import document

        self.send(document(self.settings["prefix"]))


class NotFoundAPI(Base):
    """Anything else under the prefix: authenticated first, then 404."""

    async def get(self, *args: str) -> None:
        raise Refused(404, f"no such route: {self.request.path}")

    post = put = patch = delete = get


class Checks:
    """The server-side checks: at most ``parallel`` at once, each in its own process; a
    request's check is run once even when asked twice."""

    def __init__(self, airlock: Airlock, executor: ThreadPoolExecutor, parallel: int) -> None:
        self.airlock = airlock
        self.executor = executor
        self.slots = asyncio.Semaphore(parallel)
        self.running: dict[str, asyncio.Future[str]] = {}

    async def run(self, request_id: str) -> str:
        if request_id not in self.running:
            self.running[request_id] = asyncio.ensure_future(self._run(request_id))
        return await asyncio.shield(self.running[request_id])

    async def _run(self, request_id: str) -> str:
        try:
            async with self.slots:
                loop = asyncio.get_running_loop()
                return await loop.run_in_executor(self.executor, self.airlock.check, request_id)
        finally:
            self.running.pop(request_id, None)

    async def resume(self) -> None:
        """Check again what a stopped service left in ``checking``."""
        loop = asyncio.get_running_loop()
        pending = await loop.run_in_executor(self.executor, self.airlock.pending_checks)
        if pending:
            log.info("checking again %d requests left in checking", len(pending))
        await asyncio.gather(*(self.run(request_id) for request_id in pending))


def routes(prefix: str) -> list[tuple[str, type[web.RequestHandler]]]:
    """Every route of the service, under ``prefix`` (ends with ``/``)."""
    rid = r"(?P<request_id>[^/]+)"
    api = [
        (r"api/requests", RequestsAPI),
        (rf"api/requests/{rid}", RequestAPI),
        (rf"api/requests/{rid}/items", ItemsAPI),
        (rf"api/requests/{rid}/items/(?P<item_id>[^/]+)/review", ReviewAPI),
        (rf"api/requests/{rid}/submit", SubmitAPI),
        (rf"api/requests/{rid}/return", ReturnAPI),
        (rf"api/requests/{rid}/release", ReleaseAPI),
        (rf"api/requests/{rid}/release\.zip", DownloadAPI),
        (rf"api/requests/{rid}/withdraw", WithdrawAPI),
        (r"api/openapi\.json", OpenAPI),
        (r"api/(.*)", NotFoundAPI),
    ]
    found: list[tuple[str, type[web.RequestHandler]]] = [
        (url_path_join(prefix, path), handler) for path, handler in api
    ]
    found += [(url_path_join(prefix, path), handler) for path, handler in pages.routes()]
    found.append((url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler))
    return found


def application(
    airlock: Airlock,
    hub_auth: HubOAuth,
    *,
    prefix: str,
    cookie_secret: bytes,
    parallel_checks: int = 2,
    threads: int = 8,
) -> web.Application:
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="airlock")
    return web.Application(
        routes(prefix),
        airlock=airlock,
        hub_auth=hub_auth,
        prefix=prefix,
        executor=executor,
        checks=Checks(airlock, executor, parallel_checks),
        cookie_secret=cookie_secret,
        login_url=hub_auth.login_url,
        default_handler_class=NotFoundAPI,
        template_path=pages.TEMPLATES,
        xsrf_cookies=False,  # the hub's own check, for cookie-authenticated forms only
        autoescape="xhtml_escape",
    )
