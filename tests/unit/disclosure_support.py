"""What the disclosure tests share: check a text, and the worst status of each rule."""

from __future__ import annotations

from agoria_tre.disclosure.checker import Context, check_bytes
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.report import ItemReport, walk
from agoria_tre.disclosure.status import Status

FR = Context(load_profile("fr"))


def check(name: str, text: str) -> ItemReport:
    return check_bytes(name, text.encode(), FR).report


def found(item: ItemReport) -> dict[str, Status]:
    """Every rule of the item and its children, with its worst status."""
    order = [Status.PASS, Status.REVIEW, Status.FAIL]
    worst: dict[str, Status] = {}
    for node in walk([item]):
        for r in node.rules:
            if order.index(r.status) >= order.index(worst.get(r.rule, Status.PASS)):
                worst[r.rule] = r.status
    return worst


def flagged_rules(item: ItemReport) -> set[str]:
    return {rule for rule, status in found(item).items() if status is not Status.PASS}


_HINT_WORDS = {
    "count": "small count",
    "extreme": "minim",
    "quantile": "median",
    "age": "age",
}


def hints_of(item: ItemReport) -> set[str]:
    """The kinds of prose hints (``count``, ``extreme``, ``quantile``, ``age``) the item's
    ``prose.hints`` results name, each result carrying the spans of its passages."""
    kinds: set[str] = set()
    for node in walk([item]):
        for r in node.rules:
            if r.rule == "prose.hints" and r.status is Status.REVIEW:
                assert r.spans, r.summary
                kinds |= {kind for kind, word in _HINT_WORDS.items() if word in r.summary}
    return kinds
