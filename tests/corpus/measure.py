"""The checker measured on the labelled corpus: each output's verdict against its label.

Used by ``bench/disclosure_corpus.py`` (figures) and ``tests/integration/
test_disclosure_corpus.py`` (the targets).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from agoria_tre.disclosure.checker import Context, check_paths
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.report import walk
from agoria_tre.disclosure.status import Status

STRUCTURED = frozenset({"table", "model", "survival"})


@dataclass(frozen=True)
class Measured:
    path: str
    label: str
    kind: str
    format: str
    leak: str | None
    status: Status
    named: bool  # a failing finding names cells
    rules: tuple[tuple[str, Status], ...]  # every rule that did not pass, anywhere in the item
    seconds: float

    @property
    def structured(self) -> bool:
        return self.kind in STRUCTURED


def manifest(folder: Path) -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = json.loads((folder / "corpus.json").read_text())["outputs"]
    return rows


def measure(folder: Path, profile: str = "fr") -> list[Measured]:
    ctx = Context(load_profile(profile))
    out = []
    for row in manifest(folder):
        path = str(row["path"])
        started = time.perf_counter()
        report = check_paths([folder / path], ctx)
        seconds = time.perf_counter() - started
        results = [r for item in walk(report.items) for r in item.rules]
        out.append(
            Measured(
                path=path,
                label=str(row["label"]),
                kind=str(row["kind"]),
                format=str(row["format"]),
                leak=row["leak"],
                status=report.status,
                named=any(r.status is Status.FAIL and r.cells for r in results),
                rules=tuple(
                    sorted({(r.rule, r.status) for r in results if r.status is not Status.PASS})
                ),
                seconds=seconds,
            )
        )
    return out


def tally(results: list[Measured]) -> Counter[Status]:
    return Counter(r.status for r in results)
