"""Where a write's time goes: PostgreSQL's part piece by piece, and CPU per request by process.

    python -m benchmarks.write_cost [--cases 100000] [--duration 8] [--rounds 3]

Two measurements on one seeded database:

1. PostgreSQL's ceiling (pgbench, the statements the store sends: pgbench/create.sql and
   pgbench/status.sql) as shipped, and again with one piece taken away at a time — the search
   triggers, the per-status count triggers, the change-feed row, the sequencing step after
   the commit — variants in turns, round by round, medians. What a piece costs is the
   ceiling it gives back.
2. A real `taskflow serve` under wrk (16 connections) for GET /{id}, POST / and PUT
   /{id}/status, with the CPU each process group used per request read from /proc: the
   gunicorn workers, this database's PostgreSQL backends (the sequencer's included), and
   PostgreSQL's shared writers.

Results in ``results/write-cost-<cases>.{json,md}``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from taskflow_postgres import PostgresStore

from .run import (
    HERE,
    RESULTS,
    Server,
    add_dsn_option,
    log,
    pgbench,
    process_cpu,
    recreate_database,
    save,
    seed,
    with_database,
    write_ids,
    wrk,
)

SEARCH_TRIGGERS = ("cases_searched_on_insert", "cases_searched_on_data_change")
COUNT_TRIGGERS = ("cases_counted_on_insert_or_delete", "cases_counted_on_status_change")
FEED_ROW = "INSERT INTO change_feed (case_id, entry_id) SELECT entry.case_id, entry.id FROM entry;"
STEP = "SELECT taskflow_sequence_change_feed(true);"


def variants(script: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Each variant's pgbench script and the triggers it turns off."""
    text = (HERE / "pgbench" / script).read_text()
    if FEED_ROW not in text or STEP not in text:
        raise SystemExit(f"{script} no longer has the pieces this benchmark takes away")
    # Without its feed row the entry's INSERT stands alone (its RETURNING read by nobody).
    no_feed = text.replace("WITH entry AS (", "").replace(
        "RETURNING id, case_id\n)\n" + FEED_ROW, "RETURNING id, case_id;"
    )
    return {
        "as shipped": (text, ()),
        "without the search triggers": (text, SEARCH_TRIGGERS),
        "without the count triggers": (text, COUNT_TRIGGERS),
        "without the feed row": (no_feed, ()),
        "without the sequencing step": (text.replace(STEP, ""), ()),
    }


@contextmanager
def triggers_off(dsn: str, names: tuple[str, ...]) -> Iterator[None]:
    def switch(state: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for name in names:
                conn.execute(f"ALTER TABLE cases {state} TRIGGER {name}")  # names of this module

    switch("DISABLE")
    try:
        yield
    finally:
        switch("ENABLE")


def ceilings(dsn: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for endpoint, script in (("POST /", "create.sql"), ("PUT /{id}/status", "status.sql")):
        runs: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for name, (text, off) in variants(script).items():
                with tempfile.NamedTemporaryFile("w", suffix=".sql", dir=RESULTS) as f:
                    f.write(text)
                    f.flush()
                    with triggers_off(dsn, off):
                        tps = pgbench(dsn, f.name, args.cases, 16, args.duration)
                runs.setdefault(name, []).append(tps)
                log(f"ceiling {endpoint} {name}: {tps:.0f} tps")
        shipped = statistics.median(runs["as shipped"])
        for name, values in runs.items():
            tps = statistics.median(values)
            rows.append(
                {
                    "endpoint": endpoint,
                    "variant": name,
                    "tps": tps,
                    "runs": [round(v) for v in values],
                    # ms of one connection's time per transaction this piece costs
                    "piece_ms": 16 * (1 / shipped - 1 / tps) * 1000
                    if name != "as shipped"
                    else None,
                }
            )
    return rows


def cpu_per_request(dsn: str, args: argparse.Namespace, ids: Path) -> list[dict[str, Any]]:
    server = Server(dsn, args.workers, args.threads)
    rows = []
    try:
        for endpoint, script in (
            ("GET /{id}", "get.lua"),
            ("POST /", "create.lua"),
            ("PUT /{id}/status", "status.lua"),
        ):
            for _ in range(args.rounds):
                before, started = process_cpu(dsn, server.process.pid), time.monotonic()
                result = wrk(server.url + "/", script, 16, args.duration, ids)
                after, elapsed = process_cpu(dsn, server.process.pid), time.monotonic() - started
                per = {k: 1000 * (after[k] - before[k]) / result["requests"] for k in after}
                rows.append(
                    {"endpoint": endpoint, "rps": result["rps"], "cpu_ms": per, "seconds": elapsed}
                )
                log(f"{endpoint}: {result['rps']:.0f} req/s, CPU ms/request {per}")
    finally:
        server.stop()
    merged = []
    for endpoint in dict.fromkeys(r["endpoint"] for r in rows):
        mine = [r for r in rows if r["endpoint"] == endpoint]
        merged.append(
            {
                "endpoint": endpoint,
                "rps": statistics.median(r["rps"] for r in mine),
                "cpu_ms": {
                    k: statistics.median(r["cpu_ms"][k] for r in mine) for k in mine[0]["cpu_ms"]
                },
            }
        )
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    add_dsn_option(parser)
    parser.add_argument("--database", default="taskflow_write_cost")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    dsn = with_database(args.dsn, args.database)
    recreate_database(args.dsn, args.database)
    store = PostgresStore(dsn)
    store.migrate()
    store.close()
    log(f"seeded {args.cases:,} cases in {seed(dsn, args.cases):.1f}s")
    ids = write_ids(args.cases)
    result = {
        "cases": args.cases,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "ceilings": ceilings(dsn, args),
        "cpu": cpu_per_request(dsn, args, ids),
        "load": os.getloadavg(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    save(f"write-cost-{args.cases}", result, render)
    return 0


def render(result: dict[str, Any]) -> str:
    lines = [
        f"## Where a write's time goes, {result['cases']:,} cases — {result['when']}",
        "",
        f"Medians of {result['rounds']} runs of {result['duration_s']} s; load average at the "
        "end " + ", ".join(f"{x:.2f}" for x in result["load"]) + ".",
        "",
        "PostgreSQL's ceiling (pgbench, 16 clients), a piece taken away at a time:",
        "",
        "| endpoint | variant | tps | runs | the piece costs (ms per transaction) |",
        "|---|---|---:|---|---:|",
    ]
    for row in result["ceilings"]:
        piece = "—" if row["piece_ms"] is None else f"{row['piece_ms']:.3f}"
        lines.append(
            f"| {row['endpoint']} | {row['variant']} | {row['tps']:,.0f} | "
            f"{', '.join(map(str, row['runs']))} | {piece} |"
        )
    names = list(result["cpu"][0]["cpu_ms"])
    lines += [
        "",
        "CPU per request under wrk (16 connections), by process group:",
        "",
        "| endpoint | req/s | " + " | ".join(f"{n} ms" for n in names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for row in result["cpu"]:
        lines.append(
            f"| {row['endpoint']} | {row['rps']:,.0f} | "
            + " | ".join(f"{row['cpu_ms'][n]:.3f}" for n in names)
            + " |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
