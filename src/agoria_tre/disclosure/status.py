"""The three verdicts of output checking, ordered from safe to unsafe."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Status(enum.Enum):
    """``pass``: safe by rule. ``review``: a person must judge. ``fail``: unsafe by rule."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    REVIEW = "review"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __str__(self) -> str:
        return self.value


_RANK = {Status.PASS: 0, Status.REVIEW: 1, Status.FAIL: 2}


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe of ``statuses``; ``pass`` when there are none."""
    return max(statuses, key=_RANK.__getitem__, default=Status.PASS)
