"""Runs ACRO 1.0.2 on tables described in a JSON file; prints the cells each check flags.

Executed by the separate virtual environment that holds ``acro`` (it pins an older pandas),
never imported by the suite. Usage: ``python acro_runner.py SPEC.json OUT.json``.
The spy on ``collate_risk_assessments`` reads ACRO's own per-check masks.
"""

from __future__ import annotations

import json
import sys
import time

import acro.acro_tables as acro_tables
import pandas as pd

from acro import ACRO

captured: dict[str, object] = {}
_collate = acro_tables.collate_risk_assessments


def _spy(table, allcheckresults):  # type: ignore[no-untyped-def]
    captured["results"] = allcheckresults
    return _collate(table, allcheckresults)


acro_tables.collate_risk_assessments = _spy


def masks_of(results) -> dict[str, list[list[str]]]:  # type: ignore[no-untyped-def]
    masks: dict[str, list[list[str]]] = {}
    for checks in results.values():
        for check, outcome in checks.outcomes.items():
            if not isinstance(outcome, pd.DataFrame) or outcome.empty:
                continue
            flagged = outcome.fillna(True).astype(bool)  # ACRO's mask_to_boolmask
            cells = masks.setdefault(check, [])
            for row in flagged.index:
                for column in flagged.columns:
                    if bool(flagged.loc[row, column]):
                        cells.append([str(row), str(column)])
    return masks


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        spec = json.load(handle)
    session = ACRO(suppress=False)
    out = []
    for case in spec["cases"]:
        frame = pd.read_csv(case["csv"], dtype={"r": str, "c": str})
        kwargs = {}
        if case["statistic"] != "count":
            kwargs = {"values": frame["v"], "aggfunc": case["statistic"]}
        repeat = int(case.get("repeat", 1))
        elapsed = pandas_elapsed = None
        for _ in range(repeat):
            started = time.perf_counter()
            session.crosstab(frame["r"], frame["c"], **kwargs)
            took = time.perf_counter() - started
            elapsed = took if elapsed is None else min(elapsed, took)
            if case.get("time_pandas"):
                started = time.perf_counter()
                pd.crosstab(frame["r"], frame["c"], **kwargs)
                took = time.perf_counter() - started
                pandas_elapsed = took if pandas_elapsed is None else min(pandas_elapsed, took)
        out.append(
            {
                "id": case["id"],
                "masks": masks_of(captured.pop("results")),
                "seconds": elapsed,
                "pandas_seconds": pandas_elapsed,
            }
        )
    with open(sys.argv[2], "w", encoding="utf-8") as handle:
        json.dump(out, handle)


if __name__ == "__main__":
    main()
