"""Ingest benchmark: a generated 10-million-row, 12-column hospital extract, pseudonymised.

Run: ``.venv/bin/python bench/ingest_bench.py [--rows N] [--keep DIR]``

On the same CSV (1,000,000 patients over N rows, 3 stays per patient on average, rows in no
particular order; columns: patient_id, stay_id, name, nir, date_of_birth, sex, departement,
drug, start_date, dose, grade, term), each run in a process of its own so that its peak
memory is its own:

1. ``agoria-tre``'s ingest (two id columns pseudonymised, name and NIR dropped, birth dates
   cut to the year, k-anonymity on sex, département and year of birth, every value of the
   five kept columns screened for identifiers, registered in a catalog), with the native
   pseudonymiser;
2. the same with the screen of every kept value patched out of the bench process, so that
   its cost is measured back to back (the product has no switch for it);
3. the same with the pure-Python pseudonymiser (``AGORIA_NATIVE=0``), for reference;
4. the baseline: ``pandas.read_csv`` + ``hmac`` per row (``apply``) + ``to_parquet``.

Targets: >= 1,000,000 rows/s end to end, peak memory < 1.5 GB, >= 5x the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
PATIENTS = 1_000_000
COLUMNS = [
    "patient_id", "stay_id", "name", "nir", "date_of_birth", "sex", "departement", "drug",
    "start_date", "dose", "grade", "term",
]  # fmt: skip


def _prefixed(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    text = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


def generate(path: Path, rows: int, seed: int = 1) -> None:
    """Write the extract in slices of a million rows (about 115 bytes a row)."""
    rng = np.random.default_rng(seed)
    names = pa.array([f"{f} {s}" for f in ("Marie", "Jean", "Léa", "Hugo", "Zoé", "Rémi")
                      for s in ("Martin", "Bernard", "Dubois", "Lefèvre", "Girard")])  # fmt: skip
    deps = pa.array([f"{d:02d}" for d in range(1, 96)] + ["2A", "2B"])
    drugs = pa.array([f"DRUG_{c}{n}" for c in "ABCDE" for n in range(4)])
    terms = pa.array([f"adverse event {n}" for n in range(200)])
    births = rng.integers(-12_000, 12_000, PATIENTS)  # days since 1970, per patient
    sexes = rng.choice(np.array(["F", "M"]), PATIENTS)
    patient_deps = rng.integers(0, len(deps), PATIENTS)
    options = pacsv.WriteOptions(include_header=True)
    with pacsv.CSVWriter(
        path, pa.schema([(c, pa.string()) for c in COLUMNS]), write_options=options
    ) as writer:
        done = 0
        while done < rows:
            n = min(1_000_000, rows - done)
            patient = rng.integers(0, PATIENTS, n)
            stay = patient * 3 + rng.integers(0, 3, n)
            table = pa.table(
                {
                    "patient_id": _prefixed("P", patient, 9),
                    "stay_id": _prefixed("S", stay, 10),
                    "name": names.take(pa.array(rng.integers(0, len(names), n))),
                    "nir": pc.cast(pa.array(rng.integers(10**14, 3 * 10**14, n)), pa.string()),
                    "date_of_birth": pc.cast(
                        pc.cast(pa.array(births[patient].astype(np.int32)), pa.date32()),
                        pa.string(),
                    ),
                    "sex": pa.array(sexes[patient]),
                    "departement": deps.take(pa.array(patient_deps[patient])),
                    "drug": drugs.take(pa.array(rng.integers(0, len(drugs), n))),
                    "start_date": pc.cast(
                        pc.cast(
                            pa.array(rng.integers(18_000, 20_000, n).astype(np.int32)), pa.date32()
                        ),
                        pa.string(),
                    ),
                    "dose": pc.cast(pa.array(np.round(rng.gamma(2.0, 25.0, n), 2)), pa.string()),
                    "grade": pc.cast(pa.array(rng.integers(1, 6, n)), pa.string()),
                    "term": terms.take(pa.array(rng.integers(0, len(terms), n))),
                }
            )
            writer.write_table(table)
            done += n


def run_ours(source: Path, work: Path, *, screen: bool = True) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "src"))
    from agoria_tre.catalog.db import Catalog
    from agoria_tre.catalog.migrate import initialise
    from agoria_tre.config import Settings
    from agoria_tre.ingest import columns
    from agoria_tre.ingest.keys import create_key_file
    from agoria_tre.ingest.pipeline import IngestOptions, ingest

    settings = Settings.from_env({"AGORIA_HOME": str(work / "home")})
    catalog = Catalog(settings)
    initialise(catalog, actor="bench")
    key = create_key_file(work / "keys" / "platform.key")
    options = IngestOptions(
        name="bench",
        id_columns=("patient_id", "stay_id"),
        drop=("name", "nir"),
        date_of_birth=("date_of_birth",),
        quasi=("sex", "departement"),
        attributes=("drug", "start_date", "dose", "grade", "term"),
    )
    if not screen:  # the reference run only: what the value screen costs
        columns.first_finding = lambda *_args, **_kwargs: None
    started = time.perf_counter()
    result = ingest(catalog, source, options, key=key, actor="bench")
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "rows": result.manifest["row_count"]}


def run_baseline(source: Path, work: Path) -> dict[str, float]:
    import base64
    import hashlib
    import hmac

    import pandas as pd

    key = os.urandom(32)

    def pseudonym(value: str) -> str:
        digest = hmac.new(key, value.encode(), hashlib.sha256).digest()
        return base64.b32encode(digest)[:26].decode()

    started = time.perf_counter()
    frame = pd.read_csv(source, dtype=str)
    frame = frame.drop(columns=["name", "nir"])
    for column in ("patient_id", "stay_id"):
        frame[column] = frame[column].apply(pseudonym)
    frame["date_of_birth"] = frame["date_of_birth"].str[:4]
    frame.to_parquet(work / "baseline.parquet")
    return {"seconds": time.perf_counter() - started, "rows": len(frame)}


def child(kind: str, source: Path, work: Path, native: bool) -> dict[str, float]:
    """Run one measurement in a fresh process; its peak memory is its own."""
    env = dict(os.environ, AGORIA_NATIVE="1" if native else "0")
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(source), str(work)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, help="Keep the generated CSV here, and reuse it.")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "SOURCE", "WORK"))
    args = parser.parse_args()
    if args.child:
        kind, source, work = args.child
        if kind == "baseline":
            result = run_baseline(Path(source), Path(work))
        else:
            result = run_ours(Path(source), Path(work), screen=kind == "ours")
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    scratch = Path(tempfile.mkdtemp(prefix="agoria-ingest-bench-"))
    try:
        source = (args.keep or scratch) / f"extract-{args.rows}.csv"
        if not source.exists():
            source.parent.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            generate(source, args.rows)
            print(f"generated {args.rows:,} rows, {source.stat().st_size / 1e6:,.0f} MB"
                  f" in {time.perf_counter() - started:.1f} s")  # fmt: skip
        results = {}
        for label, kind, native in (
            ("agoria-tre ingest (native)", "ours", True),
            ("same, value screen patched out (reference)", "unscreened", True),
            ("agoria-tre ingest (pure Python)", "ours", False),
            ("baseline pandas + hmac + to_parquet", "baseline", False),
        ):
            work = scratch / label.split()[-1].strip("()")
            work.mkdir(exist_ok=True)
            results[label] = child(kind, source, work, native)
            shutil.rmtree(work, ignore_errors=True)
        base = results["baseline pandas + hmac + to_parquet"]
        base_rate = base["rows"] / base["seconds"]
        print(f"{'':44} {'rows/s':>12} {'seconds':>9} {'peak MB':>9} {'x baseline':>11}")
        for label, result in results.items():
            rate = result["rows"] / result["seconds"]
            print(
                f"{label:44} {rate:12,.0f} {result['seconds']:9.1f} {result['peak_mb']:9,.0f}"
                f" {rate / base_rate:10.1f}x"
            )
        ours = results["agoria-tre ingest (native)"]
        rate = ours["rows"] / ours["seconds"]
        print(
            f"targets: >= 1,000,000 rows/s: {rate:,.0f} ({'met' if rate >= 1e6 else 'NOT met'});"
            f" peak < 1,500 MB: {ours['peak_mb']:,.0f}"
            f" ({'met' if ours['peak_mb'] < 1500 else 'NOT met'});"
            f" >= 5x baseline: {rate / base_rate:.1f}x"
            f" ({'met' if rate >= 5 * base_rate else 'NOT met'})"
        )
        bare = results["same, value screen patched out (reference)"]
        print(f"the value screen costs {ours['seconds'] / bare['seconds'] - 1:+.1%} of the time")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
