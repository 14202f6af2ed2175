"""Deadlines at scale (docs/deadlines.md; the speed targets of issue 26): the overdue
listing, and a burst of deadlines passing at once fired by two sweepers.

python -m benchmarks.deadlines [--cases 1000000] [--deadlines 100000] [--passing 10000]

Seeds its own database by bulk SQL (benchmarks/seed.sql, then benchmarks/deadlines_seed.sql:
--deadlines cases in a status that starts benchmarks/deadlines_app.py's deadline, one in
--overdue-every of them overdue, the others running with their timers, due from one to 40
days ahead), then:

- the plan of the listing's statement (EXPLAIN ANALYZE: which indexes, how long);
- wrk at 4 connections against a real `taskflow serve --app benchmarks.deadlines_app:flow`
  (no sweeping in its workers): GET /?overdue=true&sort[column]=due&limit=50, p50 and p99;
- the sweep: --passing running deadlines made due at one instant a few seconds ahead, two
  real `taskflow timers` processes running, timed from that instant until every one of
  their deadline:decision:passed events is in the activity log (each once: checked per
  case at the end).

Targets at 1M cases with 100k deadlines: the listing's p50 <= 50 ms; 10,000 deadlines
passing in the same minute all fired within 2 minutes. Results:
results/deadlines-<cases>.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from taskflow_core.application.deadline_query import DeadlineFilters
from taskflow_core.application.query import ListQuery
from taskflow_postgres import PostgresStore
from taskflow_postgres.listing import list_statement

from .run import (
    RESULTS,
    Server,
    add_dsn_option,
    log,
    median_of,
    recreate_database,
    save,
    with_database,
    wrk,
)
from .run import seed as run_seed

APP = "benchmarks.deadlines_app:flow"
LISTING = "/?overdue=true&sort%5Bcolumn%5D=due&limit=50"
PASSED = "deadline:decision:passed"
TARGETS = {"listing p50 ms": 50.0, "sweep s": 120.0}
# The passing deadlines come due this long after they are set: the sweepers are polling by
# then, and the update that sets them has committed.
LEAD = timedelta(seconds=10)


def seed(dsn: str, cases: int, deadlines: int, overdue_every: int) -> float:
    """Cases, then their deadlines and timers; the seconds both took."""
    seconds = run_seed(dsn, cases)
    return seconds + run_seed(
        dsn, cases, "deadlines_seed.sql", deadlines=deadlines, overdue_every=overdue_every
    )


def listing_plan(dsn: str) -> dict[str, Any]:
    """EXPLAIN ANALYZE of the listing's statement: its scans and the time it took."""
    statement, params = list_statement(
        ListQuery(deadlines=DeadlineFilters(overdue=True), sort_column="due", limit=50)
    )
    with psycopg.connect(dsn) as conn:
        explain = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ") + statement
        row = conn.execute(explain, params).fetchone()
        text = sql.SQL("EXPLAIN (ANALYZE, BUFFERS) ") + statement
        lines = [found[0] for found in conn.execute(text, params).fetchall()]
    assert row is not None
    plan = row[0][0]
    scans: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if "Scan" in node["Node Type"]:
            scans.append(
                f"{node['Node Type']} {node.get('Relation Name', '')}"
                f" {node.get('Index Name', '')}".strip()
            )
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return {"execution_ms": plan["Execution Time"], "scans": scans, "text": lines}


def check_listing(url: str, overdue: int) -> None:
    """The page the benchmark times is the right one: 50 overdue cases, earliest due first."""
    with urllib.request.urlopen(url + LISTING, timeout=30) as answer:
        body = json.load(answer)
    page = body["data"]
    dues = [case["deadlines"][0]["due"] for case in page]
    states = {case["deadlines"][0]["state"] for case in page}
    if len(page) != min(50, overdue) or states != {"overdue"} or dues != sorted(dues):
        raise SystemExit(f"the overdue listing is not what was seeded: {body['meta']}")


def start_sweepers(dsn: str, count: int) -> list[subprocess.Popen[bytes]]:
    taskflow = str(Path(sys.executable).with_name("taskflow"))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sweepers = []
    for n in range(count):
        output = open(RESULTS / f"server-sweeper-{n}.log", "w")  # noqa: SIM115 - the child's
        sweepers.append(
            subprocess.Popen(
                [taskflow, "timers", "--app", APP, "--dsn", dsn],
                stdout=output,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        )
        output.close()
    return sweepers


def make_due(dsn: str, passing: int) -> tuple[list[Any], datetime]:
    """The ``passing`` running deadlines due soonest, made due at one instant ``LEAD`` from
    now (the deadline's due and its timer's, as the engine keeps them together)."""
    with psycopg.connect(dsn) as conn:
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT case_id FROM deadlines WHERE state = 'running' ORDER BY due LIMIT %s",
                (passing,),
            )
        ]
        moment = conn.execute("SELECT now() + %s", (LEAD,)).fetchone()[0]  # type: ignore[index]
        conn.execute(
            "UPDATE deadlines SET due = %s WHERE name = 'decision' AND case_id = ANY(%s)",
            (moment, ids),
        )
        conn.execute(
            "UPDATE timers SET due = %s, fire_at = %s WHERE name = %s AND case_id = ANY(%s)",
            (moment, moment, PASSED, ids),
        )
    return ids, moment


def sweep(dsn: str, passing: int, sweepers: int, timeout: float) -> dict[str, Any]:
    """Time ``passing`` deadlines coming due at once, fired by ``sweepers`` processes."""
    processes = start_sweepers(dsn, sweepers)
    try:
        ids, moment = make_due(dsn, passing)
        log(f"{len(ids):,} deadlines due at {moment:%H:%M:%S}, {sweepers} sweepers running")
        with psycopg.connect(dsn, autocommit=True) as conn:
            progress = (
                "SELECT count(*) FROM deadlines WHERE state = 'overdue' AND case_id = ANY(%s)"
            )
            give_up = time.monotonic() + LEAD.total_seconds() + timeout
            fired = 0
            while time.monotonic() < give_up:
                fired = conn.execute(progress, (ids,)).fetchone()[0]  # type: ignore[index]
                if fired == len(ids):
                    break
                time.sleep(0.5)
            entries = conn.execute(
                "SELECT case_id, count(*), min(created_at) FROM activity_log"
                " WHERE event_name = %s AND case_id = ANY(%s) GROUP BY case_id",
                (PASSED, ids),
            ).fetchall()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    after = sorted((row[2] - moment).total_seconds() for row in entries)
    twice = sum(1 for row in entries if row[1] != 1)
    return {
        "passing": len(ids),
        "sweepers": sweepers,
        "fired": len(entries),
        "overdue": fired,
        "fired_twice": twice,
        "all_fired_s": after[-1] if after else None,
        "p50_s": statistics.median(after) if after else None,
        "first_s": after[0] if after else None,
        "per_second": len(after) / (after[-1] - after[0]) if len(after) > 1 else None,
    }


def render(result: dict[str, Any]) -> str:
    listing, swept, plan = result["listing"], result["sweep"], result["plan"]
    lines = [
        f"# Deadlines, {result['cases']:,} cases, {result['deadlines']:,} deadlines",
        "",
        f"{result['when']}; load average {result['load_before']} before the run and "
        f"{result['load_after']} after it (`uptime`; the 2-core machine is shared with other "
        f"work). Seeded in {result['seed_s']:.1f} s: {result['overdue']:,} deadlines overdue, "
        f"the others running (due 1 to 40 days ahead, each with its timer).",
        "",
        "| measurement | result | target |",
        "|---|---|---|",
        f"| GET {LISTING} at 4 connections, p50 | {listing['p50_ms']:.1f} ms | <= "
        f"{TARGETS['listing p50 ms']:.0f} ms |",
        f"| the same, p99 | {listing['p99_ms']:.1f} ms | |",
        f"| the same, req/s (errors) | {listing['rps']:.0f} ({listing['errors']}) | |",
        f"| its statement alone (EXPLAIN ANALYZE) | {plan['execution_ms']:.1f} ms | |",
        f"| {swept['passing']:,} deadlines due at one instant, all fired by "
        f"{swept['sweepers']} sweepers | {_seconds(swept['all_fired_s'])} | <= "
        f"{TARGETS['sweep s']:.0f} s |",
        f"| the same, half fired | {_seconds(swept['p50_s'])} | |",
        f"| the same, fired per second | {swept['per_second'] or 0:.0f} | |",
        f"| passed events in the activity log (twice) | {swept['fired']:,} "
        f"({swept['fired_twice']}) | {swept['passing']:,} (0) |",
        "",
        "The listing's scans: " + "; ".join(f"`{scan}`" for scan in plan["scans"]) + ".",
        "",
        "```",
        *plan["text"],
        "```",
        "",
    ]
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def load_average() -> str:
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--deadlines", type=int, default=100_000)
    parser.add_argument("--overdue-every", type=int, default=10, help="one in N overdue")
    parser.add_argument("--passing", type=int, default=10_000)
    parser.add_argument("--sweepers", type=int, default=2)
    parser.add_argument("--sweep-timeout", type=float, default=600.0)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="measurements (median)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    add_dsn_option(parser)
    parser.add_argument("--database", default="taskflow_bench_deadlines")
    args = parser.parse_args(argv)
    if not 0 < args.passing <= args.deadlines - args.deadlines // args.overdue_every:
        parser.error("--passing must be at most the running deadlines")
    if shutil.which("wrk") is None or shutil.which("psql") is None:
        print("missing: wrk or psql", file=sys.stderr)
        return 2

    RESULTS.mkdir(exist_ok=True)
    dsn = with_database(args.dsn, args.database)
    result: dict[str, Any] = {
        "cases": args.cases,
        "deadlines": args.deadlines,
        "overdue": args.deadlines // args.overdue_every,
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "load_before": load_average(),
    }
    log(f"creating {args.database}: {args.cases:,} cases, {args.deadlines:,} deadlines")
    recreate_database(args.dsn, args.database)
    store = PostgresStore(dsn)
    store.migrate()
    store.close()
    result["seed_s"] = seed(dsn, args.cases, args.deadlines, args.overdue_every)
    log(f"seeded in {result['seed_s']:.1f} s")
    result["plan"] = listing_plan(dsn)
    log(f"the listing's statement: {result['plan']['execution_ms']:.1f} ms")

    ids = RESULTS / "ids.txt"
    ids.write_text("\n")  # the listing names no case; wrk's report script wants the file
    server = Server(dsn, args.workers, args.threads, extra=("--app", APP, "--no-timers"))
    try:
        check_listing(server.url, result["overdue"])
        runs = [wrk(server.url + LISTING, None, 4, args.duration, ids) for _ in range(args.repeat)]
    finally:
        server.stop()
    result["listing"] = median_of(runs)
    log(f"listing p50 {result['listing']['p50_ms']:.1f} ms")

    result["sweep"] = sweep(dsn, args.passing, args.sweepers, args.sweep_timeout)
    result["load_after"] = load_average()
    save(f"deadlines-{args.cases}", result, render)
    swept = result["sweep"]
    return 0 if swept["fired"] == swept["passing"] and swept["fired_twice"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
