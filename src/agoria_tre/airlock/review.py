"""The two-person rule on each item of an export request, and what it allows the request.

Each item needs decisions from at least :data:`MIN_REVIEWERS` distinct reviewers of the
project (a deployment may require more, never fewer), none of them the requester. A reviewer
decides an item once per review round; until the item has all its decisions, each reviewer
sees only their own (blind review). An item the automated check failed is approved only as
an exception: the requester wrote a justification, and every approving reviewer approved it
explicitly as an exception.

An item is *approved* when all its decisions approve it, *rejected* when all reject it, and
*conflicted* when they disagree: a conflicted item never leaves; the reviewers return the
request or release the other items. A request may be released once every item is decided
and at least one is approved; it is rejected when every item is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from agoria_tre.disclosure.report import plural
from agoria_tre.disclosure.status import Status as CheckStatus
from agoria_tre.errors import ConfigurationError, Conflict, InvalidInput, PermissionDenied

MIN_REVIEWERS = 2


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Outcome(StrEnum):
    PENDING = "pending"  # decisions still missing
    APPROVED = "approved"
    REJECTED = "rejected"
    CONFLICTED = "conflicted"


@dataclass(frozen=True)
class Vote:
    decision: Decision
    exception: bool = False  # an approval of an item the check failed, as an exception
    comment: str = ""


@dataclass(frozen=True)
class Item:
    """What the rule needs to know of an item: its check's verdict, whether the requester
    justified an exception, and the decisions of this review round by reviewer."""

    check: CheckStatus
    justification: str = ""
    votes: Mapping[str, Vote] = field(default_factory=dict)


def required_reviewers(configured: int = MIN_REVIEWERS) -> int:
    """The number of distinct reviewers each item needs: ``configured``, never fewer than
    :data:`MIN_REVIEWERS`."""
    if configured < MIN_REVIEWERS:
        raise ConfigurationError(
            f"an item needs at least {MIN_REVIEWERS} reviewers; {configured} is too few"
        )
    return configured


def vote(item: Item, reviewer: str, cast: Vote, *, requester: str, needed: int) -> Item:
    """``item`` with ``reviewer``'s decision added, or the refusal: the requester never
    reviews their own request (403), a reviewer decides an item once (409), an item already
    decided takes no more decisions (409), and a failed item is approved only as an exception
    the requester justified (409 without a justification, 400 without the exception said)."""
    if reviewer == requester:
        raise PermissionDenied("nobody reviews a request they made")
    if reviewer in item.votes:
        raise Conflict(f"{reviewer} has already decided this item")
    if len(item.votes) >= needed:
        raise Conflict(f"this item already has its {needed} decisions")
    if cast.decision is Decision.APPROVE and item.check is CheckStatus.FAIL:
        if not item.justification.strip():
            raise Conflict(
                "the automated check failed this item and the requester gave no justification"
                " for an exception: it cannot be approved"
            )
        if not cast.exception:
            raise InvalidInput(
                "the automated check failed this item: approve it explicitly as an exception"
            )
    if cast.exception and (
        cast.decision is not Decision.APPROVE or item.check is not CheckStatus.FAIL
    ):
        raise InvalidInput("only an approval of an item the check failed is an exception")
    return Item(item.check, item.justification, {**item.votes, reviewer: cast})


def outcome(item: Item, needed: int) -> Outcome:
    if len(item.votes) < needed:
        return Outcome.PENDING
    decisions = {v.decision for v in item.votes.values()}
    if decisions == {Decision.APPROVE}:
        return Outcome.APPROVED
    if decisions == {Decision.REJECT}:
        return Outcome.REJECTED
    return Outcome.CONFLICTED


def visible_votes(item: Item, viewer: str, needed: int) -> dict[str, Vote]:
    """The decisions ``viewer`` may see: their own until the item has all its decisions,
    then every one."""
    if len(item.votes) >= needed:
        return dict(item.votes)
    return {name: v for name, v in item.votes.items() if name == viewer}


def may_release(items: Sequence[Item], needed: int) -> str | None:
    """Why the request cannot be released yet, or None when it can."""
    outcomes = [outcome(item, needed) for item in items]
    pending = outcomes.count(Outcome.PENDING)
    if pending:
        return f"{plural(pending, 'item')} without all {needed} decisions yet"
    if Outcome.APPROVED not in outcomes:
        return "no item is approved"
    return None


def all_rejected(items: Sequence[Item], needed: int) -> bool:
    """Whether every item is rejected: the request is then rejected."""
    return bool(items) and all(outcome(item, needed) is Outcome.REJECTED for item in items)
