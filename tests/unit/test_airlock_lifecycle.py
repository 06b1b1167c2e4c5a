"""An export request's lifecycle (airlock/lifecycle.py): every status reachable and owned,
final statuses final, the check and the review never skipped, and each refusal the right one."""

from __future__ import annotations

from pathlib import Path

import pytest

from agoria_tre.airlock.lifecycle import (
    FINAL,
    OWNERS,
    TRANSITIONS,
    Party,
    Status,
    mermaid,
    transition,
)
from agoria_tre.errors import Conflict, PermissionDenied

DOCS = Path(__file__).resolve().parents[2] / "docs" / "airlock.md"


def reachable() -> set[Status]:
    found: set[Status] = set()
    frontier: list[Status | None] = [None]
    while frontier:
        source = frontier.pop()
        for t in TRANSITIONS:
            if t.source == source and t.target not in found:
                found.add(t.target)
                frontier.append(t.target)
    return found


def test_every_status_is_reachable_from_a_new_request() -> None:
    assert reachable() == set(Status)


def test_every_status_has_one_owner_who_can_move_it_on() -> None:
    assert set(OWNERS) == set(Status)
    for status, owner in OWNERS.items():
        leaving = [t for t in TRANSITIONS if t.source == status]
        if owner is None:
            assert leaving == [], status
        else:
            assert any(t.party is owner for t in leaving), status


def test_final_statuses_are_released_rejected_and_withdrawn() -> None:
    assert frozenset({Status.RELEASED, Status.REJECTED, Status.WITHDRAWN}) == FINAL


def test_each_move_is_declared_once_and_writes_its_own_audit_event() -> None:
    moves = [(t.source, t.action) for t in TRANSITIONS]
    assert len(moves) == len(set(moves))
    events = {t.action: t.event for t in TRANSITIONS}
    assert len(set(events.values())) == len(events)  # one event per action
    assert all(event.startswith("request.") for event in events.values())


def test_the_requester_may_withdraw_at_any_time_before_the_end() -> None:
    for status in set(Status) - FINAL:
        assert transition(status, "withdraw", Party.REQUESTER).target is Status.WITHDRAWN


def test_review_follows_the_check_and_only_reviewers_release() -> None:
    into_review = {t.source for t in TRANSITIONS if t.target is Status.IN_REVIEW}
    assert into_review == {Status.CHECKING}
    into_checking = {t.source for t in TRANSITIONS if t.target is Status.CHECKING}
    assert into_checking == {Status.SUBMITTED}
    [release] = [t for t in TRANSITIONS if t.target is Status.RELEASED]
    assert (release.source, release.party) == (Status.IN_REVIEW, Party.REVIEWER)


def test_a_returned_request_is_a_draft_again() -> None:
    assert transition(Status.IN_REVIEW, "return", Party.REVIEWER).target is Status.DRAFT
    assert transition(Status.DRAFT, "submit", Party.REQUESTER).target is Status.SUBMITTED


@pytest.mark.parametrize(
    ("source", "action", "message"),
    [
        (
            Status.DRAFT,
            "release",
            "cannot release this request: it is draft (allowed now: submit, withdraw)",
        ),
        (
            Status.RELEASED,
            "withdraw",
            "cannot withdraw this request: it is released, and that is final",
        ),
        (None, "submit", "cannot submit this request: it does not exist yet (allowed now: create)"),
        (Status.IN_REVIEW, "submit", "cannot submit this request: it is in_review"),
    ],
)
def test_a_move_the_status_does_not_allow_is_a_conflict(
    source: Status | None, action: str, message: str
) -> None:
    with pytest.raises(Conflict) as refused:
        transition(source, action, Party.REQUESTER)
    assert str(refused.value).startswith(message)


@pytest.mark.parametrize(
    ("source", "action", "party"),
    [
        (Status.IN_REVIEW, "release", Party.REQUESTER),  # nobody releases their own request
        (Status.DRAFT, "submit", Party.REVIEWER),
        (Status.CHECKING, "check_done", Party.REVIEWER),  # the check is the service's
        (Status.IN_REVIEW, "reject", Party.REVIEWER),  # rejected when every item is
    ],
)
def test_a_move_by_the_wrong_party_is_denied(source: Status, action: str, party: Party) -> None:
    with pytest.raises(PermissionDenied, match=f"only the .* may {action} this request"):
        transition(source, action, party)


def test_the_documented_diagram_is_the_tables() -> None:
    text = DOCS.read_text()
    start = text.index("```mermaid\n") + len("```mermaid\n")
    assert text[start : text.index("```", start)] == mermaid()
