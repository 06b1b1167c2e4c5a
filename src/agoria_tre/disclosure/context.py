"""What a check runs with (:class:`Context`) and what checking one item gives
(:class:`Checked`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from agoria_tre.disclosure import evidence as ev
from agoria_tre.disclosure.policy import Policy
from agoria_tre.disclosure.readers.table import Table
from agoria_tre.disclosure.report import ItemReport


@dataclass(frozen=True)
class Context:
    """What a check runs with: the policy, the project's pseudonyms, and the count tables
    already released (or in open requests) that new tables are compared with."""

    policy: Policy
    pseudonyms: frozenset[str] = frozenset()
    released: tuple[tuple[str, Table], ...] = ()
    # A whole check's time budget: files not reached when it runs out fail, named, never
    # pass unread (split the request, or raise it for a large one).
    budget_seconds: float = 600.0


@dataclass(frozen=True)
class Checked:
    """An item's report and the canonical bytes that were checked (None when refused).

    ``table`` is the parsed table when the item is a table of counts, for differencing.
    """

    report: ItemReport
    canonical: bytes | None
    table: Table | None = None
    inner_tables: tuple[tuple[ItemReport, Table], ...] = ()  # tables inside a notebook
    magnitude: tuple[Table, ev.Evidence] | None = None  # a magnitude table and its evidence


def content_hash(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None
