"""Mutants of the labelled corpus get a verdict, never an internal error; the crashes the
fuzzer found (bench/disclosure_fuzz.py) are kept here."""

from __future__ import annotations

from agoria_tre.disclosure.checker import check_bytes
from agoria_tre.disclosure.status import Status
from tests.corpus.fuzz import inputs
from tests.corpus.generate import DEFAULT
from tests.unit.disclosure_support import FR, check, found

INTERNAL = "the checker could not read this file"


def _internal(name: str, data: bytes) -> list[str]:
    report = check_bytes(name, data, FR).report
    return [r.summary for r in report.rules if r.summary.startswith(INTERNAL)]


def test_a_hidden_cell_beside_an_unreadable_one_is_for_review() -> None:
    text = "stage,0,1,Total\nI,14,<11,30\nII,19,x3y,40\nTotal,33,20,70\n"
    item = check("t.csv", text)
    assert found(item)["secondary_suppression"] is Status.REVIEW
    assert item.status is Status.REVIEW


def test_rows_of_numbers_of_different_lengths_are_a_structure_review() -> None:
    item = check("v.json", "[[1, 2], [3], [4, 5]]")
    assert found(item)["table.structure"] is Status.REVIEW


def test_mutants_of_the_corpus_get_a_verdict() -> None:
    crashes = [
        (k, name)
        for k, (name, data) in enumerate(inputs(DEFAULT, 400, seed=3))
        if _internal(name, data)
    ]
    assert crashes == []


def test_superscript_digits_in_prose_are_no_number() -> None:
    item = check("notes.md", "Deaths: ² patients; 3 deaths in rooms of 12 m².\n")
    assert item.status is Status.REVIEW  # the 3 beside "deaths" is a hint; "²" is no number
