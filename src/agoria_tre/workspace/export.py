"""The export button's server side: the routes JupyterLab's "Request export…" calls.

Under ``<base_url>agoria-tre/export/``, every one behind the server's login (``ROUTES``):

- ``GET status``: the project, the user and the airlock's page;
- ``POST check`` ``{items: [{path, cells?}]}``: the disclosure checker run here, on exactly
  the bytes that would be sent, before anything leaves: each item's verdict, findings and,
  for a table, its cells with those the checker flagged marked;
- ``POST requests`` ``{title, items: [{path, cells?, justification?}]}``: a request made,
  its items uploaded (a table with its evidence sidecar) and submitted; on any failure the
  draft is withdrawn, so no half-made request is left;
- ``GET requests``, ``GET requests/<id>``: this user's requests for this project;
- ``POST requests/<id>/resubmit`` ``{justifications?}``: a returned request's files read
  again from where they were taken, uploaded as new versions and submitted;
- ``POST requests/<id>/withdraw``.

Errors are ``{"error": code, "message": text}``, the message for the researcher. Only this
server talks to the airlock, with its own token (:mod:`agoria_tre.workspace.airlock`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from jupyter_server.base.handlers import APIHandler
from tornado import web

from agoria_tre.disclosure.flagged import findings, flagged_table
from agoria_tre.workspace.airlock import AirlockClient
from agoria_tre.workspace.outgoing import (
    DEFAULT_MAX_BYTES,
    Outgoing,
    Refused,
    Source,
    collect_all,
    sources_from_json,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
PREFIX = "agoria-tre/export/"
MAX_TITLE = 200
NOT_CONFIGURED = (
    "exports are not available in this server: it was not started by the platform's hub"
    " (no airlock address or token)"
)


@dataclass(frozen=True)
class ExportSettings:
    root: str  # the server's root: every source path is under it
    project: str
    user: str
    airlock: AirlockClient | None  # None: not started by the hub, exports refused
    airlock_page: str  # the airlock's pages as the browser reaches them
    state_dir: Path  # what each request was made from, for a resubmission
    profile: str = "fr"
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_environment(cls, root: str, environ: dict[str, str]) -> ExportSettings:
        url, token = environ.get("AGORIA_AIRLOCK_URL", ""), environ.get("JUPYTERHUB_API_TOKEN", "")
        base = environ.get("JUPYTERHUB_BASE_URL", "/")
        return cls(
            root=root,
            project=environ.get("AGORIA_PROJECT", ""),
            user=environ.get("JUPYTERHUB_USER", ""),
            airlock=AirlockClient(url if url.endswith("/") else url + "/", token)
            if url and token
            else None,
            airlock_page=base.rstrip("/") + "/services/airlock/",
            state_dir=Path(environ.get("HOME", root)) / ".agoria-tre" / "exports",
            profile=environ.get("AGORIA_CHECK_PROFILE", "fr"),
        )


# --- the local check ---------------------------------------------------------------------


def _plain(status: str, report: dict[str, Any]) -> str:
    found = findings(report)
    fails = sum(f["status"] == "fail" for f in found)
    if status == "pass":
        return "Every rule passed."
    if status == "fail":
        return (
            f"{fails} finding{'s' * (fails != 1)} failed: fix the output, or justify it (a"
            " reviewer may then approve it as an exception)."
        )
    return f"{len(found)} point{'s' * (len(found) != 1)} for a reviewer to judge."


def check_items(items: list[Outgoing], profile: str) -> list[dict[str, Any]]:
    """Each item's verdict by the checker, run in a child process on the item's bytes (and
    its evidence beside it), as the airlock will run it."""
    with tempfile.TemporaryDirectory(prefix="agoria-export-") as tmp:
        folder, canonical = Path(tmp, "items"), Path(tmp, "canonical")
        folder.mkdir()
        for item in items:
            (folder / item.name).write_bytes(item.data)
            if item.evidence is not None:
                stem = item.name[: -len(PurePosixPath(item.name).suffix)]
                (folder / f"{stem}.evidence.json").write_bytes(item.evidence)
        done = subprocess.run(
            [
                sys.executable, "-m", "agoria_tre.cli.main", "check", "--format=json",
                f"--profile={profile}", f"--canonical-out={canonical}",
                *(str(folder / item.name) for item in items),
            ],
            capture_output=True,
            check=False,
        )  # fmt: skip
        if done.returncode not in (0, 1, 3):
            log.error("local check failed (%s): %s", done.returncode, done.stderr[-2000:])
            raise Refused(500, "check_failed", "the disclosure checker could not run here")
        report = json.loads(done.stdout)
        by_name = {entry["path"]: entry for entry in report["items"]}
        checked = []
        for item in items:
            entry = by_name[item.name]
            table = None
            if entry.get("kind") == "table" and (canonical / entry["sha256"]).is_file():
                data = (canonical / entry["sha256"]).read_bytes()
                table = flagged_table(data, entry).as_json()
            checked.append(
                {
                    "source": item.source.as_json(),
                    "name": item.name,
                    "evidence": item.evidence_path,
                    "status": entry["status"],
                    "summary": _plain(entry["status"], entry),
                    "findings": [
                        {k: f[k] for k in ("rule", "status", "summary", "where")}
                        for f in findings(entry)
                    ],
                    "table": table,
                }
            )
        return checked


# --- what each request was made from ------------------------------------------------------


def _state_file(settings: ExportSettings, request_id: str) -> Path:
    if not request_id or "/" in request_id or request_id.startswith("."):
        raise Refused(404, "not_found", "no such request")
    return settings.state_dir / f"{request_id}.json"


def remember(settings: ExportSettings, request_id: str, items: list[Outgoing]) -> None:
    path = _state_file(settings, request_id)
    partial = path.with_suffix(".partial")
    try:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps({"items": {i.name: i.source.as_json() for i in items}}))
        partial.replace(path)
    except OSError as exc:
        log.error("could not record request %s's sources in %s: %s", request_id, path, exc)
        raise Refused(
            507,
            "no_space",
            "this workspace could not record where the files came from (is the home full?):"
            " nothing was submitted",
        ) from None


def recall(settings: ExportSettings, request_id: str) -> dict[str, Source]:
    try:
        saved = json.loads(_state_file(settings, request_id).read_text())
    except FileNotFoundError:
        raise Refused(
            409,
            "unknown_sources",
            "this workspace did not make that request, so it cannot send its files again",
        ) from None
    return {name: Source.from_json(source) for name, source in saved["items"].items()}


# --- the routes ---------------------------------------------------------------------------


class ExportHandler(APIHandler):
    @property
    def export(self) -> ExportSettings:
        settings: ExportSettings = self.settings["agoria_export"]
        return settings

    @property
    def airlock(self) -> AirlockClient:
        if self.export.airlock is None:
            raise Refused(503, "not_configured", NOT_CONFIGURED)
        return self.export.airlock

    def body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise Refused(400, "bad_json", "the request's body is not JSON") from None
        if not isinstance(body, dict):
            raise Refused(400, "bad_json", "the request's body must be a JSON object")
        return body

    def page(self, request_id: str) -> str:
        return f"{self.export.airlock_page}requests/{request_id}"

    def with_page(self, model: dict[str, Any]) -> dict[str, Any]:
        return {**model, "page": self.page(model["id"])}

    async def answer(self, work: Callable[[], Awaitable[T]], status: int = 200) -> None:
        try:
            result = await work()
        except Refused as refused:
            self.set_status(refused.status)
            self.finish({"error": refused.code, "message": refused.message})
            return
        self.set_status(status)
        self.finish(json.dumps(result))


class StatusHandler(ExportHandler):
    @web.authenticated
    async def get(self) -> None:
        async def status() -> dict[str, Any]:
            return {
                "project": self.export.project,
                "user": self.export.user,
                "airlock_url": self.export.airlock_page,
                "configured": self.export.airlock is not None,
            }

        await self.answer(status)


class CheckHandler(ExportHandler):
    @web.authenticated
    async def post(self) -> None:
        async def check() -> dict[str, Any]:
            sources = sources_from_json(self.body())
            items = await asyncio.to_thread(
                collect_all, self.export.root, sources, self.export.max_bytes
            )
            checked = await asyncio.to_thread(check_items, items, self.export.profile)
            return {"items": checked}

        await self.answer(check)


def _justifications(body: dict[str, Any]) -> list[str]:
    out = []
    for item in body.get("items") or []:
        why = item.get("justification") if isinstance(item, dict) else None
        if why is not None and not isinstance(why, str):
            raise Refused(400, "bad_justification", "a justification is text")
        out.append((why or "").strip())
    return out


class RequestsHandler(ExportHandler):
    @web.authenticated
    async def get(self) -> None:
        async def listing() -> dict[str, Any]:
            found = await self.airlock.listing(self.export.project)
            mine = [r for r in found if r["requester"] == self.export.user]
            return {"requests": [self.with_page(r) for r in mine]}

        await self.answer(listing)

    @web.authenticated
    async def post(self) -> None:
        async def make() -> dict[str, Any]:
            body = self.body()
            title = body.get("title")
            if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
                raise Refused(400, "bad_title", f"a title of 1 to {MAX_TITLE} characters")
            sources = sources_from_json(body)
            why = _justifications(body)
            airlock = self.airlock
            items = await asyncio.to_thread(
                collect_all, self.export.root, sources, self.export.max_bytes
            )
            made = await airlock.create(self.export.project, title.strip())
            try:
                for item, justification in zip(items, why, strict=True):
                    await airlock.upload(made["id"], item, justification)
                remember(self.export, made["id"], items)
                submitted = await airlock.action(made["id"], "submit")
            except Refused:
                await self._abandon(made["id"])
                raise
            log.info("export request %s submitted (%d items)", made["id"], len(items))
            return self.with_page(submitted)

        await self.answer(make, 201)

    async def _abandon(self, request_id: str) -> None:
        """A draft whose upload failed is withdrawn: nothing half-made is left to review."""
        try:
            await self.airlock.action(request_id, "withdraw")
        except Refused as exc:
            log.warning("request %s could not be withdrawn: %s", request_id, exc.message)


class RequestHandler(ExportHandler):
    @web.authenticated
    async def get(self, request_id: str) -> None:
        async def one() -> dict[str, Any]:
            return self.with_page(await self.airlock.get(request_id))

        await self.answer(one)


class ResubmitHandler(ExportHandler):
    @web.authenticated
    async def post(self, request_id: str) -> None:
        async def again() -> dict[str, Any]:
            body = self.body()
            given = body.get("justifications") or {}
            if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
                raise Refused(400, "bad_justification", "justifications map names to text")
            airlock = self.airlock
            sources = recall(self.export, request_id)
            current = await airlock.get(request_id)
            if current["status"] != "draft":
                raise Refused(
                    409, "not_returned", "only a request the reviewers returned is sent again"
                )
            previous = {i["name"]: i.get("justification") or "" for i in current["items"]}
            items = await asyncio.to_thread(
                collect_all, self.export.root, list(sources.values()), self.export.max_bytes
            )
            for item in items:
                why = given.get(item.name, previous.get(item.name, ""))
                await airlock.upload(request_id, item, why.strip())
            return self.with_page(await airlock.action(request_id, "submit"))

        await self.answer(again)


class WithdrawHandler(ExportHandler):
    @web.authenticated
    async def post(self, request_id: str) -> None:
        async def withdraw() -> dict[str, Any]:
            return self.with_page(await self.airlock.action(request_id, "withdraw"))

        await self.answer(withdraw)


ID = r"([^/]+)"
ROUTES: list[tuple[str, type[ExportHandler]]] = [
    ("status", StatusHandler),
    ("check", CheckHandler),
    ("requests", RequestsHandler),
    (f"requests/{ID}", RequestHandler),
    (f"requests/{ID}/resubmit", ResubmitHandler),
    (f"requests/{ID}/withdraw", WithdrawHandler),
]


def settings_for(serverapp: Any) -> ExportSettings:
    return ExportSettings.from_environment(str(serverapp.root_dir), dict(os.environ))
