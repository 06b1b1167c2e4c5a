"""Hostile inputs under 10 MB: each checked or refused within 5 s and 500 MB on this machine.

Run: ``.venv/bin/python bench/disclosure_hostile.py [--only NAME]``

Each input is written to a file, then checked by a fresh process (``check_paths``, as
``agoria-tre check`` does), which reports the check's time and the process's peak resident
memory. The baseline is a small sound CSV checked the same way in this script: its time and
peak (the interpreter and the checker's imports) are printed, and each input's figures with
its ratio and its memory beyond the baseline's.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 5.0
BUDGET_MB = 500.0

_CHILD = """
import json, sys, time
from pathlib import Path
from agoria_tre.disclosure.checker import Context, check_paths
from agoria_tre.disclosure.policy import load_profile
ctx = Context(load_profile("fr"))
path = Path(sys.argv[1])
started = time.perf_counter()
report = check_paths([path], ctx)
took = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux carries the forking parent's peak over exec into ru_maxrss
status = Path("/proc/self/status").read_text()
peak = int(next(l.split()[1] for l in status.splitlines() if l.startswith("VmHWM:"))) / 1024
from agoria_tre.disclosure.report import walk
item = report.items[0]
reasons = sorted({r.rule for n in walk([item]) for r in n.rules if r.status.value != "pass"})
print(json.dumps({"seconds": took, "peak_mb": peak, "status": item.status.value,
                  "rules": reasons}))
"""


def _notebook(outputs: list[dict[str, object]]) -> bytes:
    cells = [
        {"cell_type": "code", "source": "x", "metadata": {}, "outputs": [output]}
        for output in outputs
    ]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}).encode()


def _png(width: int, height: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[:: max(1, height // 50)] = rng.integers(0, 255, (1, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _progressive_jpeg() -> bytes:
    rng = np.random.default_rng(1)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (512, 512, 3), dtype=np.uint8)).save(
        buffer, "JPEG", progressive=True, quality=95
    )
    data = buffer.getvalue()
    last = data.rindex(b"\xff\xda")
    return data[:-2] + data[last:-2] * 40 + b"\xff\xd9"


def _small_table() -> bytes:
    return b"age_group,F,M\n<65,3,40\n65+,30,2\n"


CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "one 9 MB line of numbers": (
        "line.txt",
        lambda: " ".join(str(k % 997) for k in range(2_400_000)).encode()[:9_000_000],
    ),
    "9 MB of prose in short lines": (
        "prose.txt",
        lambda: (b"Of the 412 patients, 40 were treated at Lyon in 2025.\n" * 170_000)[:9_000_000],
    ),
    "20,000 blank lines, then a table of small counts": (
        "blank.md",
        lambda: b"\n" * 20_000 + b"| sex | n |\n|---|---|\n| F | 3 |\n| M | 40 |\n",
    ),
    "a table after 1,000 harmless printed dicts": (
        "dicts.txt",
        lambda: b"{'model': 'ols', 'r2': 0.41}\n" * 1_000 + b"sex   n\nF     3\nM    40\n",
    ),
    "a list of 300,000 pairs": (
        "pairs.txt",
        lambda: ("[" + ", ".join(f"({k}, {k % 50})" for k in range(300_000)) + "]").encode(),
    ),
    "JSON records past the row limit (300,000)": (
        "records.json",
        lambda: json.dumps([{"g": f"r{k}", "n": 40 + k % 9} for k in range(300_000)]).encode(),
    ),
    "JSON records at the row limit (100,000)": (
        "at_limit.json",
        lambda: json.dumps([{"g": f"r{k}", "n": 40 + k % 9} for k in range(100_000)]).encode(),
    ),
    "a CSV at the row limit (100,000 rows)": (
        "at_limit.csv",
        lambda: ("g,n\n" + "".join(f"r{k},{40 + k % 9}\n" for k in range(100_000))).encode(),
    ),
    "a CSV at the cell limit (99,999 rows of 10)": (
        "cells.csv",
        lambda: (
            "g,"
            + ",".join(f"c{j}" for j in range(9))
            + "\n"
            + "".join(
                f"r{i}," + ",".join(str(40 + (i + j) % 50) for j in range(9)) + "\n"
                for i in range(99_999)
            )
        ).encode(),
    ),
    "a 9 MB CSV": (
        "big.csv",
        lambda: (
            (
                "g,"
                + ",".join(f"c{j}" for j in range(20))
                + "\n"
                + "".join(f"r{i}," + ",".join(["41"] * 20) + "\n" for i in range(140_000))
            )
            .encode()[:9_000_000]
            .rsplit(b"\n", 1)[0]
            + b"\n"
        ),
    ),
    "an HTML table at its cell limit (200,000 cells)": (
        "limit.html",
        lambda: (
            "<table><tr><th>g</th><th>n</th><th>m</th><th>k</th><th>j</th></tr>"
            + "".join(
                f"<tr><td>r{i}</td><td>41</td><td>52</td><td>53</td><td>54</td></tr>"
                for i in range(39_999)
            )
            + "</table>"
        ).encode(),
    ),
    "an HTML table of 500,000 cells (the CSV limit)": (
        "rows.html",
        lambda: (
            "<table><tr><th>g</th><th>n</th><th>m</th><th>k</th><th>j</th></tr>"
            + "".join(
                f"<tr><td>r{i}</td><td>41</td><td>52</td><td>53</td><td>54</td></tr>"
                for i in range(100_000)
            )
            + "</table>"
        ).encode(),
    ),
    "a 9 MB HTML table": (
        "big.html",
        lambda: (
            "<table><tr><th>g</th><th>n</th><th>m</th></tr>"
            + "".join(f"<tr><td>r{i}</td><td>41</td><td>52</td></tr>" for i in range(180_000))
            + "</table>"
        ).encode(),
    ),
    "a progressive JPEG of many scans": ("scans.jpg", _progressive_jpeg),
    "a notebook of large images": (
        "images.ipynb",
        lambda: _notebook(
            [
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"image/png": _png(4000, 4000, k), "text/plain": "<Figure>"},
                }
                for k in range(10)
            ]
        ),
    ),
    "a notebook of 2,000 printed tables": (
        "tables.ipynb",
        lambda: _notebook(
            [
                {"output_type": "stream", "name": "stdout", "text": "sex   n\nF    30\nM    40\n"}
                for _ in range(2_000)
            ]
        ),
    ),
    "deeply nested JSON": ("nested.json", lambda: b"[" * 1_000_000 + b"]" * 1_000_000),
}


def _run(path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], check=True, capture_output=True, text=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", help="run the cases whose name holds this text")
    args = parser.parse_args()
    missed = 0
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "small.csv"
        base.write_bytes(_small_table())
        baseline = _run(base)
        base_s, base_mb = float(str(baseline["seconds"])), float(str(baseline["peak_mb"]))
        print(
            f"baseline, a small CSV: {base_s * 1000:.0f} ms, peak {base_mb:.0f} MB"
            f" (interpreter and imports); budget {BUDGET_SECONDS:g} s and {BUDGET_MB:g} MB"
        )
        for name, (filename, make) in CASES.items():
            if args.only and args.only not in name:
                continue
            path = Path(folder) / filename
            path.write_bytes(make())
            size = path.stat().st_size
            got = _run(path)
            seconds, peak = float(str(got["seconds"])), float(str(got["peak_mb"]))
            rules = got["rules"] if isinstance(got["rules"], list) else []
            met = seconds <= BUDGET_SECONDS and peak <= BUDGET_MB
            missed += not met
            print(
                f"  {name:<50} {size / 1e6:5.1f} MB  {seconds:6.2f} s ({seconds / base_s:6.0f}x)"
                f"  peak {peak:5.0f} MB (+{peak - base_mb:4.0f})  {got['status']:<6}"
                f" {','.join(map(str, rules)) or '-'}  {'met' if met else 'MISSED'}"
            )
            path.unlink()
    print(f"budget missed: {missed}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
