"""Whatever the table, suppress=True gives a result the checker does not fail."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agoria_tre import safe
from agoria_tre.disclosure.checker import Context, check_bytes
from agoria_tre.disclosure.policy import load_profile
from agoria_tre.disclosure.status import Status

SEEDS = 40


@pytest.mark.parametrize("profile", ["fr", "uk"])
def test_suppressed_tables_pass_their_own_check(profile: str, tmp_path: Path) -> None:
    policy = load_profile(profile)
    failures = []
    suppressed_somewhere = 0
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(40, 400))
        frame = pd.DataFrame(
            {
                "r": rng.choice(list("abcd")[: int(rng.integers(2, 5))], n),
                "c": rng.choice(list("xyz")[: int(rng.integers(2, 4))], n),
                "v": rng.gamma(2.0, 10.0, n),
                "u": rng.integers(0, n // 2 + 1, n),
            }
        )
        for margins, unit, statistic in itertools.product(
            [False, True], [False, True], ["count", "sum"]
        ):
            kwargs: dict[str, Any] = (
                {} if statistic == "count" else {"values": frame.v, "aggfunc": "sum"}
            )
            if unit:
                kwargs["unit"] = frame.u
            name = f"s{seed}-{margins}-{unit}-{statistic}"
            table = safe.crosstab(
                frame.r,
                frame.c,
                margins=margins,
                suppress=True,
                outputs=tmp_path,
                name=name,
                policy=policy,
                **kwargs,
            )
            suppressed_somewhere += bool(table.isna().to_numpy().any())
            report = check_bytes(
                f"{name}.csv",
                (tmp_path / f"{name}.csv").read_bytes(),
                Context(policy),
                evidence=(tmp_path / f"{name}.evidence.json").read_bytes(),
            ).report
            failed = [r.rule for r in report.rules if r.status is Status.FAIL]
            if failed:
                failures.append((name, failed))
    assert failures == []
    assert suppressed_somewhere >= SEEDS  # the property is exercised, not vacuous
