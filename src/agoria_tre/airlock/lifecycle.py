"""An export request's lifecycle, as data.

A request moves only by the transitions of :data:`TRANSITIONS`: each names the action, the
status it leaves and the one it reaches, who may take it, and the audit event it writes. Each
status has one owner (:data:`OWNERS`): the party whose turn it is, so a request never waits
on nobody. Nothing else moves a request; :func:`transition` is the only way to ask for a move,
and it answers with the transition to record or refuses with the reason.

Per-item decisions (approve, reject) are not moves of the request: they are recorded while
the request is ``in_review``, and the two-person rule decides when ``release`` or ``reject``
may follow. A request found ``checking`` after a restart is checked again: the check is the
system's turn, and it finishes with ``check_done``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agoria_tre.errors import Conflict, PermissionDenied


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHECKING = "checking"
    IN_REVIEW = "in_review"
    RELEASED = "released"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Party(StrEnum):
    """Who acts: the researcher who made the request, a reviewer of its project who did not
    make it, or the airlock service itself."""

    REQUESTER = "requester"
    REVIEWER = "reviewer"
    SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    action: str
    source: Status | None  # None: the request does not exist yet
    target: Status
    party: Party
    event: str  # the audit event written in the same transaction


TRANSITIONS: tuple[Transition, ...] = (
    Transition("create", None, Status.DRAFT, Party.REQUESTER, "request.create"),
    Transition("submit", Status.DRAFT, Status.SUBMITTED, Party.REQUESTER, "request.submit"),
    Transition("check_start", Status.SUBMITTED, Status.CHECKING, Party.SYSTEM, "request.check"),
    Transition("check_done", Status.CHECKING, Status.IN_REVIEW, Party.SYSTEM, "request.checked"),
    Transition("return", Status.IN_REVIEW, Status.DRAFT, Party.REVIEWER, "request.return"),
    Transition("release", Status.IN_REVIEW, Status.RELEASED, Party.REVIEWER, "request.release"),
    Transition("reject", Status.IN_REVIEW, Status.REJECTED, Party.SYSTEM, "request.reject"),
    *(
        Transition("withdraw", status, Status.WITHDRAWN, Party.REQUESTER, "request.withdraw")
        for status in (Status.DRAFT, Status.SUBMITTED, Status.CHECKING, Status.IN_REVIEW)
    ),
)

#: Whose turn it is in each status; None for the final ones, where nobody acts again.
OWNERS: dict[Status, Party | None] = {
    Status.DRAFT: Party.REQUESTER,
    Status.SUBMITTED: Party.SYSTEM,
    Status.CHECKING: Party.SYSTEM,
    Status.IN_REVIEW: Party.REVIEWER,
    Status.RELEASED: None,
    Status.REJECTED: None,
    Status.WITHDRAWN: None,
}

FINAL = frozenset(status for status, owner in OWNERS.items() if owner is None)

_BY_MOVE = {(t.source, t.action): t for t in TRANSITIONS}


def transition(source: Status | None, action: str, party: Party) -> Transition:
    """The transition ``action`` takes from ``source`` when ``party`` asks for it.

    Raises :class:`~agoria_tre.errors.Conflict` when the request's status does not allow the
    action (an HTTP 409), :class:`~agoria_tre.errors.PermissionDenied` when it does but not
    for ``party`` (a 403).
    """
    found = _BY_MOVE.get((source, action))
    if found is None:
        allowed = sorted(t.action for t in TRANSITIONS if t.source == source)
        where = f"it is {source.value}" if source is not None else "it does not exist yet"
        also = f" (allowed now: {', '.join(allowed)})" if allowed else ", and that is final"
        raise Conflict(f"cannot {action} this request: {where}{also}")
    if found.party is not party:
        raise PermissionDenied(f"only the {found.party.value} may {action} this request")
    return found


def mermaid() -> str:
    """The lifecycle as a Mermaid state diagram (docs/airlock.md holds it; a test keeps the
    two equal)."""
    lines = ["stateDiagram-v2"]
    for t in TRANSITIONS:
        source = "[*]" if t.source is None else t.source.value
        lines.append(f"    {source} --> {t.target.value}: {t.action} ({t.party.value})")
    lines += [f"    {status.value} --> [*]" for status in Status if status in FINAL]
    return "\n".join(lines) + "\n"
