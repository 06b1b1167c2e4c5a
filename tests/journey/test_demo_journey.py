"""The whole journey, as the README promises it: ``bash scripts/demo.sh`` on an empty data
directory brings the platform up and prints the demo logins and the URL; in Debian's
headless Chromium a researcher runs the starter notebook in the demo project's workspace,
exports its two tables with JupyterLab's "Request export…" (the local check flags the
small cells before anything is sent), two reviewers decide in the airlock's pages (the
flagged cells highlighted), one releases, and the researcher downloads the release: it
holds exactly the approved table and a ``release.json`` whose hashes match, and the audit
chain verifies. Ctrl-C then leaves nothing running; a second run reuses everything.

Each step's screenshot goes to ``$AGORIA_SCREENSHOTS`` (default: the test's own folder).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from agoria_tre.testing.demo import DemoRun
from agoria_tre.testing.platform import AGORIA, free_port
from tests.platform.test_lifecycle import NOTHING, leftovers
from tests.support import jp_asyncio_loop, jp_server_cleanup  # noqa: F401 (no Jupyter loop here)

pytestmark = pytest.mark.workspaces

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SAFE_TABLE = "patients_by_sex_and_drug.csv"
SMALL_TABLE = "patients_by_departement.csv"
TITLE = "Demo cohort: patients by drug and by département"
WAIT = 180_000  # ms: a workspace's first start, a notebook's first run


class Journey:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("AGORIA_DB_URL",)},
            "AGORIA_HOME": str(root / "home"),
            "AGORIA_KEY_FILE": str(root / "keys" / "platform.key"),
        }
        self.args = [
            "--url", f"http://127.0.0.1:{free_port()}",
            "--api-port", str(free_port()),
            "--proxy-api-port", str(free_port()),
            "--airlock-port", str(free_port()),
        ]  # fmt: skip
        self.shots = Path(os.environ.get("AGORIA_SCREENSHOTS", root / "screenshots"))
        self.shots.mkdir(parents=True, exist_ok=True)
        self.url = ""
        self.logins: dict[str, tuple[str, str]] = {}
        self.demo: DemoRun | None = None

    def run(self) -> DemoRun:
        self.demo = DemoRun(["bash", str(ROOT / "scripts" / "demo.sh"), *self.args], self.env)
        return self.demo

    def stop(self) -> None:
        """Ctrl-C: the script ends cleanly and nothing of the platform is left running."""
        demo, self.demo = self.demo, None
        if demo is not None:
            assert demo.interrupt() == 0, demo.output[-4000:]
            assert leftovers(self.root / "home") == NOTHING

    def shot(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.shots / f"{name}.png"))

    def login(self, browser: Browser, user: str, at: str) -> Page:
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.goto(f"{self.url}{at}")
        form = page.locator("input[name=username]")
        for attempt in range(3):  # the hub's first pages can be slow on a loaded machine
            try:
                expect(form).to_be_visible(timeout=60_000)
                break
            except AssertionError:
                self.shot(page, f"login-{user}-{attempt}")
                page.reload()
        expect(form).to_be_visible(timeout=WAIT)
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", self.logins[user][1])
        page.click("[type=submit]")
        return page


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        found = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
        )
        yield found
        found.close()


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    trip = Journey(tmp_path_factory.mktemp("journey"))
    demo = trip.run()
    try:
        trip.url, _ = demo.wait_for_url(timeout=1800)
        trip.url = trip.url.removesuffix("/hub/")
        trip.logins = demo.logins()
        yield trip
    finally:
        trip.stop()


def run_the_starter_notebook(journey: Journey, page: Page) -> None:
    page.wait_for_url("**/hub/home", timeout=WAIT)
    page.click("a:has-text('start')")
    page.wait_for_url("**/user/alice/demo-eap/lab**", timeout=WAIT)
    page.goto(f"{journey.url}/user/alice/demo-eap/lab/tree/starter.ipynb")
    notebook = page.locator(".jp-NotebookPanel:visible .jp-Notebook")
    expect(notebook).to_be_visible(timeout=WAIT)
    expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_be_visible(
        timeout=WAIT
    )
    last = notebook.locator(".jp-CodeCell").last.locator(".jp-InputPrompt")
    numbered = re.compile(r"\[\d+\]:")
    # Run All while the kernel is still being connected may run only some cells (or none):
    # run them all again until the last one has run (rerunning the notebook is harmless).
    for attempt in range(4):
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        try:
            expect(last).to_have_text(numbered, timeout=90_000)
            break
        except AssertionError:
            journey.shot(page, f"notebook-not-run-{attempt}")
    expect(last).to_have_text(numbered, timeout=WAIT)
    last = notebook.locator(".jp-CodeCell").last
    expect(last.locator(".jp-OutputArea-output").first).to_contain_text("48")
    # JupyterLab's announcements (news and update checks from the internet) are off
    assert page.get_by_text("Jupyter news").count() == 0
    journey.shot(page, "1-starter-notebook")


def request_the_export(journey: Journey, page: Page) -> str:
    page.goto(f"{journey.url}/user/alice/demo-eap/lab/tree/outputs")
    listing = page.locator(".jp-DirListing-content")
    safe_item = listing.locator(".jp-DirListing-item", has_text=SAFE_TABLE)
    small_item = listing.locator(".jp-DirListing-item", has_text=SMALL_TABLE)
    expect(small_item).to_be_visible(timeout=WAIT)
    safe_item.click()
    small_item.click(modifiers=["Control"])
    small_item.click(button="right")
    page.click(".lm-Menu-item:has-text('Request export…')")

    dialog = page.locator(".agoria-export-dialog")
    small = dialog.locator(f".agoria-export-item[data-name='{SMALL_TABLE}']")
    sound = dialog.locator(f".agoria-export-item[data-name='{SAFE_TABLE}']")
    expect(small.locator(".agoria-verdict")).to_have_text("FAIL", timeout=WAIT)
    expect(sound.locator(".agoria-verdict")).to_have_text("PASS")
    threshold = small.locator("td.agoria-flag[title*='threshold']")
    expect(threshold.first).to_be_visible()
    expect(threshold.locator(".agoria-value")).to_have_text(["3"])  # Lozère's M: 3 patients
    assert small.locator("tbody td:first-child.agoria-flag").count() == 0  # labels never
    assert sound.locator("td.agoria-flag").count() == 0
    submit = page.get_by_role("button", name="Submit for review")
    page.get_by_label("Export title").fill(TITLE)
    expect(submit).to_be_disabled()  # the failed table has no justification yet
    journey.shot(page, "2-local-check")
    page.get_by_label(f"Justification for {SMALL_TABLE}").fill(
        "Lozère is shown to make the department map complete; reviewers to judge."
    )
    expect(submit).to_be_enabled()
    submit.click()
    outcome = page.locator(".agoria-export-outcome")
    expect(outcome).to_contain_text("review", timeout=WAIT)
    link = outcome.get_by_role("link", name="Open in the airlock")
    href = link.get_attribute("href") or ""
    journey.shot(page, "3-submitted")
    request_id = href.rstrip("/").rsplit("/", 1)[-1]
    assert request_id
    return request_id


def review(journey: Journey, browser: Browser, reviewer: str, request_id: str) -> Page:
    page = journey.login(browser, reviewer, "/services/airlock/")
    page.wait_for_url(f"{journey.url}/services/airlock/")
    expect(page.locator("main")).to_contain_text(TITLE)
    page.goto(f"{journey.url}/services/airlock/requests/{request_id}")
    small = page.locator("section", has_text=SMALL_TABLE).last
    expect(small.locator("td.flag[title*='threshold']").first).to_be_visible()
    assert small.locator("tr td:first-child.flag").count() == 0  # a label is never flagged
    if reviewer == "bob":
        journey.shot(page, "4-reviewer-sees-flagged-cells")
    for name, decision in ((SAFE_TABLE, "approve"), (SMALL_TABLE, "reject")):
        form = page.locator("section", has_text=name).last.locator("form.decide")
        form.locator("textarea").fill(f"{decision}d by {reviewer}")
        form.locator(f"button[value={decision}]").click()
        page.wait_for_load_state("load")
    return page


def test_the_demo_journey_from_notebook_to_release(journey: Journey, browser: Browser) -> None:
    assert set(journey.logins) == {"dana", "alice", "erin", "bob", "carol"}
    researcher = journey.login(browser, "alice", "/hub/login")
    try:
        run_the_starter_notebook(journey, researcher)
        request_id = request_the_export(journey, researcher)
    except BaseException:
        journey.shot(researcher, "failed-here")
        raise
    researcher.click(".lm-TabBar-tab[data-id='agoria-tre-exports']")  # the Exports panel
    panel = researcher.locator(f".agoria-export-request[data-id='{request_id}']")
    expect(panel.locator(".agoria-status")).to_have_text("In review", timeout=WAIT)
    journey.shot(researcher, "5-exports-panel")

    review(journey, browser, "bob", request_id)
    carol = review(journey, browser, "carol", request_id)
    carol.click("text=Release the approved files")
    expect(carol.locator("main")).to_contain_text("Released by carol")
    journey.shot(carol, "6-released")

    researcher.goto(f"{journey.url}/services/airlock/")
    with researcher.expect_download() as downloading:
        researcher.click(f"tr:has-text('{TITLE}') >> text=Download")
    journey.shot(researcher, "7-download")
    with zipfile.ZipFile(downloading.value.path()) as archive:
        assert sorted(archive.namelist()) == [f"outputs/{SAFE_TABLE}", "release.json"]
        release = json.loads(archive.read("release.json"))
        (item,) = release["items"]
        assert item["name"] == SAFE_TABLE
        released = archive.read(f"outputs/{SAFE_TABLE}")
    assert item["sha256"] == hashlib.sha256(released).hexdigest()
    assert release["withheld"] == 1
    assert [d["decision"] for d in item["decisions"]] == ["approve", "approve"]
    verified = subprocess.run(
        [AGORIA, "audit", "verify"], env=journey.env, capture_output=True, text=True, check=False
    )
    assert verified.returncode == 0, verified.stderr
    assert "audit chain intact" in verified.stdout


def test_ctrl_c_stops_everything_and_a_second_run_reuses_what_exists(journey: Journey) -> None:
    journey.stop()
    again = journey.run()
    url, _ = again.wait_for_url(timeout=600)
    assert url == f"{journey.url}/hub/"
    assert again.logins() == {}  # the passwords were shown once, by the first run
    assert "workspace image: up to date" in again.output
    assert "generating and ingesting" not in again.output
    journey.stop()
