"""Three nodes through PgBouncer against one node direct, in one run:
`python -m benchmarks.pgbouncer`.

Seeds a database, then measures the same mixed load (benchmarks/wrk/mixed.lua: 80% reads,
15% status changes, 5% creates) against three arrangements, in turn, --repeat times:
one `taskflow serve` connected directly, the same with the switch on but still direct, that
node through PgBouncer (transaction pooling, ?pgbouncer=true), and three such nodes through
that PgBouncer. The load comes from
three wrk processes of --connections/3 connections each, aimed at one node or one per node.
Writes benchmarks/results/pgbouncer.{json,md}.

On a 2-core machine PostgreSQL, PgBouncer, every node and wrk share the two cores: three
nodes cannot be faster than one there. What the run shows is PgBouncer's overhead and that
no request fails, not a speed-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import sys
import threading
from typing import Any

import psycopg

from taskflow_postgres import PostgresStore
from tests.support.pgbouncer import PgBouncer, pgbouncer_binary

from .run import RESULTS, Server, case_id, log, recreate_database, seed, with_database, wrk

# The second row has the switch's cost alone (no prepared statements, no NOTIFY, no session
# time zone) without PgBouncer's hop; the third adds the hop; the fourth, the nodes.
ARRANGEMENTS = (
    "1 node direct",
    "1 node direct, ?pgbouncer=true",
    "1 node through PgBouncer",
    "3 nodes through PgBouncer",
)


def measure(urls: list[str], connections: int, duration: int) -> dict[str, Any]:
    """Three wrk at once, one per URL given (the same URL thrice for one node); summed."""
    ids = RESULTS / "pgbouncer-ids.txt"
    results: list[dict[str, Any]] = [{} for _ in range(3)]

    def run(n: int) -> None:
        url = urls[n % len(urls)]
        results[n] = wrk(url, "mixed.lua", connections // 3, duration, ids, threads=1)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not all(results):
        raise RuntimeError("a wrk run failed; see the traceback above")
    total = sum(r["requests"] for r in results)
    return {
        "rps": sum(r["rps"] for r in results),
        # Weighted by requests: each wrk saw a share of the load.
        "p50_ms": sum(r["p50_ms"] * r["requests"] for r in results) / total,
        "p99_ms": max(r["p99_ms"] for r in results),
        "requests": total,
        "errors": sum(r["errors"] for r in results),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per row (median)")
    parser.add_argument("--connections", type=int, default=30, help="split over three wrk")
    parser.add_argument("--workers", type=int, default=2, help="per node")
    parser.add_argument("--threads", type=int, default=4, help="per worker")
    parser.add_argument(
        "--pool-size", type=int, default=10, help="PgBouncer's server connections for the database"
    )
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="taskflow_pgbouncer_bench")
    args = parser.parse_args(argv)

    missing = [tool for tool in ("wrk", "psql") if shutil.which(tool) is None]
    if pgbouncer_binary() is None:
        missing.append("pgbouncer")
    if missing:
        print(f"missing: {', '.join(missing)}; apt-get install {' '.join(missing)}")
        return 2
    RESULTS.mkdir(exist_ok=True)
    direct = with_database(args.dsn, args.database)
    log(f"creating {args.database} and seeding {args.cases:,} cases")
    recreate_database(args.dsn, args.database)
    store = PostgresStore(direct)
    store.migrate()
    store.close()
    seed(direct, args.cases)
    with psycopg.connect(direct, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE cases, activity_log")
    rng = random.Random(42)
    (RESULTS / "pgbouncer-ids.txt").write_text(
        "\n".join(case_id(rng.randint(1, args.cases)) for _ in range(10_000)) + "\n"
    )

    info = psycopg.conninfo.conninfo_to_dict(direct)
    host, port = str(info.get("host", "127.0.0.1")), int(str(info.get("port", 5432)))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in ARRANGEMENTS}
    with PgBouncer(host, port, pool_size=args.pool_size) as bouncer:
        through = bouncer.url(direct) + "?pgbouncer=true"
        dsns = dict(
            zip(
                ARRANGEMENTS,
                [[direct], [f"{direct}?pgbouncer=true"], [through], [through] * 3],
                strict=True,
            )
        )
        for round_ in range(args.repeat):
            # Arrangements interleaved, so that a slow minute of the shared machine falls on
            # all of them rather than on one.
            for name in ARRANGEMENTS:
                servers = [
                    Server(dsn, args.workers, args.threads, log_name=f"server-{n}.log")
                    for n, dsn in enumerate(dsns[name])
                ]
                try:
                    result = measure([s.url for s in servers], args.connections, args.duration)
                finally:
                    for server in servers:
                        server.stop()
                runs[name].append(result)
                log(
                    f"round {round_ + 1}, {name}: {result['rps']:.0f} req/s, "
                    f"p50 {result['p50_ms']:.1f} ms, {result['errors']} errors"
                )

    rows = [{"arrangement": name, **_median(runs[name])} for name in ARRANGEMENTS]
    result = {
        "machine": {"cores": os.cpu_count() or 0, "python": platform.python_version()},
        "settings": vars(args),
        "rows": rows,
    }
    (RESULTS / "pgbouncer.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "pgbouncer.md").write_text(render(result))
    print(render(result))
    return 0


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }


def render(result: dict[str, Any]) -> str:
    s = result["settings"]
    base = result["rows"][0]["rps"]
    lines = [
        "# Three nodes through PgBouncer against one node direct",
        "",
        f"{result['machine']['cores']} cores; each node {s['workers']} workers x {s['threads']}"
        f" threads; PgBouncer pool {s['pool_size']}; {s['connections']} connections;"
        f" {s['cases']:,} cases; median of {s['repeat']} x {s['duration']} s.",
        "",
        "| arrangement | req/s | vs direct | p50 ms | p99 ms | requests | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['arrangement']} | {row['rps']:.0f} | {row['rps'] / base:.2f}x"
            f" | {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['requests']} | {row['errors']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
