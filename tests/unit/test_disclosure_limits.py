"""No limit silently truncates: where the checker stops reading an item (lines, printed
containers, tokens, nesting), the item is for review with the reason, never passed on what
was not read."""

from __future__ import annotations

import pytest

from agoria_tre.disclosure.checker import Context, check_bytes
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.readers import printouts, texttables
from agoria_tre.disclosure.report import walk
from agoria_tre.disclosure.status import Status

SMALL_MARKDOWN = "| sex | n |\n|---|---|\n| F | 3 |\n| M | 250 |\n"
SOUND_MARKDOWN = "| sex | n |\n|---|---|\n| F | 300 |\n| M | 250 |\n"


def check(name: str, text: str) -> tuple[Status, list[str]]:
    checked = check_bytes(name, text.encode(), Context(load_profile("fr")))
    summaries = [r.summary for item in walk([checked.report]) for r in item.rules]
    return checked.report.status, summaries


def test_a_small_table_found_is_still_failed() -> None:
    assert check("t.md", SMALL_MARKDOWN)[0] is Status.FAIL
    assert check("t.md", SOUND_MARKDOWN)[0] is Status.PASS


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("\n" * 20_001 + SMALL_MARKDOWN, "tables were looked for in its first 20,000 lines"),
        ("note\n" * 20_001 + SMALL_MARKDOWN, "tables were looked for in its first 20,000 lines"),
        (
            "{'a': 1}\n" * (printouts.MAX_LITERALS + 1) + "{'F': 3, 'M': 250}\n",
            "only its first 1,000 printed containers were read",
        ),
        (
            "[" + ", ".join(f"('k{i}', {i})" for i in range(printouts.MAX_LITERAL_ITEMS + 1)) + "]",
            "a printed container of over 100,000 items was not read",
        ),
        ("[" * 40 + "1" + "]" * 40, "a printed container nested over 32 deep was not read"),
    ],
)
def test_a_limit_reached_is_for_review_with_its_reason(text: str, reason: str) -> None:
    status, summaries = check("out.txt", text)
    assert status is not Status.PASS
    assert any(reason in s for s in summaries), summaries


def test_tokens_past_the_limit_are_not_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(printouts, "MAX_LITERAL_TOKENS", 50)
    text = "[" + ", ".join(str(i) for i in range(100)) + "]"
    status, summaries = check("out.txt", text)
    assert status is Status.REVIEW
    assert any("read up to 50 tokens" in s for s in summaries)


def test_grids_past_the_limit_are_not_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(printouts, "MAX_LITERAL_GRIDS", 2)
    text = "\n".join(f"{{'F': {300 + i}, 'M': 250}}" for i in range(4))
    status, summaries = check("out.txt", text)
    assert status is Status.REVIEW
    assert any("only its first 2 printed containers were read" in s for s in summaries)


def test_text_under_every_limit_is_not_marked() -> None:
    cut: list[str] = []
    texttables.find_text_tables("note\n" * 100 + SOUND_MARKDOWN, cut)
    assert cut == []
    texttables.find_text_tables("\n" * 20_001, None)  # no list to note in: no error


def test_a_table_written_inside_a_json_string_is_read() -> None:
    """Escaped in JSON, a Markdown table is one line of text: it is read from the decoded
    string, as a reviewer would see it."""
    import json

    document = json.dumps({"report": SMALL_MARKDOWN, "note": "see table"})
    assert "\n" not in document
    assert check("out.json", document)[0] is Status.FAIL
    assert check("out.json", json.dumps({"report": SOUND_MARKDOWN}))[0] is Status.PASS


def test_json_records_past_the_row_limit_are_refused() -> None:
    import json

    limits = load_profile("fr").limits
    records = [{"sex": "F", "n": 300}] * (limits.max_rows + 1)
    status, summaries = check("out.json", json.dumps(records))
    assert status is Status.FAIL
    assert any(f"has more than {limits.max_rows:,} rows" in s for s in summaries), summaries


def test_a_line_too_long_for_prose_is_reviewed_not_passed_unread() -> None:
    numbers = " ".join(str(k % 997) for k in range(6_000))  # about 23,000 characters
    item = check_bytes("dump.txt", (numbers + "\n").encode(), Context(load_profile("fr"))).report
    limits = [r for r in item.rules if r.rule == "file.limits"]
    assert [r.status for r in limits] == [Status.REVIEW]
    assert "1 line of more than 20,000 characters" in limits[0].summary
    assert limits[0].spans == ((0, len(numbers)),)
    assert item.status is Status.REVIEW
