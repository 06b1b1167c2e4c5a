"""Audit log benchmark: append and verify 100,000 events on SQLite and on PostgreSQL.

Run: ``.venv/bin/python bench/audit_bench.py [--events N] [--batch B]``

For each database it prints events/s for
  * append, one event per transaction (a sample: how an operator's commands write),
  * append, B events per transaction (how the 100,000 are loaded),
  * verify, the whole chain,
and, as baselines measured in the same run on the same rows:
  * a plain INSERT of identical rows with no chain (no head lock, no hashing),
  * a plain scan of the same table (SELECT of every column, no checks),
so the ratios show what the chain costs. Target: verify >= 200,000 events/s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from agoria_tre import audit
from agoria_tre.catalog.db import Catalog
from agoria_tre.catalog.migrate import initialise
from agoria_tre.config import Settings
from agoria_tre.testing.postgres import PostgresUnavailable, start_server

SINGLE_SAMPLE = 2_000
TARGET_VERIFY = 200_000


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def append(catalog: Catalog, count: int, batch: int, offset: int = 0) -> None:
    done = 0
    while done < count:
        with catalog.write() as session:
            for i in range(min(batch, count - done)):
                n = offset + done + i
                audit.record(
                    session,
                    actor=f"user-{n % 50}",
                    action="export.review",
                    target=f"request:{n}",
                    project=f"project-{n % 20}",
                    details={"decision": "approve", "item": n, "note": "bench"},
                )
        done += batch


def baseline_insert(catalog: Catalog, batch: int) -> int:
    """Copy the chain's rows into a plain table with the same columns, B rows per commit."""
    with catalog.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS plain_events"))
        conn.execute(
            text(
                "CREATE TABLE plain_events (seq INTEGER PRIMARY KEY, occurred_at VARCHAR(27),"
                " actor VARCHAR(64), action VARCHAR(64), target VARCHAR(200),"
                " project VARCHAR(40), details TEXT, canonical "
                + ("BLOB" if conn.dialect.name == "sqlite" else "BYTEA")
                + ", prev_hash VARCHAR(64), hash VARCHAR(64))"
            )
        )
        rows = [
            dict(r._mapping) for r in conn.execute(text("SELECT * FROM audit_events ORDER BY seq"))
        ]
    insert = text(
        "INSERT INTO plain_events VALUES (:seq, :occurred_at, :actor, :action, :target,"
        " :project, :details, :canonical, :prev_hash, :hash)"
    )
    for start in range(0, len(rows), batch):
        with catalog.engine.begin() as conn:
            for row in rows[start : start + batch]:
                conn.execute(insert, row)  # one statement per row, as record() does
    return len(rows)


def scan(catalog: Catalog) -> int:
    with catalog.read() as session:
        result = (
            session.connection()
            .execution_options(stream_results=True, yield_per=20_000)
            .execute(
                text(
                    "SELECT seq, occurred_at, actor, action, target, project, details,"
                    " canonical, prev_hash, hash FROM audit_events ORDER BY seq"
                )
            )
        )
        return sum(len(p) for p in result.partitions())


def run(name: str, settings: Settings, events: int, batch: int) -> dict[str, float]:
    catalog = Catalog(settings)
    initialise(catalog, actor="bench")
    single = min(SINGLE_SAMPLE, events)
    t_single = timed(lambda: append(catalog, single, 1))
    t_batch = timed(lambda: append(catalog, events - single, batch, offset=single))
    verify_result: list[audit.VerifyResult] = []

    def do_verify() -> None:
        with catalog.snapshot() as session:
            verify_result.append(audit.verify(session, catalog.anchor_path))

    do_verify()  # warm the page cache and the connection once, as a scheduled job would be
    t_verify = timed(do_verify)
    result = verify_result[-1]
    if not result.ok or result.events != events + 1:  # plus catalog.init
        raise SystemExit(f"{name}: verify failed: {result.problem}")
    # The same chain as 100,000 single-event transactions would have anchored it: one line
    # per event (the hashes are the chain's own), the worst case for reading the anchor.
    with catalog.engine.connect() as conn:
        lines = [
            f"{seq} {seq} {digest}\n"
            for seq, digest in conn.execute(text("SELECT seq, hash FROM audit_events ORDER BY seq"))
        ]
    catalog.anchor_path.write_text("".join(lines))
    t_verify_dense = timed(do_verify)
    if not verify_result[-1].ok:
        raise SystemExit(f"{name}: verify with a dense anchor failed: {verify_result[-1].problem}")
    t_scan = timed(lambda: scan(catalog))
    t_plain = timed(lambda: baseline_insert(catalog, batch))
    catalog.dispose()
    figures = {
        "append_single": single / t_single,
        "append_batch": (events - single) / t_batch,
        "plain_insert": events / t_plain,
        "verify": events / t_verify,
        "verify_dense": events / t_verify_dense,
        "scan": events / t_scan,
    }
    print(f"\n{name}: {events:,} events ({single:,} one per transaction, rest {batch:,} per)")
    print(f"  append, 1 per transaction   {figures['append_single']:>12,.0f} events/s")
    print(f"  append, {batch} per transaction {figures['append_batch']:>10,.0f} events/s")
    print(
        f"  baseline plain INSERT        {figures['plain_insert']:>12,.0f} rows/s"
        f"   (chained append = {figures['append_batch'] / figures['plain_insert']:.2f}x)"
    )
    verdict = "met" if figures["verify"] >= TARGET_VERIFY else "MISSED"
    print(
        f"  verify                       {figures['verify']:>12,.0f} events/s"
        f"   target >= {TARGET_VERIFY:,}: {verdict}"
    )
    print(
        f"  verify, one anchor line/event {figures['verify_dense']:>11,.0f} events/s"
        f"   target >= {TARGET_VERIFY:,}:"
        f" {'met' if figures['verify_dense'] >= TARGET_VERIFY else 'MISSED'}"
    )
    print(
        f"  baseline plain scan          {figures['scan']:>12,.0f} rows/s"
        f"   (verify = {figures['verify'] / figures['scan']:.2f}x of a bare scan)"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="agoria-bench-") as tmp:
        home = Path(tmp)
        run(
            "SQLite (embedded, WAL, synchronous=FULL)",
            Settings.from_env({"AGORIA_HOME": str(home / "sqlite")}),
            args.events,
            args.batch,
        )
        try:
            server = start_server()
        except PostgresUnavailable as exc:
            print(f"\nPostgreSQL: not measured, no server could be started ({exc})")
            return
        try:
            run(
                "PostgreSQL (local server, Unix socket)",
                Settings.from_env(
                    {"AGORIA_HOME": str(home / "pg"), "AGORIA_DB_URL": server.new_url()}
                ),
                args.events,
                args.batch,
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
