"""A checked table as people see it: its canonical cells, those the checker flagged marked
with the reasons.

The checker names a flagged cell by its place among the table's values (row, column),
labels excluded. A table's canonical form is a CSV whose leading label columns the table
reader finds again, so the grid drawn here and the cells the report names are the same
cells, in the airlock's pages and in the workspace's export dialog alike.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from agoria_tre.disclosure.readers.table import table_from_grid

MAX_SHOWN_ROWS = 2000  # a longer table is shown in part, and says so


@dataclass(frozen=True)
class Cell:
    value: str
    flags: tuple[str, ...]  # the reasons it was flagged ("threshold: 1 cell with …"); empty if none


@dataclass(frozen=True)
class FlaggedTable:
    header: tuple[str, ...]
    labels: int  # how many leading columns are labels
    rows: tuple[tuple[Cell, ...], ...]
    truncated: bool  # more rows than MAX_SHOWN_ROWS, only the first ones kept

    def as_json(self) -> dict[str, Any]:
        return {
            "header": list(self.header),
            "labels": self.labels,
            "rows": [
                {"cells": [{"value": c.value, "flags": list(c.flags)} for c in row]}
                for row in self.rows
            ],
            "truncated": self.truncated,
        }


def findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules that did not pass, on the item and the outputs inside it, worst first."""
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], where: str) -> None:
        for rule in node.get("rules", []):
            if rule.get("status") != "pass":
                found.append({**rule, "where": where})
        for child in node.get("children", []):
            walk(child, child.get("path", ""))

    walk(report, "")
    order = {"fail": 0, "review": 1}
    return sorted(found, key=lambda r: order.get(r["status"], 2))


def flagged_cells(report: dict[str, Any]) -> dict[tuple[int, int], list[str]]:
    """Each cell that a rule which did not pass names, with that rule's reason."""
    flagged: dict[tuple[int, int], list[str]] = {}
    for rule in report.get("rules", []):
        if rule.get("status") == "pass":
            continue
        for row, column in rule.get("cells", []):
            flagged.setdefault((row, column), []).append(f"{rule['rule']}: {rule['summary']}")
    return flagged


def flagged_table(
    data: bytes, report: dict[str, Any], max_rows: int = MAX_SHOWN_ROWS
) -> FlaggedTable:
    """The canonical CSV ``data`` of a table, with the cells ``report`` flags marked."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    if not rows:
        return FlaggedTable(header=(), labels=0, rows=(), truncated=False)
    width = max(len(r) for r in rows)
    grid = [r + [""] * (width - len(r)) for r in rows]
    labels = report.get("labels")
    if not isinstance(labels, int) or isinstance(labels, bool) or not 0 <= labels <= width:
        # a report from before tables said where their labels end: read as the checker
        # reads a table with no evidence
        labels = len(table_from_grid(grid).label_names) if len(grid) > 1 else 0
    flagged = flagged_cells(report)
    body = tuple(
        tuple(
            Cell(value, () if c < labels else tuple(flagged.get((r, c - labels), ())))
            for c, value in enumerate(row)
        )
        for r, row in enumerate(grid[1 : max_rows + 1])
    )
    return FlaggedTable(
        header=tuple(grid[0]), labels=labels, rows=body, truncated=len(grid) - 1 > max_rows
    )
