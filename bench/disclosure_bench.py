"""Disclosure checker benchmark: safe helpers against pandas and ACRO, and a big notebook.

Run: ``.venv/bin/python bench/disclosure_bench.py [--rows N]``

1. On the same 1,000,000 rows and ~1,000 cells (40 x 25), for a count and a sum:
   ``pandas.crosstab`` (baseline), ``agoria_tre.safe.crosstab`` (which also computes the
   evidence, writes the CSV and its sidecar, and runs the checker), and ACRO 1.0.2's
   ``crosstab`` (in its own virtual environment, with its own pandas, timed against that
   pandas in the same process). Target: ours <= 1.5x pandas.
2. A notebook of 200 outputs (HTML tables, text, model summaries, PNG plots) checked.
   Target: < 0.5 s.
3. Differencing at scale (``--differencing`` runs only this part): a folder of 399 CSVs of
   20 x 50 counts, a notebook of 199 HTML tables of 20 x 50 (under the HTML cell limit of
   200,000), two CSVs of 800 x 999 and one
   of 990 x 999, each checked whole by ``check_paths`` (differencing included), with the
   time spent in differencing alone. Target: each < 5 s.
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
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.acro.test_acro_agreement import acro_environment  # noqa: E402

from agoria_tre import safe  # noqa: E402
from agoria_tre.disclosure.checker import Context, check_bytes, check_paths  # noqa: E402
from agoria_tre.disclosure.policy import load_profile  # noqa: E402
from agoria_tre.disclosure.readers.table import Table, parse_csv  # noqa: E402
from agoria_tre.disclosure.rules.differencing import check_all_differencing  # noqa: E402

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


def _counts_csv(rng: np.random.Generator, rows: int, columns: int) -> str:
    header = "g," + ",".join(f"c{j}" for j in range(columns))
    values = rng.integers(11, 100, (rows, columns))
    body = "\n".join(f"r{i}," + ",".join(map(str, row)) for i, row in enumerate(values))
    return header + "\n" + body + "\n"


def _html_notebook(rng: np.random.Generator, tables: int, rows: int, columns: int) -> bytes:
    cells = []
    for _ in range(tables):
        frame = pd.DataFrame(
            rng.integers(11, 100, (rows, columns)),
            columns=[f"c{j}" for j in range(columns)],
            index=[f"r{i}" for i in range(rows)],
        )
        out = {
            "output_type": "display_data",
            "metadata": {},
            "data": {"text/html": frame.to_html()},
        }
        cells.append({"cell_type": "code", "source": "t", "metadata": {}, "outputs": [out]})
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}).encode()


def differencing(folder: Path, repeat: int = 2) -> None:
    """Section 3: whole checks of many or large tables of counts, and differencing alone."""
    rng = np.random.default_rng(11)
    context = Context(load_profile("fr"))
    many = folder / "many"
    many.mkdir()
    for k in range(399):
        (many / f"t{k:03d}.csv").write_text(_counts_csv(rng, 20, 50))
    (folder / "nb").mkdir()
    # 199 tables of 1,000 cells: under the HTML cell limit of a notebook (200,000)
    (folder / "nb" / "t199.ipynb").write_bytes(_html_notebook(rng, 199, 20, 50))
    two = folder / "two"
    two.mkdir()
    for k in range(2):
        (two / f"t{k}.csv").write_text(_counts_csv(rng, 800, 999))
    (folder / "big").mkdir()
    (folder / "big" / "big1.csv").write_text(_counts_csv(rng, 990, 999))
    cases = {
        "399 CSVs of 20 x 50": many,
        "notebook, 199 HTML tables of 20 x 50": folder / "nb" / "t199.ipynb",
        "two CSVs of 800 x 999": two,
        "one CSV of 990 x 999": folder / "big" / "big1.csv",
    }
    print(f"differencing at scale (best of {repeat}; target < 5 s each)")
    for label, path in cases.items():
        took = best(partial(check_paths, [path], context), repeat)
        size = sum(p.stat().st_size for p in ([path] if path.is_file() else path.iterdir()))
        csvs = sorted(path.glob("*.csv")) if path.is_dir() else []
        alone = ""
        if csvs:
            parsed = [
                (p.name, parse_csv(p.read_bytes(), context.policy.limits, name=p.name))
                for p in csvs
            ]
            pool = [(n, t) for n, t in parsed if isinstance(t, Table)]
            compared = best(partial(check_all_differencing, pool, pool, context.policy), repeat)
            alone = f", differencing alone {compared:5.2f} s"
        print(
            f"  {label:40} {size / 1e6:5.2f} MB: {took:5.2f} s{alone}"
            f" ({'met' if took < 5 else 'MISSED'})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--differencing", action="store_true", help="run section 3 only")
    args = parser.parse_args()
    if args.differencing:
        with tempfile.TemporaryDirectory(prefix="agoria-bench-") as tmp:
            differencing(Path(tmp))
        return
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
        differencing(folder)


if __name__ == "__main__":
    main()
