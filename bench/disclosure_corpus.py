"""The disclosure checker on the labelled corpus: how often it is right, per rule and overall.

Run: ``.venv/bin/python bench/disclosure_corpus.py [--write-baseline]``

The corpus (``tests/data/corpus``, written by ``tests/corpus/generate.py`` from the
synthetic cohort) holds sound outputs and disclosive ones, each labelled. Every output is
checked alone with the ``fr`` profile, as the export dialog does. Printed:

- overall and for structured outputs (tables, model summaries, survival tables): sound
  outputs passed / reviewed / failed; disclosive outputs failed (and how many of those name
  the cells) / reviewed / passed; the time per output;
- per rule: on how many sound outputs it failed or asked for review (its false alarms), and
  on how many disclosive outputs it failed (what it caught);
- per leak and per format.

Each figure is printed beside the baseline: ``bench/corpus_baseline.json``, the verdicts of
the first checker design (commit 7ba9a79) on the same corpus. ``--write-baseline`` rewrites
it from the checker imported; to rewrite it from the first design after the corpus changes::

    git worktree add /tmp/first 7ba9a79
    PYTHONPATH=/tmp/first/src .venv/bin/python bench/disclosure_corpus.py --write-baseline

The targets: no sound output fails; >= 80 % of sound structured outputs pass; no
disclosive output passes; >= 85 % of disclosive structured outputs fail with a finding that
names cells.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.corpus.generate import DEFAULT  # noqa: E402
from tests.corpus.measure import Measured, measure  # noqa: E402

from agoria_tre.disclosure.status import Status  # noqa: E402

BASELINE = Path(__file__).with_name("corpus_baseline.json")


def _shares(results: list[Measured], label: str) -> dict[str, int]:
    chosen = [r for r in results if r.label == label]
    counts = Counter(r.status.value for r in chosen)
    out = {"total": len(chosen), **{s.value: counts[s.value] for s in Status}}
    out["named"] = sum(1 for r in chosen if r.status is Status.FAIL and r.named)
    return out


def figures(results: list[Measured]) -> dict[str, object]:
    structured = [r for r in results if r.structured]
    rules: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        for rule, status in r.rules:
            rules[rule][f"{r.label} {status.value}"] += 1
    return {
        "all": {label: _shares(results, label) for label in ("sound", "disclosive")},
        "structured": {label: _shares(structured, label) for label in ("sound", "disclosive")},
        "rules": {rule: dict(counts) for rule, counts in sorted(rules.items())},
        "leaks": {
            leak: dict(Counter(r.status.value for r in results if r.leak == leak))
            for leak in sorted({r.leak for r in results if r.leak})
        },
        "formats": {
            fmt: dict(Counter(f"{r.label} {r.status.value}" for r in results if r.format == fmt))
            for fmt in sorted({r.format for r in results})
        },
        "verdicts": {r.path: r.status.value for r in results},
    }


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    -  "


def _line(name: str, now: dict[str, int], then: dict[str, int] | None) -> str:
    def one(shares: dict[str, int]) -> str:
        t = shares["total"]
        if name.startswith("sound"):
            return (
                f"pass {shares['pass']:3d} ({_pct(shares['pass'], t)})"
                f"  review {shares['review']:3d}  fail {shares['fail']:3d}"
            )
        return (
            f"fail {shares['fail']:3d} ({_pct(shares['fail'], t)}; naming cells"
            f" {_pct(shares['named'], t)})  review {shares['review']:3d}  pass {shares['pass']:3d}"
        )

    base = f"   | baseline {one(then)}" if then else ""
    return f"  {name:<22} n={now['total']:3d}  {one(now)}{base}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-baseline", action="store_true")
    args = parser.parse_args()
    results = measure(DEFAULT)
    now = figures(results)
    if args.write_baseline:
        BASELINE.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
    base = json.loads(BASELINE.read_text()) if BASELINE.exists() else None
    seconds = [r.seconds for r in results]
    print(f"corpus {DEFAULT.relative_to(ROOT)}: {len(results)} outputs")
    for part in ("all", "structured"):
        print(f"{part}:")
        for label in ("sound", "disclosive"):
            then = base[part][label] if base else None
            print(_line(label, now[part][label], then))  # type: ignore[index]
    print(
        f"time: {sum(seconds):.2f} s in all, {1000 * sum(seconds) / len(seconds):.1f} ms per"
        f" output on average, {1000 * max(seconds):.0f} ms at most"
    )
    print("\nper rule (outputs where the rule did not pass):")
    heads = ("sound fail", "sound review", "discl. fail", "discl. review")
    print(f"  {'rule':<28} " + " ".join(heads))
    for rule, counts in now["rules"].items():  # type: ignore[attr-defined]
        print(
            f"  {rule:<28} "
            + " ".join(
                f"{counts.get(key, 0):>{len(head)}}"
                for key, head in zip(
                    ("sound fail", "sound review", "disclosive fail", "disclosive review"),
                    heads,
                    strict=True,
                )
            )
        )
    print("\nper leak (disclosive outputs: fail / review / pass):")
    for leak, counts in now["leaks"].items():  # type: ignore[attr-defined]
        then = base["leaks"].get(leak, {}) if base else {}
        print(
            f"  {leak:<14} {counts.get('fail', 0):3d} / {counts.get('review', 0):3d} /"
            f" {counts.get('pass', 0):3d}   baseline {then.get('fail', 0):3d} /"
            f" {then.get('review', 0):3d} / {then.get('pass', 0):3d}"
        )
    print("\nper format (sound pass/review/fail; disclosive fail/review/pass):")
    for fmt, counts in now["formats"].items():  # type: ignore[attr-defined]
        print(
            f"  {fmt:<6} sound {counts.get('sound pass', 0):3d} /"
            f" {counts.get('sound review', 0):3d} / {counts.get('sound fail', 0):3d}"
            f"   disclosive {counts.get('disclosive fail', 0):3d} /"
            f" {counts.get('disclosive review', 0):3d} / {counts.get('disclosive pass', 0):3d}"
        )
    if base:
        changed = [
            (path, base["verdicts"].get(path), verdict)
            for path, verdict in now["verdicts"].items()  # type: ignore[attr-defined]
            if base["verdicts"].get(path) != verdict
        ]
        print(f"\n{len(changed)} verdicts differ from the baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
