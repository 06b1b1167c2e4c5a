"""The checker's work is bounded by its input: what a limit leaves unread is reviewed or
refused with the reason, never passed (bench/disclosure_hostile.py times the inputs of
10 MB)."""

from __future__ import annotations

import json

import pytest

from agoria_tre.disclosure import prose
from agoria_tre.disclosure.checker import Context, check_bytes
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.readers.printouts import longest_list
from agoria_tre.disclosure.readers.table import statistic_tokens
from agoria_tre.disclosure.status import Status
from tests.unit.disclosure_support import check, found

FR = Context(load_profile("fr"))


def test_prose_past_its_limit_is_reviewed_whole_not_searched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "Of the 412 patients, 40 were treated at Lyon in 2025.\n" * 40
    assert check("notes.txt", text).status is Status.PASS
    monkeypatch.setattr(prose, "MAX_PROSE", 1_000)
    item = check("notes.txt", text)
    [limit] = [r for r in item.rules if r.rule == "file.limits"]
    assert (limit.status, limit.spans) == (Status.REVIEW, ((0, len(text)),))
    assert f"{len(text):,} characters of prose, more than 1,000" in limit.summary
    assert "prose.hints" not in found(item)


def test_a_line_too_long_for_prose_is_no_printed_series() -> None:
    """A dump of numbers is reviewed whole; it is never split into a printed series."""
    text = "0.0 18.0\n1.0 98.0\n" + " ".join(str(k % 997) for k in range(6_000))
    assert prose.without_long_lines(text).split("\n") == ["0.0 18.0", "1.0 98.0", ""]
    assert prose.without_long_lines("a\nb") == "a\nb"
    item = check("dump.txt", text)
    assert found(item)["statistic.extremes"] is Status.FAIL
    assert found(item)["file.limits"] is Status.REVIEW


@pytest.mark.parametrize(
    "document",
    [
        list(range(100_001)),
        {"series": {"n": [40] * 100_001}},
        [{"sex": "F", "n": 300}] * 100_001,
    ],
    ids=["a list of numbers", "a column in an object", "records"],
)
def test_a_json_list_longer_than_the_row_limit_is_refused_before_reading(
    document: object,
) -> None:
    item = check_bytes("out.json", json.dumps(document).encode(), FR).report
    assert [(r.rule, r.status) for r in item.rules] == [("file.limits", Status.FAIL)]
    assert "has more than 100,000 rows: it holds a list of 100,001 values" in item.rules[0].summary
    assert item.children == []


def test_the_longest_list_is_found_at_any_depth() -> None:
    assert longest_list({"a": [1, 2], "b": {"c": [[1, 2, 3, 4], 5]}}) == 4
    assert longest_list("text") == 0


def test_json_values_read_as_a_table_are_cells_not_prose() -> None:
    records = json.dumps([{"sex": "F", "n": 3}, {"sex": "M", "n": 40}])
    item = check("t.json", records)
    assert found(item)["threshold"] is Status.FAIL
    assert found(item).get("prose.hints", Status.PASS) is Status.PASS
    escaped = '[{"who": "jean.dupont\\u0040chu-lyon.fr", "n": 40}, {"who": "x", "n": 50}]'
    assert found(check("t.json", escaped))["identifier.email"] is Status.FAIL
    noted = json.dumps({"note": "3 patients died", "table": json.loads(records)})
    assert found(check("t.json", noted))["prose.hints"] is Status.REVIEW


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("r12", {"r12"}),
        ("mean", {"mean"}),
        ("2024", {"2024"}),
        ("meanAge", {"mean", "age"}),
        ("p_value", {"p", "value"}),
        ("Âge moyen", {"âge", "moyen"}),
    ],
)
def test_a_labels_words(name: str, words: set[str]) -> None:
    assert statistic_tokens(name) == words
