"""Fuzzing the checker's readers: mutants of the labelled corpus, each checked alone.

Run: ``.venv/bin/python bench/disclosure_fuzz.py [--inputs 100000] [--seed 10]``

Every input must get a verdict without an internal error (``file.unreadable`` "the checker
could not read this file", which the checker logs with its traceback) and within the time
budget of an input under 10 MB (5 s). Printed: inputs checked, internal errors (each with its
seed position, name and exception), the slowest inputs, time per input against the same
corpus files unmutated (the baseline, run first in this process), and verdicts by suffix.
A crash found belongs in the tests: ``tests/unit/test_disclosure_fuzz.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.corpus.fuzz import inputs, seeds  # noqa: E402
from tests.corpus.generate import DEFAULT  # noqa: E402

from agoria_tre.disclosure.checker import Context, check_bytes  # noqa: E402
from agoria_tre.disclosure.policy import load_profile  # noqa: E402

BUDGET_SECONDS = 5.0
INTERNAL = "the checker could not read this file"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    ctx = Context(load_profile("fr"))
    originals = seeds(DEFAULT)
    started = time.perf_counter()
    for name, data in originals:
        check_bytes(name, data, ctx)
    baseline = (time.perf_counter() - started) / len(originals)
    crashes: list[tuple[int, str, str]] = []
    slow: list[tuple[float, int, str]] = []
    verdicts: Counter[str] = Counter()
    started = time.perf_counter()
    for k, (name, data) in enumerate(inputs(DEFAULT, args.inputs, args.seed)):
        t = time.perf_counter()
        report = check_bytes(name, data, ctx).report
        took = time.perf_counter() - t
        slow.append((took, k, name))
        slow = sorted(slow, reverse=True)[:5]
        verdicts[f"{Path(name).suffix} {report.status.value}"] += 1
        internal = [r.summary for r in report.rules if r.summary.startswith(INTERNAL)]
        if internal:
            crashes.append((k, name, internal[0]))
    elapsed = time.perf_counter() - started
    print(
        f"{args.inputs:,} mutants of {len(originals)} corpus files (seed {args.seed}):"
        f" {elapsed:.1f} s, {1000 * elapsed / args.inputs:.2f} ms per input"
        f" ({elapsed / args.inputs / baseline:.2f}x the unmutated files' {1000 * baseline:.2f} ms)"
    )
    print(f"internal errors: {len(crashes)}")
    for k, name, summary in crashes[:20]:
        print(f"  input {k} ({name}): {summary}")
    over = [s for s in slow if s[0] > BUDGET_SECONDS]
    print(f"over the {BUDGET_SECONDS:g} s budget: {len(over)}; slowest:")
    for took, k, name in slow:
        print(f"  {took * 1000:8.1f} ms  input {k} ({name})")
    print("verdicts by suffix:")
    for key, n in sorted(verdicts.items()):
        print(f"  {key:<16} {n:>7,}")
    return 1 if crashes or over else 0


if __name__ == "__main__":
    raise SystemExit(main())
