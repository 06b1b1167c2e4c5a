"""Disclosure checker benchmark: safe helpers against pandas and ACRO, and a big notebook.

Run: ``.venv/bin/python bench/disclosure_bench.py [--rows N]``

1. On the same 1,000,000 rows and ~1,000 cells (40 x 25), for a count and a sum:
   ``pandas.crosstab`` (baseline), ``agoria_tre.safe.crosstab`` (which also computes the
   evidence, writes the CSV and its sidecar, and runs the checker), and ACRO 1.0.2's
   ``crosstab`` (in its own virtual environment, with its own pandas, timed against that
   pandas in the same process). Target: ours <= 1.5x pandas.
2. A notebook of 200 outputs (HTML tables, text, model summaries, PNG plots) checked.
   Target: < 0.5 s.
Times are the best of several runs.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.acro.test_acro_agreement import acro_environment  # noqa: E402

from agoria_tre import safe  # noqa: E402
from agoria_tre.disclosure.checker import Context, check_bytes  # noqa: E402
from agoria_tre.disclosure.policy import load_profile  # noqa: E402

REPEAT = 5


def best(action: Callable[[], object], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def data(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "r": np.array([f"region-{i:02d}" for i in range(40)])[rng.integers(0, 40, rows)],
            "c": np.array([f"class-{i:02d}" for i in range(25)])[rng.integers(0, 25, rows)],
            "v": np.round(rng.gamma(2.0, 30.0, rows), 2),
        }
    )


def tables(frame: pd.DataFrame, outputs: Path) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    for statistic in ("count", "sum"):
        kwargs: dict[str, Any] = (
            {} if statistic == "count" else {"values": frame.v, "aggfunc": "sum"}
        )

        def plain(kwargs: dict[str, Any] = kwargs) -> object:
            return pd.crosstab(frame.r, frame.c, **kwargs)

        def ours(kwargs: dict[str, Any] = kwargs, stem: str = f"bench_{statistic}") -> object:
            return safe.crosstab(frame.r, frame.c, outputs=outputs, name=stem, **kwargs)

        pandas_time, ours_time = best(plain), best(ours)
        figures[statistic] = {"pandas": pandas_time, "ours": ours_time}
    return figures


def acro(frame: pd.DataFrame, folder: Path) -> dict[str, dict[str, float]]:
    csv = folder / "rows.csv"
    frame.to_csv(csv, index=False)
    spec = folder / "spec.json"
    cases = [
        {"id": s, "csv": str(csv), "statistic": s, "time_pandas": True, "repeat": 3}
        for s in ("count", "sum")
    ]
    spec.write_text(json.dumps({"cases": cases}))
    out = folder / "acro.json"
    subprocess.run(
        [str(acro_environment()), str(ROOT / "tests/acro/acro_runner.py"), str(spec), str(out)],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return {
        case["id"]: {"acro": case["seconds"], "pandas": case["pandas_seconds"]}
        for case in json.loads(out.read_text())
    }


def notebook(outputs: int = 200) -> bytes:
    rng = np.random.default_rng(3)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(buffer, "PNG")
    png = base64.b64encode(buffer.getvalue()).decode()
    summary = (
        "                            OLS Regression Results\n"
        "Dep. Variable:   y   R-squared:  0.41\nNo. Observations:   500\nDf Residuals:   497\n"
    )
    cells = []
    for i in range(outputs):
        frame = pd.DataFrame(
            rng.integers(11, 500, (8, 5)),
            columns=list("ABCDE"),
            index=pd.Index([f"g{k}" for k in range(8)], name="group"),
        )
        kind = i % 4
        if kind == 0:
            out = {
                "output_type": "execute_result",
                "execution_count": i,
                "metadata": {},
                "data": {"text/html": frame.to_html(), "text/plain": frame.to_string()},
            }
        elif kind == 1:
            out = {"output_type": "stream", "name": "stdout", "text": frame.to_string()}
        elif kind == 2:
            out = {"output_type": "stream", "name": "stdout", "text": summary}
        else:
            out = {
                "output_type": "display_data",
                "metadata": {},
                "data": {"image/png": png, "text/plain": "<Figure>"},
            }
        cells.append(
            {
                "cell_type": "code",
                "source": f"table_{i} = analyse({i})\n",
                "metadata": {},
                "execution_count": i,
                "outputs": [out],
            }
        )
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    frame = data(args.rows)
    with tempfile.TemporaryDirectory(prefix="agoria-bench-") as tmp:
        folder = Path(tmp)
        ours = tables(frame, folder / "outputs")
        theirs = acro(frame, folder)
        print(
            f"crosstab, {args.rows:,} rows, {frame.r.nunique()} x {frame.c.nunique()} cells"
            f" (best of {REPEAT}; ACRO best of 3)"
        )
        for statistic in ("count", "sum"):
            o, a = ours[statistic], theirs[statistic]
            ratio = o["ours"] / o["pandas"]
            acro_ratio = a["acro"] / a["pandas"]
            print(
                f"  {statistic:5}  pandas {o['pandas'] * 1000:7.1f} ms"
                f" | agoria safe+check {o['ours'] * 1000:7.1f} ms = {ratio:4.2f}x pandas"
                f" (target <= 1.5x: {'met' if ratio <= 1.5 else 'MISSED'})"
                f" | ACRO {a['acro'] * 1000:7.1f} ms = {acro_ratio:5.1f}x its pandas"
                f" ({a['pandas'] * 1000:.1f} ms) -> ACRO/agoria = {acro_ratio / ratio:4.1f}x"
            )
        document = notebook()
        context = Context(load_profile("fr"))
        report = check_bytes("bench.ipynb", document, context).report
        took = best(lambda: check_bytes("bench.ipynb", document, context))
        print(
            f"notebook, {len(report.children)} outputs, {len(document) / 1e6:.1f} MB:"
            f" checked in {took * 1000:.0f} ms (target < 500 ms:"
            f" {'met' if took < 0.5 else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
