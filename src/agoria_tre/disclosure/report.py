"""What the checker says: one shape for every rule, item and request.

The JSON form of :class:`Report` is the one versioned document the platform uses wherever a
check is recorded: ``agoria-tre check --format json``, the airlock's API and each release's
``release.json``. Its schema is ``docs/disclosure-report.schema.json``; change
``REPORT_SCHEMA`` when the shape changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agoria_tre import __version__
from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.registry import REGISTRY
from agoria_tre.disclosure.status import Status, worst

REPORT_SCHEMA = "urn:agoria-tre:disclosure-report:2"
Cell = tuple[int, int]
Span = tuple[int, int]


@dataclass(frozen=True)
class RuleResult:
    """The verdict of one rule on one item.

    ``summary`` is one plain-language line for the reviewer. ``cells`` are the flagged
    positions, 0-based, in the data part of the table (labels excluded). ``spans`` are the
    flagged passages of a text, ``[start, end)`` character offsets in the text the rule
    read (the item's text, or the cell or output its summary names). ``asserted`` marks
    findings that rest on evidence the researcher supplied ("researcher-asserted").
    """

    rule: str
    status: Status
    summary: str
    cells: tuple[Cell, ...] = ()
    asserted: bool = False
    spans: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        if self.rule not in REGISTRY:
            raise ValueError(f"{self.rule!r} is not a rule of the registry (registry.py)")

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "status": self.status.value,
            "summary": self.summary,
            "cells": [list(c) for c in self.cells],
            "spans": [list(s) for s in self.spans],
            "asserted": self.asserted,
        }


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 cell``, ``2 cells``: the count and the word that agrees with it."""
    return f"{count} {one if count == 1 else (many or one + 's')}"


def passed(rule: str, summary: str, *, asserted: bool = False) -> RuleResult:
    return RuleResult(rule, Status.PASS, summary, asserted=asserted)


def flagged(
    rule: str,
    status: Status,
    summary: str,
    cells: Iterable[Cell] = (),
    *,
    asserted: bool = False,
    spans: Iterable[Span] = (),
) -> RuleResult:
    return RuleResult(
        rule, status, summary, tuple(sorted(set(cells))), asserted, tuple(sorted(set(spans)))
    )


@dataclass
class ItemReport:
    """One checked item (a file, or an output inside a notebook).

    ``sha256`` is the hash of the item's canonical form: what was checked is what reviewers
    see and what is released.
    """

    path: str
    kind: str
    rules: list[RuleResult] = field(default_factory=list)
    children: list[ItemReport] = field(default_factory=list)
    sha256: str | None = None
    notes: list[str] = field(default_factory=list)
    # A table read whole: how many leading columns of its canonical form are labels (row
    # headers). Its rules name cells by (row, column) among the values after them.
    labels: int | None = None

    @property
    def status(self) -> Status:
        return worst([r.status for r in self.rules] + [c.status for c in self.children])

    def as_dict(self) -> dict[str, Any]:
        shape = {
            "path": self.path,
            "kind": self.kind,
            "status": self.status.value,
            "sha256": self.sha256,
            "notes": list(self.notes),
            "rules": [r.as_dict() for r in self.rules],
            "children": [c.as_dict() for c in self.children],
        }
        return shape if self.labels is None else {**shape, "labels": self.labels}


@dataclass
class Report:
    policy: Policy
    items: list[ItemReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # about the check as a whole

    @property
    def status(self) -> Status:
        return worst(i.status for i in self.items)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "status": self.status.value,
            "checker": {"name": "agoria-tre", "version": __version__},
            "policy": self.policy.as_dict(),
            "notes": list(self.notes),
            "items": [i.as_dict() for i in self.items],
        }


def exit_status(status: Status) -> int:
    """``agoria-tre check``: 0 all pass, 1 any fail, 3 review but no fail."""
    return {Status.PASS: 0, Status.FAIL: 1, Status.REVIEW: 3}[status]


def walk(items: Sequence[ItemReport]) -> Iterable[ItemReport]:
    for item in items:
        yield item
        yield from walk(item.children)
