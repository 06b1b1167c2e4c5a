"""Agreement with ACRO 1.0.2 itself under the ``uk`` profile.

ACRO is installed, inside the test run, into a virtual environment of its own (it pins an
older pandas). The same random tables, one row per unit, go through ACRO's ``crosstab`` and
through ``agoria_tre.safe.crosstab``; the cells flagged by threshold, dominance and p% must
be the same, table by table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from agoria_tre import safe
from agoria_tre.disclosure.checker import Context, check_bytes
from agoria_tre.disclosure.policy import load_profile

ROOT = Path(__file__).resolve().parents[2]
ACRO_VERSION = "1.0.2"
TABLES = 210
STATISTICS = ("count", "sum", "mean")
CHECKS = {
    "threshold": "MinimumThresholdCheck",
    "dominance": "NKCheck",
    "p_percent": "PPercentCheck",
}


def acro_environment() -> Path:
    """``.venv-acro`` at the repository's root, created (once) with acro==1.0.2."""
    venv = ROOT / ".venv-acro"
    python = venv / "bin" / "python"
    stamp = venv / f".acro-{ACRO_VERSION}"
    if not stamp.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"acro=={ACRO_VERSION}"],
            check=True,
            env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        )
        stamp.write_text(ACRO_VERSION)
    return python


@pytest.fixture(scope="module")
def acro_python() -> Path:
    return acro_environment()


def random_table(rng: np.random.Generator, number: int) -> pd.DataFrame:
    """One row per unit; skewed categories for small cells, outliers for dominance."""
    rows = int(rng.integers(20, 400))
    n_r, n_c = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    p_r = rng.dirichlet(np.full(n_r, 0.7))
    p_c = rng.dirichlet(np.full(n_c, 0.7))
    values = rng.gamma(2.0, 50.0, rows)
    outliers = rng.random(rows) < rng.choice([0.0, 0.02, 0.1])
    values[outliers] *= rng.uniform(20, 400, int(outliers.sum()))
    return pd.DataFrame(
        {
            "r": [f"r{x}" for x in rng.choice(n_r, rows, p=p_r)],
            "c": [f"c{x}" for x in rng.choice(n_c, rows, p=p_c)],
            "v": np.round(values, 2),
        }
    )


def test_flagged_cells_agree_with_acro(acro_python: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(20261128)
    uk = load_profile("uk")
    cases, ours = [], {}
    for number in range(TABLES):
        frame = random_table(rng, number)
        csv = tmp_path / f"table{number}.csv"
        frame.to_csv(csv, index=False)
        for statistic in STATISTICS:
            case_id = f"{number}-{statistic}"
            cases.append({"id": case_id, "csv": str(csv), "statistic": statistic})
            kwargs: dict[str, Any] = (
                {} if statistic == "count" else {"values": frame.v, "aggfunc": statistic}
            )
            table = safe.crosstab(
                frame.r, frame.c, policy=uk, outputs=tmp_path / "ours", name=case_id, **kwargs
            )
            folder = tmp_path / "ours"
            report = check_bytes(
                f"{case_id}.csv",
                (folder / f"{case_id}.csv").read_bytes(),
                Context(uk),
                evidence=(folder / f"{case_id}.evidence.json").read_bytes(),
            ).report
            ours[case_id] = {
                rule.rule: sorted(
                    [str(table.index[i]), str(table.columns[j])] for i, j in rule.cells
                )
                for rule in report.rules
                if rule.rule in CHECKS
            }
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"cases": cases}))
    out = tmp_path / "acro.json"
    done = subprocess.run(
        [str(acro_python), str(Path(__file__).with_name("acro_runner.py")), str(spec), str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    theirs = {case["id"]: case["masks"] for case in json.loads(out.read_text())}
    assert len(theirs) == TABLES * len(STATISTICS)
    disagreements = []
    compared = dict.fromkeys(CHECKS, 0)
    flagged = dict.fromkeys(CHECKS, 0)
    for case_id, rules in ours.items():
        statistic = case_id.split("-")[1]
        for name, acro_check in CHECKS.items():
            if statistic == "count" and name != "threshold":
                continue
            mine = rules.get(name, [])
            acro_cells = sorted(theirs[case_id].get(acro_check, []))
            compared[name] += 1
            flagged[name] += bool(acro_cells)
            if mine != acro_cells:
                disagreements.append((case_id, name, mine, acro_cells))
    assert disagreements == [], disagreements[:5]
    # The comparison is not vacuous: each check flagged cells in many tables.
    assert compared == {"threshold": 630, "dominance": 420, "p_percent": 420}
    assert min(flagged.values()) >= 20, flagged
