"""The two-person rule on an export request's items (airlock/review.py): distinct reviewers,
never the requester, blind until decided, failed items only as justified exceptions, and what
the items' outcomes allow the request."""

from __future__ import annotations

import pytest

from agoria_tre.airlock.review import (
    MIN_REVIEWERS,
    Decision,
    Item,
    Outcome,
    Vote,
    all_rejected,
    may_release,
    outcome,
    required_reviewers,
    visible_votes,
    vote,
)
from agoria_tre.disclosure.status import Status as Check
from agoria_tre.errors import ConfigurationError, Conflict, InvalidInput, PermissionDenied

APPROVE, REJECT = Vote(Decision.APPROVE), Vote(Decision.REJECT)
EXCEPTION = Vote(Decision.APPROVE, exception=True, comment="aggregated over 3 sites")


def decided(item: Item, *votes: tuple[str, Vote], needed: int = 2) -> Item:
    for reviewer, cast in votes:
        item = vote(item, reviewer, cast, requester="alice", needed=needed)
    return item


def test_two_reviewers_at_least_and_more_if_configured() -> None:
    assert MIN_REVIEWERS == 2
    assert required_reviewers() == 2
    assert required_reviewers(3) == 3
    with pytest.raises(ConfigurationError, match="at least 2 reviewers; 1 is too few"):
        required_reviewers(1)


@pytest.mark.parametrize(
    ("votes", "expected"),
    [
        ((), Outcome.PENDING),
        ((("bob", APPROVE),), Outcome.PENDING),
        ((("bob", APPROVE), ("carol", APPROVE)), Outcome.APPROVED),
        ((("bob", REJECT), ("carol", REJECT)), Outcome.REJECTED),
        ((("bob", APPROVE), ("carol", REJECT)), Outcome.CONFLICTED),
    ],
)
def test_an_item_is_decided_by_two_distinct_reviewers(
    votes: tuple[tuple[str, Vote], ...], expected: Outcome
) -> None:
    assert outcome(decided(Item(Check.PASS), *votes), 2) is expected


def test_three_reviewers_when_the_deployment_asks_for_three() -> None:
    item = decided(Item(Check.PASS), ("bob", APPROVE), ("carol", APPROVE), needed=3)
    assert outcome(item, 3) is Outcome.PENDING
    item = vote(item, "dan", APPROVE, requester="alice", needed=3)
    assert outcome(item, 3) is Outcome.APPROVED


def test_the_requester_never_reviews_their_own_request() -> None:
    with pytest.raises(PermissionDenied, match="nobody reviews a request they made"):
        vote(Item(Check.PASS), "alice", APPROVE, requester="alice", needed=2)


def test_a_reviewer_decides_once_and_a_decided_item_takes_no_more() -> None:
    once = decided(Item(Check.PASS), ("bob", APPROVE))
    with pytest.raises(Conflict, match="bob has already decided this item"):
        vote(once, "bob", APPROVE, requester="alice", needed=2)
    twice = decided(once, ("carol", APPROVE))
    with pytest.raises(Conflict, match="already has its 2 decisions"):
        vote(twice, "dan", REJECT, requester="alice", needed=2)


def test_a_failed_item_is_approved_only_as_a_justified_exception() -> None:
    failed = Item(Check.FAIL)
    with pytest.raises(Conflict, match="gave no justification for an exception"):
        vote(failed, "bob", EXCEPTION, requester="alice", needed=2)
    justified = Item(Check.FAIL, justification="the small cell is a published national count")
    with pytest.raises(InvalidInput, match="approve it explicitly as an exception"):
        vote(justified, "bob", APPROVE, requester="alice", needed=2)
    approved = decided(justified, ("bob", EXCEPTION), ("carol", EXCEPTION))
    assert outcome(approved, 2) is Outcome.APPROVED
    assert outcome(decided(justified, ("bob", REJECT), ("carol", REJECT)), 2) is Outcome.REJECTED


@pytest.mark.parametrize(
    ("check", "cast"),
    [
        (Check.PASS, EXCEPTION),  # nothing to make an exception of
        (Check.REVIEW, EXCEPTION),
        (Check.FAIL, Vote(Decision.REJECT, exception=True)),
    ],
)
def test_only_an_approval_of_a_failed_item_is_an_exception(check: Check, cast: Vote) -> None:
    item = Item(check, justification="because")
    with pytest.raises(InvalidInput, match="only an approval of an item the check failed"):
        vote(item, "bob", cast, requester="alice", needed=2)


def test_reviewers_see_only_their_own_decision_until_the_item_is_decided() -> None:
    one = decided(Item(Check.PASS), ("bob", APPROVE))
    assert visible_votes(one, "bob", 2) == {"bob": APPROVE}
    assert visible_votes(one, "carol", 2) == {}
    assert visible_votes(one, "alice", 2) == {}
    both = decided(one, ("carol", REJECT))
    assert visible_votes(both, "carol", 2) == {"bob": APPROVE, "carol": REJECT}


def test_a_request_is_released_when_every_item_is_decided_and_one_approved() -> None:
    approved = decided(Item(Check.PASS), ("bob", APPROVE), ("carol", APPROVE))
    rejected = decided(Item(Check.PASS), ("bob", REJECT), ("carol", REJECT))
    conflicted = decided(Item(Check.PASS), ("bob", APPROVE), ("carol", REJECT))
    half = decided(Item(Check.PASS), ("bob", APPROVE))
    assert may_release([approved, rejected, conflicted], 2) is None
    assert may_release([approved, half], 2) == "1 item without all 2 decisions yet"
    assert may_release([approved, half, Item(Check.PASS)], 2) == (
        "2 items without all 2 decisions yet"
    )
    assert may_release([rejected, conflicted], 2) == "no item is approved"


def test_a_request_is_rejected_when_every_item_is() -> None:
    rejected = decided(Item(Check.PASS), ("bob", REJECT), ("carol", REJECT))
    conflicted = decided(Item(Check.PASS), ("bob", APPROVE), ("carol", REJECT))
    assert all_rejected([rejected, rejected], 2)
    assert not all_rejected([rejected, conflicted], 2)
    assert not all_rejected([], 2)
