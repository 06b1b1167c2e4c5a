"""How the airlock's pages draw requests and items (airlock/pages.py, the pure part): the
checker's verdict in plain words, tables with their flagged cells, prose with its marked
passages, notebooks sanitised, and an item that cannot be drawn saying so."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agoria_tre import audit
from agoria_tre.airlock import pages


def rule(status: str, *, cells: list[list[int]] = (), spans: list[list[int]] = ()) -> Any:  # type: ignore[assignment]
    return {
        "rule": "threshold",
        "status": status,
        "summary": f"{status} here",
        "cells": list(cells),
        "spans": list(spans),
    }


def item(kind: str, check: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    return {"id": "i1", "name": "out", "kind": kind, "check": check, **more}


def test_status_badges_and_ages() -> None:
    assert "not checked" in pages.badge(None)
    assert pages.badge("fail") == '<span class="status status-fail">fail</span>'
    assert pages.age(None) == "—"
    now = datetime.now(UTC)
    assert pages.age(audit.format_timestamp(now - timedelta(days=3, hours=1))) == "3 days"
    assert pages.age(audit.format_timestamp(now - timedelta(minutes=2))) == "2 minutes"
    assert pages.age(audit.format_timestamp(now + timedelta(seconds=30))) == "0 seconds"


@pytest.mark.parametrize(
    ("statuses", "said"),
    [
        ([], "has not run"),
        (["fail", "review", "pass"], "1 file failed (approved only as a justified exception);"),
        (["review"], "1 file need a reviewer's judgement"),
        (["pass", "pass"], "read 2 files: every rule passed."),
    ],
)
def test_the_summary_says_the_verdict_in_words(statuses: list[str], said: str) -> None:
    request = {"items": [{"check": {"status": s}} for s in statuses] + [{"check": None}]}
    assert said in pages.summary(request)


def test_a_table_is_redrawn_with_its_flagged_cells_marked() -> None:
    drawn = pages.table_html(
        b"sex,age,n\nF,40-49,40\nM,40-49,3\n",
        {"rules": [rule("fail", cells=[[1, 0]]), rule("pass")]},
    )
    assert '<th scope="row">40-49</th>' in drawn  # labels are labels
    assert '<td class="num flag" title="threshold: fail here">3' in drawn
    assert drawn.count("flag") == 1
    assert pages.table_html(b"", {}) == '<p class="muted">An empty table.</p>'


def test_a_long_table_is_shown_in_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "MAX_SHOWN_ROWS", 2)
    drawn = pages.table_html(b"k,n\na,1\nb,2\nc,3\n", {})
    assert "c</th>" not in drawn
    assert "The first 2 rows are shown." in drawn


def test_prose_is_escaped_with_its_flagged_passages_marked() -> None:
    text = b"<b>only 2</b> died, the oldest aged 97"
    drawn = pages.text_html(
        text, {"rules": [rule("review", spans=[[8, 9], [8, 12], [20, 38], [90, 99]])]}
    )
    assert drawn == (
        "<pre>&lt;b&gt;only <mark>2</mark>&lt;/b&gt; died, <mark>the oldest aged 97</mark></pre>"
    )


def test_a_canonical_notebook_is_drawn_sanitised() -> None:
    canonical = {
        "nbformat": 4,
        "nbformat_minor": 4,
        "cells": [
            {"cell_type": "markdown", "source": "# Deaths <script>alert(1)</script>"},
            {
                "cell_type": "code",
                "source": "df.size",
                "outputs": [
                    {"output_type": "execute_result", "data": {"text/plain": "70"}},
                    {"output_type": "stream", "name": "stdout", "text": "done"},
                ],
            },
        ],
    }
    drawn = pages.notebook_html(json.dumps(canonical).encode())
    assert "70" in drawn
    assert "done" in drawn
    assert "<script" not in drawn


def test_each_kind_of_item_is_drawn_its_own_way() -> None:
    assert "check has run" in pages.item_html("/p/", "r1", item("table"), None)
    assert "could not read" in pages.item_html("/p/", "r1", item("other", {"rules": []}), None)
    image = pages.item_html("/p/", "r1", item("image.png", {"rules": []}), b"png")
    assert image == '<img src="/p/requests/r1/items/i1/content" alt="out">'
    frame = pages.item_html("/p/", "r1", item("html", {"rules": []}), b"<table></table>")
    assert 'sandbox=""' in frame
    assert pages.item_html("/p/", "r1", item("text", {"rules": []}), b"a<b") == "<pre>a&lt;b</pre>"


def test_an_item_that_cannot_be_drawn_says_so(caplog: pytest.LogCaptureFixture) -> None:
    drawn = pages.item_html("/p/", "r1", item("notebook", {"rules": []}), b"{not json")
    assert "could not be drawn here" in drawn
    assert "item i1 of request r1 could not be drawn" in caplog.text
