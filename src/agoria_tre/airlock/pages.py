"""The reviewers' and researchers' pages: server-rendered, no script, nothing fetched from
elsewhere.

Each item is shown as what was checked (its canonical form), never as something the
browser runs: a table is re-drawn from its cells, the cells the checker flagged
highlighted with the reason beside; a notebook is rendered by nbconvert with its HTML
sanitised, each output under its code cell; an HTML page is shown in a sandboxed frame
whose own policy allows no script; an image as an image of this service; anything else as
text. The pages' Content-Security-Policy allows no script at all.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tornado import web

from agoria_tre.airlock.handlers import Base
from agoria_tre.disclosure.flagged import MAX_SHOWN_ROWS, findings, flagged_table
from agoria_tre.disclosure.report import plural

log = logging.getLogger(__name__)
TEMPLATES = str(Path(__file__).with_name("templates"))
STYLE = Path(__file__).with_name("static") / "airlock.css"
IMAGE_TYPES = {"image.png": "image/png", "image.jpeg": "image/jpeg", "image": "image/png"}
NOT_SHOWN = (
    '<p class="muted">Shown to the project\'s reviewers only; the file leaves in a release.</p>'
)
# What an item frame may do: show its own markup and inline styles, nothing else.
FRAME_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def badge(status: str | None) -> str:
    if not status:
        return '<span class="status muted">not checked</span>'
    shown = html.escape(status)
    return f'<span class="status status-{shown}">{shown}</span>'


def age(stamp: str | None) -> str:
    if not stamp:
        return "—"
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    seconds = max(0, int((datetime.now(UTC) - moment).total_seconds()))
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            return plural(seconds // size, unit)
    return plural(seconds, "second")


def summary(request: dict[str, Any]) -> str:
    """The checker's verdict on the request in plain words."""
    items = request["items"]
    checked = [i for i in items if i["check"]]
    if not checked:
        return "The automated check has not run on this request yet."
    fails = sum(i["check"]["status"] == "fail" for i in checked)
    reviews = sum(i["check"]["status"] == "review" for i in checked)
    parts = [f"The automated check read {plural(len(checked), 'file')}:"]
    if fails:
        parts.append(f"{plural(fails, 'file')} failed (approved only as a justified exception)")
    if reviews:
        parts.append(f"{plural(reviews, 'file')} need a reviewer's judgement on the points listed")
    if not fails and not reviews:
        parts.append("every rule passed")
    return " ".join(parts[:1]) + " " + "; ".join(parts[1:]) + "."


# --- items as HTML ---------------------------------------------------------------------


def table_html(data: bytes, report: dict[str, Any]) -> str:
    """A canonical CSV as an HTML table, the flagged cells marked with their reasons."""
    table = flagged_table(data, report, MAX_SHOWN_ROWS)
    if not table.header:
        return '<p class="muted">An empty table.</p>'
    out = ["<table><thead><tr>"]
    out += [f'<th scope="col">{html.escape(c)}</th>' for c in table.header]
    out.append("</tr></thead><tbody>")
    for row in table.rows:
        out.append("<tr>")
        for c, cell in enumerate(row):
            if c < table.labels:
                out.append(f'<th scope="row">{html.escape(cell.value)}</th>')
            elif cell.flags:
                why = html.escape("; ".join(cell.flags))
                out.append(
                    f'<td class="num flag" title="{why}">{html.escape(cell.value)}'
                    f'<span class="muted"> ⚑ {why}</span></td>'
                )
            else:
                out.append(f'<td class="num">{html.escape(cell.value)}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    if table.truncated:
        out.append(f'<p class="notice">The first {MAX_SHOWN_ROWS:,} rows are shown.</p>')
    return "".join(out)


def text_html(data: bytes, report: dict[str, Any]) -> str:
    """Text, the passages the checker flagged marked (spans of the item's own text)."""
    text = data.decode("utf-8", errors="replace")
    spans = sorted(
        (start, end)
        for rule in report.get("rules", [])
        if rule.get("status") != "pass"
        for start, end in rule.get("spans", [])
        if 0 <= start < end <= len(text)
    )
    out, at = [], 0
    for start, end in spans:
        if start < at:
            continue
        out += [html.escape(text[at:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        at = end
    out.append(html.escape(text[at:]))
    return "<pre>" + "".join(out) + "</pre>"


def notebook_html(data: bytes) -> str:
    """A canonical notebook through nbconvert, its HTML outputs sanitised, no script."""
    import nbformat
    from nbconvert import HTMLExporter

    # The canonical form keeps cells, sources and outputs, not metadata: give back the empty
    # metadata nbformat's model expects.
    raw = json.loads(data)
    raw.setdefault("metadata", {})
    raw["nbformat_minor"] = max(5, raw.get("nbformat_minor", 5))
    for number, cell in enumerate(raw.get("cells", []), start=1):
        cell.setdefault("metadata", {})
        cell.setdefault("id", f"cell-{number}")
        if cell.get("cell_type") == "code":
            cell.setdefault("execution_count", None)
            cell.setdefault("outputs", [])
        for output in cell.get("outputs", []):
            if output.get("output_type") in ("display_data", "execute_result"):
                output.setdefault("metadata", {})
            if output.get("output_type") == "execute_result":
                output.setdefault("execution_count", None)
    notebook = nbformat.from_dict(raw)  # type: ignore[no-untyped-call]
    exporter = HTMLExporter(template_name="basic", sanitize_html=True)  # type: ignore[no-untyped-call]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lexers missing for a kernel's language
        body, _ = exporter.from_notebook_node(notebook)
    return str(body)


def item_html(prefix: str, request_id: str, item: dict[str, Any], data: bytes | None) -> str:
    """An item as HTML for its request's page; one that cannot be drawn says so."""
    try:
        return _item_html(prefix, request_id, item, data)
    except Exception:
        log.exception("item %s of request %s could not be drawn", item["id"], request_id)
        return (
            '<p class="error">This file could not be drawn here; the checker\'s findings'
            " above still apply. The operators have the details in the airlock's log.</p>"
        )


def _item_html(prefix: str, request_id: str, item: dict[str, Any], data: bytes | None) -> str:
    if data is None and item["check"]:
        return '<p class="muted">The check could not read this file: it is not shown.</p>'
    if data is None:
        return '<p class="muted">Shown once the automated check has run.</p>'
    report = item["check"] or {}
    kind = item["kind"] or ""
    source = f"{prefix}requests/{quote(request_id)}/items/{quote(item['id'])}/content"
    if kind == "table":
        return table_html(data, report)
    if kind == "notebook":
        return notebook_html(data)
    if kind.startswith("image"):
        return f'<img src="{html.escape(source)}" alt="{html.escape(item["name"])}">'
    if kind == "html":
        return (
            f'<iframe class="output" sandbox="" src="{html.escape(source)}"'
            f' title="{html.escape(item["name"])}"></iframe>'
        )
    return text_html(data, report)


def _common(handler: Base) -> dict[str, Any]:
    model = handler.current_user
    return {
        "prefix": handler.settings["prefix"],
        "who": model["name"] if model else "",
        "badge": badge,
        "age": age,
        "findings": findings,
    }


# --- handlers --------------------------------------------------------------------------


class Page(Base):
    api = False


class HomePage(Page):
    async def get(self) -> None:
        caller = self.caller  # a workspace's token sees its own project only, here too
        found = await self.act(lambda: self.airlock.listing(caller))
        queue = [r for r in found if r["status"] == "in_review" and r["requester"] != caller.name]
        mine = [r for r in found if r["requester"] == caller.name]
        others = [r for r in found if r not in queue and r not in mine]
        self.render(
            "home.html", **_common(self), title="Requests", queue=queue, mine=mine, others=others
        )


class RequestPage(Page):
    async def get(self, request_id: str) -> None:
        caller = self.caller
        request = await self.act(lambda: self.airlock.get(caller, request_id))
        may_review = await self.blocking(lambda: self.airlock.may_review(caller, request_id))
        shown = []
        for item in request["items"]:
            if not may_review:  # contents are the reviewers' until released
                shown.append((item, NOT_SHOWN))
                continue
            data = None
            if item["sha256"] is not None:
                _, data = await self.act(
                    functools.partial(self.airlock.content, caller, request_id, item["id"])
                )
            shown.append((item, item_html(self.settings["prefix"], request_id, item, data)))
        self.render(
            "request.html",
            **_common(self),
            title=request["title"],
            r=request,
            items=shown,
            summary=summary(request),
            may_review=may_review and request["status"] == "in_review",
            may_withdraw=request["requester"] == caller.name
            and request["status"] in ("draft", "submitted", "checking", "in_review"),
            may_download=request["status"] == "released"
            and await self.blocking(lambda: self.airlock.may_download(caller, request_id)),
        )


class ContentPage(Page):
    """An item's checked content on its own: images for ``<img>``, HTML pages for their
    sandboxed frame, under a policy that lets them run nothing."""

    async def get(self, request_id: str, item_id: str) -> None:
        item, data = await self.act(lambda: self.airlock.content(self.caller, request_id, item_id))
        kind = item["kind"] or ""
        self.set_header("Content-Security-Policy", FRAME_CSP)
        self.set_header("Content-Disposition", "inline")
        if kind.startswith("image"):
            self.set_header("Content-Type", IMAGE_TYPES.get(kind, "image/png"))
        elif kind == "html":
            self.set_header("Content-Type", "text/html; charset=utf-8")
        else:
            self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(data)


class StylePage(Page):
    """The pages' style sheet (behind the same login as everything else here)."""

    async def get(self) -> None:
        self.set_header("Content-Type", "text/css; charset=utf-8")
        self.finish(STYLE.read_bytes())


class FormPage(Page):
    def field(self, name: str) -> str:
        return self.get_body_argument(name, "") or ""

    def back(self, request_id: str) -> None:
        self.redirect(f"{self.settings['prefix']}requests/{quote(request_id)}")


class ReviewForm(FormPage):
    async def post(self, request_id: str, item_id: str) -> None:
        decision, comment = self.field("decision"), self.field("comment")
        exception = self.field("exception") == "1"
        await self.act(
            lambda: self.airlock.decide(
                self.caller, request_id, item_id, decision, comment=comment, exception=exception
            )
        )
        self.back(request_id)


class ReturnForm(FormPage):
    async def post(self, request_id: str) -> None:
        comment = self.field("comment")
        await self.act(lambda: self.airlock.return_to_requester(self.caller, request_id, comment))
        self.back(request_id)


class ReleaseForm(FormPage):
    async def post(self, request_id: str) -> None:
        await self.act(lambda: self.airlock.release(self.caller, request_id))
        self.back(request_id)


class WithdrawForm(FormPage):
    async def post(self, request_id: str) -> None:
        await self.act(lambda: self.airlock.withdraw(self.caller, request_id))
        self.back(request_id)


def routes() -> list[tuple[str, type[web.RequestHandler]]]:
    rid = r"(?P<request_id>[^/]+)"
    item = r"(?P<item_id>[^/]+)"
    return [
        (r"", HomePage),
        (r"static/airlock\.css", StylePage),
        (rf"requests/{rid}", RequestPage),
        (rf"requests/{rid}/items/{item}/content", ContentPage),
        (rf"requests/{rid}/items/{item}/review", ReviewForm),
        (rf"requests/{rid}/return", ReturnForm),
        (rf"requests/{rid}/release", ReleaseForm),
        (rf"requests/{rid}/withdraw", WithdrawForm),
    ]
