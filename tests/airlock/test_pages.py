"""The reviewers' pages in a real headless Chromium (Debian's), logged in through the hub:
hostile outputs render inert, flagged cells are marked, decisions are taken with the forms,
and a form posted without its XSRF value is refused."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Dialog, Page, Request, sync_playwright

from agoria_tre.testing.airlock import AirlockClient
from agoria_tre.testing.platform import TrialPlatform
from tests.support import jp_asyncio_loop, jp_server_cleanup  # noqa: F401 (no Jupyter loop here)

pytestmark = pytest.mark.workspaces

CHROMIUM = "/usr/bin/chromium"
PASSWORDS: dict[str, str] = {}  # demo logins made in this run
PAYLOADS = (
    "<script>window.top.document.title='pwned'; alert('script')</script>"
    "<img src=x onerror=\"window.top.document.title='pwned'; alert('onerror')\">"
    "<a id=js href=\"javascript:alert('href')\">click</a>"
    "<svg onload=\"alert('svg')\"></svg>"
)
HOSTILE_HTML = (
    "<html><body><h1>Deaths</h1>" + PAYLOADS + "<table><thead><tr><th>sex</th><th>n</th></tr>"
    "</thead><tbody><tr><td>F</td><td>40</td></tr><tr><td>M</td><td>30</td></tr></tbody>"
    "</table></body></html>"
).encode()
HOSTILE_NOTEBOOK = json.dumps(
    {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": "markdown",
                "id": "m1",
                "metadata": {},
                "source": "[a link](javascript:alert('md')) " + PAYLOADS,
            },
            {
                "cell_type": "code",
                "id": "c1",
                "metadata": {},
                "execution_count": 1,
                "source": "df.groupby('sex').size()",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"text/html": PAYLOADS + "<b>F 40, M 30</b>", "text/plain": "x"},
                    }
                ],
            },
        ],
    }
).encode()
# The same payloads as text a page shows (escaped), and as a table's labels.
ESCAPED_HTML = (
    "<html><body><table><thead><tr><th>group</th><th>n</th></tr></thead><tbody>"
    + "".join(
        f"<tr><td>{p}</td><td>{20 + k}</td></tr>"
        for k, p in enumerate(
            ["&lt;script&gt;alert('x')&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;",
             "javascript:alert(1)"]
        )
    )
    + "</tbody></table></body></html>"
).encode()  # fmt: skip
HOSTILE_CSV = (
    b'group,n\n"<script>alert(\'csv\')</script>",25\n"<img src=x onerror=alert(1)>",30\n'
    b"javascript:alert(1),40\n"
)
SMALL = b"sex,n\nF,40\nM,3\n"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        found = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield found
        found.close()


@pytest.fixture(scope="module")
def hostile_request(as_user: dict[str, AirlockClient]) -> dict[str, Any]:
    alice = as_user["alice"]
    made = alice.post("api/requests", {"project": "cardio", "title": "Hostile outputs"}).json
    for name, data in (
        ("page.html", HOSTILE_HTML),
        ("escaped.html", ESCAPED_HTML),
        ("labels.csv", HOSTILE_CSV),
        ("analysis.ipynb", HOSTILE_NOTEBOOK),
        ("small.csv", SMALL),
        ("notes.txt", b"Among the 250 patients, 2 patients died; the oldest was 97 years old.\n"),
    ):
        assert alice.upload(made["id"], name, data).status == 201
    submitted = alice.post(f"api/requests/{made['id']}/submit")
    assert submitted.status == 200, submitted.body
    return dict(submitted.json)


def logged_in(browser: Browser, platform: TrialPlatform, user: str) -> tuple[Page, list[str]]:
    """A page of ``user``, logged in at the hub, on the airlock's home; and a list that
    collects every dialog a script opens and every request to another origin."""
    if user not in PASSWORDS:
        PASSWORDS[user] = platform.cli("hub", "demo-user", user).stdout.split("\t")[1].strip()
    password = PASSWORDS[user]
    page = browser.new_context().new_page()
    seen: list[str] = []

    def dialog(opened: Dialog) -> None:
        seen.append(f"dialog {opened.message}")
        opened.dismiss()

    def request(sent: Request) -> None:
        if not sent.url.startswith((platform.public_url, "data:", "about:")):
            seen.append(f"request {sent.url}")

    page.on("dialog", dialog)
    page.on("request", request)
    page.goto(f"{platform.public_url}/services/airlock/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("[type=submit]")
    page.wait_for_url(f"{platform.public_url}/services/airlock/")
    return page, seen


def test_hostile_outputs_render_inert(
    browser: Browser, airlock_platform: TrialPlatform, hostile_request: dict[str, Any]
) -> None:
    page, seen = logged_in(browser, airlock_platform, "rita")
    page.click(f"text={hostile_request['title']}")
    page.wait_for_load_state("load")
    for frame in page.frames:
        frame.wait_for_load_state("load")
    assert page.title() == "Hostile outputs · Agoria TRE airlock", page.content()[:3000]
    assert page.locator("iframe.output[sandbox='']").count() == 1  # escaped.html only
    refused = page.locator("section", has_text="page.html")
    assert "could not read this file" in refused.inner_text()  # active content: not shown
    on_handlers = page.evaluate(
        "() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]"
        ".filter(a => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value))"
        ".map(a => e.tagName + ' ' + a.name))"
    )
    assert on_handlers == []
    assert page.locator("main script, main svg").count() == 0
    framed = next(f for f in page.frames if f.url.endswith("/content"))
    assert "<script>alert('x')</script>" in framed.locator("table").inner_text()
    labels = page.locator("section", has_text="labels.csv").locator("table")
    assert "<script>alert('csv')</script>" in labels.inner_text()  # shown as text
    links = page.locator("a#js")  # the notebook's links (markdown, output), without href
    assert links.count() == 2
    assert [links.nth(k).get_attribute("href") for k in range(2)] == [None, None]
    assert seen == []  # no dialog opened, nothing fetched from elsewhere


def test_flagged_cells_are_marked_with_their_reason(
    browser: Browser, airlock_platform: TrialPlatform, hostile_request: dict[str, Any]
) -> None:
    page, _ = logged_in(browser, airlock_platform, "rita")
    page.goto(f"{airlock_platform.public_url}/services/airlock/requests/{hostile_request['id']}")
    flagged = page.locator("td.flag")
    assert flagged.count() == 1
    assert flagged.first.inner_text().startswith("3")
    assert "threshold" in (flagged.first.get_attribute("title") or "")
    marked = page.locator("mark").all_inner_texts()  # the passages the checker points at
    assert marked == ["2", "oldest was 97"]


def test_reviewers_decide_with_the_forms_and_xsrf_is_required(
    browser: Browser, airlock_platform: TrialPlatform, hostile_request: dict[str, Any]
) -> None:
    page, _ = logged_in(browser, airlock_platform, "sam")
    url = f"{airlock_platform.public_url}/services/airlock/requests/{hostile_request['id']}"
    page.goto(url)
    notes = next(i for i in hostile_request["items"] if i["name"] == "notes.txt")
    form = page.locator(f"section[aria-labelledby='item-{notes['id']}'] form.decide")
    form.locator("textarea").fill("a count of 2 in prose")
    form.locator("button[value=reject]").click()
    page.wait_for_load_state("load")
    section = page.locator(f"section[aria-labelledby='item-{notes['id']}']")
    assert "sam: reject" in section.inner_text()
    forged = page.request.post(
        f"{url}/items/{notes['id']}/review", form={"decision": "approve", "comment": "forged"}
    )
    assert forged.status == 403
    assert "_xsrf" in forged.text()
    home = page.request.get(f"{airlock_platform.public_url}/services/airlock/")
    assert home.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_whole_review_through_the_pages(
    browser: Browser, airlock_platform: TrialPlatform, as_user: dict[str, AirlockClient]
) -> None:
    """Return for changes, approve by two reviewers, release, and the requester's download,
    with an image drawn by the service and plain text served as text."""
    alice = as_user["alice"]
    made = alice.post("api/requests", {"project": "cardio", "title": "Figure"}).json
    figure = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(figure, format="PNG")
    assert alice.upload(made["id"], "figure.png", figure.getvalue()).status == 201
    assert alice.upload(made["id"], "deaths.csv", b"sex,n\nF,40\nM,30\n").status == 201
    assert alice.post(f"api/requests/{made['id']}/submit").status == 200
    url = f"{airlock_platform.public_url}/services/airlock/requests/{made['id']}"

    rita, _ = logged_in(browser, airlock_platform, "rita")
    rita.goto(url)
    image = rita.locator("img[alt='figure.png']")
    assert image.evaluate("img => img.naturalWidth") == 40  # served by the airlock itself
    rita.fill("#return-comment", "label the axes")
    rita.click("text=Return for changes")
    assert "Returned for changes: label the axes" in rita.inner_text("main")

    assert alice.post(f"api/requests/{made['id']}/submit").status == 200
    for reviewer in ("rita", "sam"):
        page, _ = (
            logged_in(browser, airlock_platform, reviewer) if reviewer == "sam" else (rita, [])
        )
        page.goto(url)
        while page.locator("form.decide").count():  # each decision reloads the page
            page.locator("form.decide").first.locator("button[value=approve]").click()
            page.wait_for_load_state("load")
    rita.goto(url)
    rita.click("text=Release the approved files")
    assert "Released by rita" in rita.inner_text("main")

    requester, _ = logged_in(browser, airlock_platform, "alice")
    requester.goto(url)  # the requester sees findings and decisions, never the contents
    assert requester.locator("img, iframe, td.num").count() == 0
    assert "Shown to the project's reviewers only" in requester.inner_text("main")
    requester.goto(f"{airlock_platform.public_url}/services/airlock/")
    with requester.expect_download() as downloading:
        requester.click("tr:has-text('Figure') >> text=Download")
    with zipfile.ZipFile(downloading.value.path()) as archive:
        assert sorted(archive.namelist()) == [
            "outputs/deaths.csv", "outputs/figure.png", "release.json",
        ]  # fmt: skip
    table = next(i["id"] for i in made_items(alice, made["id"]) if i["kind"] == "table")
    assert requester.request.get(f"{url}/items/{table}/content").status == 403
    text = rita.request.get(f"{url}/items/{table}/content")
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text() == "sex,n\nF,40\nM,30\n"


def made_items(client: AirlockClient, request_id: str) -> list[dict[str, Any]]:
    return list(client.get(f"api/requests/{request_id}").json["items"])


def test_the_requester_withdraws_from_the_page(
    browser: Browser, airlock_platform: TrialPlatform, as_user: dict[str, AirlockClient]
) -> None:
    alice = as_user["alice"]
    made = alice.post("api/requests", {"project": "cardio", "title": "Second thoughts"}).json
    page, _ = logged_in(browser, airlock_platform, "alice")
    page.goto(f"{airlock_platform.public_url}/services/airlock/requests/{made['id']}")
    assert "Shown once" not in page.inner_text("main")  # a draft without files
    page.click("text=Withdraw this request")
    assert "status withdrawn" in page.inner_text("main")
