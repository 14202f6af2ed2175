"""Before and after, in one run: the same seeded PostgreSQL served by each variant in turn.

    python -m benchmarks.compare --before /path/to/old/.venv/bin/taskflow

Variants, interleaved round by round so that drift of the shared machine hits them alike:
``before`` (another checkout's `taskflow`, e.g. the code before a change), ``after`` (this
checkout), ``after, workflow`` (ten declared transitions, `benchmarks/workflow_app.py`), and
for POST ``after, Idempotency-Key`` (a fresh key on every request). Medians of the rounds;
results in `results/compare-<cases>.{json,md}`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

import psycopg

from taskflow_postgres import PostgresStore

from .run import RESULTS, Server, log, recreate_database, seed, with_database, write_ids, wrk

ENDPOINTS = [
    ("GET /{id}", "get.lua"),
    ("PUT /{id}/status", "status.lua"),
    ("POST /", "create.lua"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="the `taskflow` executable of the code before")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="taskflow_compare")
    args = parser.parse_args(argv)

    RESULTS.mkdir(exist_ok=True)
    dsn = with_database(args.dsn, args.database)
    log(f"creating {args.database} and seeding {args.cases:,} cases")
    recreate_database(args.dsn, args.database)
    store = PostgresStore(dsn)
    store.migrate()  # this checkout's schema; older code ignores the columns it adds
    store.close()
    seed(dsn, args.cases)
    ids = write_ids(args.cases)

    variants: list[tuple[str, str | None, tuple[str, ...], list[tuple[str, str]]]] = []
    if args.before:
        variants.append(("before", args.before, (), ENDPOINTS))
    variants.append(("after", None, (), ENDPOINTS))
    variants.append(
        (
            "after, workflow",
            None,
            ("--app", "benchmarks.workflow_app:flow"),
            [("PUT /{id}/status", "status.lua")],
        )
    )
    variants.append(("after, Idempotency-Key", None, (), [("POST /", "create_idempotent.lua")]))

    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for round_number in range(1, args.rounds + 1):
        for label, executable, extra, endpoints in variants:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE cases, activity_log")
            # As shipped: the after variants sweep timers in their workers, as serve does.
            server = Server(dsn, 2, 4, executable=executable, extra=extra)
            try:
                for name, script in endpoints:
                    result = wrk(server.url + "/", script, args.connections, args.duration, ids)
                    runs.setdefault((label, name), []).append(result)
                    log(
                        f"round {round_number} {label:24} {name:18} {result['rps']:7.0f} req/s"
                        f" errors {result['errors']}"
                    )
            finally:
                server.stop()

    rows = []
    for (label, name), results in runs.items():
        rows.append(
            {
                "variant": label,
                "endpoint": name,
                "rps_median": statistics.median(r["rps"] for r in results),
                "rps_runs": [round(r["rps"]) for r in results],
                "p50_ms_median": statistics.median(r["p50_ms"] for r in results),
                "errors": sum(r["errors"] for r in results),
            }
        )
    result = {
        "cases": args.cases,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "rows": rows,
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    (RESULTS / f"compare-{args.cases}.json").write_text(json.dumps(result, indent=2) + "\n")
    table = render(rows)
    (RESULTS / f"compare-{args.cases}.md").write_text(table)
    print(table)
    return 0


def render(rows: list[dict[str, Any]]) -> str:
    base = {r["endpoint"]: r["rps_median"] for r in rows if r["variant"] == "after"}
    lines = [
        "| endpoint | variant | req/s (median) | runs | vs after | errors |",
        "|---|---|---|---|---|---|",
    ]
    for r in sorted(rows, key=lambda r: (r["endpoint"], r["variant"])):
        ratio = r["rps_median"] / base[r["endpoint"]] if r["endpoint"] in base else float("nan")
        lines.append(
            f"| {r['endpoint']} | {r['variant']} | {r['rps_median']:.0f} | "
            f"{', '.join(map(str, r['rps_runs']))} | {ratio:.3f} | {r['errors']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
