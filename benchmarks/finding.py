"""Finding the work (docs/finding.md) under load: search, counts and views on a real
PostgreSQL, and what keeping the search index costs the writes.

python -m benchmarks.finding --cases 1000000 (default 100,000; same options as run.py's
where they share a name). Seeds its own database (benchmarks/finding_seed.sql: names, a
few text fields, a word on 20 cases, comments on a tenth), times the search backfill
(what migration 0012 does to a database that already holds cases), then runs wrk against
`taskflow serve --app benchmarks.finding_app:flow` (five views):

- GET /?q=<a word on 20 cases>, alone and with status, at 4 connections;
- GET /_counts?by=status (the counters), and with a q and two data[...] filters (a third
  of the cases, 20 cases);
- GET /_views (five views);
- POST /, PUT /{id} and POST /{id}/comment with the search triggers off and on, in turns
  in the same run (--turns pairs of them): the cost of keeping the index, as the median
  of each side's turns.

Results: results/finding-<cases>.{md,json}.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from taskflow_postgres import PostgresStore

from .run import (
    RESULTS,
    Server,
    add_dsn_option,
    case_id,
    log,
    median_of,
    recreate_database,
    save,
    with_database,
    wrk,
)
from .run import seed as run_seed

BACKFILL = """
insert into case_search (case_id, document)
select id, taskflow_search_document(id, data) from cases
on conflict (case_id) do nothing
"""
SEARCH_TRIGGERS = [
    ("cases", "cases_searched_on_insert"),
    ("cases", "cases_searched_on_data_change"),
    ("activity_log", "activity_searched_on_comment"),
]


def seed(dsn: str, cases: int) -> tuple[float, float]:
    """Seed, then index the search words in bulk; the seconds each took."""
    seeded = run_seed(dsn, cases, "finding_seed.sql")
    started = time.monotonic()
    with psycopg.connect(dsn) as conn:
        conn.execute(BACKFILL)
    backfill = time.monotonic() - started
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE cases")
        conn.execute("VACUUM ANALYZE activity_log")
        conn.execute("VACUUM ANALYZE case_search")
    return seeded, backfill


def set_search_triggers(dsn: str, *, on: bool) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table, trigger in SEARCH_TRIGGERS:
            verb = "ENABLE" if on else "DISABLE"
            conn.execute(f"ALTER TABLE {table} {verb} TRIGGER {trigger}")


MIGRATIONS = Path(__file__).resolve().parent.parent / "taskflow_postgres" / "migrations"
LATEST = "0019_search_writes_leaner"


def trigger_functions(migration: str) -> str:
    """The search triggers' functions as ``migration`` defines them: 0012's (each write
    makes the case's words again) or 0017's (taskflow_postgres/migrations)."""
    text = (MIGRATIONS / f"{migration}.sql").read_text()
    if migration.startswith("0012"):
        # Its functions only: not its table, triggers or backfill.
        start = text.index("create or replace function taskflow_case_searched")
        return text[start : text.index("drop trigger if exists cases_searched_on_insert")]
    return text


def render(result: dict[str, Any]) -> str:
    lines = [
        f"# Finding the work, {result['cases']:,} cases",
        "",
        f"Seeded in {result['seed_s']:.1f} s; search words of every case indexed in bulk in "
        f"{result['backfill_s']:.1f} s (migration 0012's backfill does the same).",
        "",
        *(
            [
                f"Load average at the end: {', '.join(f'{x:.2f}' for x in result['load'])} "
                "(2 cores: the server, PostgreSQL and wrk, and any other work on the machine).",
                "",
            ]
            if "load" in result
            else []
        ),
        "| endpoint | connections | req/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['name']} | {row['connections']} | {row['rps']:.0f} | {row['p50_ms']:.1f}"
            f" | {row['p99_ms']:.1f} | {row['errors']} |"
        )
    return "\n".join(lines + write_costs(result["rows"])) + "\n"


def write_costs(rows: list[dict[str, Any]]) -> list[str]:
    """The writes' req/s with the search off and on, each the median of its turns."""
    turns: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        write, _, side = row["name"].partition(" (search ")
        if side:
            turns.setdefault(write, {}).setdefault(side.rstrip(")"), []).append(row["rps"])
    if not turns:
        return []
    lines = [
        "",
        "What keeping the search words costs the writes: req/s, the median of each side's turns,"
        " and each turn's change (search on against the off turn just before it).",
        "",
        "| write | turns | search off | search on | change | each turn's change (median) |",
        "|---|---|---|---|---|---|",
    ]
    for write, sides in turns.items():
        off, on = statistics.median(sides["off"]), statistics.median(sides["on"])
        paired = [b / a - 1 for a, b in zip(sides["off"], sides.get("on", []), strict=False)]
        each = ", ".join(f"{change:+.0%}" for change in paired)
        lines.append(
            f"| {write} | {len(sides['off'])} | {off:.0f} | {on:.0f} | {on / off - 1:+.1%}"
            f" | {each} ({statistics.median(paired):+.1%}) |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per row (median)")
    parser.add_argument("--connections", type=int, default=16, help="for the writes")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    add_dsn_option(parser)
    parser.add_argument("--database", default="taskflow_bench_finding")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument(
        "--writes-only", action="store_true", help="only the writes, search off and on"
    )
    parser.add_argument(
        "--turns", type=int, default=2, help="turns of the writes with search off, then on"
    )
    parser.add_argument(
        "--against-0012",
        action="store_true",
        help="also turns with migration 0012's trigger functions (the writes' cost before 0017)",
    )
    args = parser.parse_args(argv)

    missing = [tool for tool in ("wrk", "psql") if shutil.which(tool) is None]
    if missing:
        print(f"missing: {', '.join(missing)}", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    dsn = with_database(args.dsn, args.database)
    result: dict[str, Any] = {"cases": args.cases, "seed_s": 0.0, "backfill_s": 0.0, "rows": []}
    if not args.reuse:
        log(f"creating {args.database} and seeding {args.cases:,} cases")
        recreate_database(args.dsn, args.database)
        store = PostgresStore(dsn)
        store.migrate()
        store.close()
        result["seed_s"], result["backfill_s"] = seed(dsn, args.cases)
        log(f"seeded in {result['seed_s']:.1f} s, search words in {result['backfill_s']:.1f} s")

    ids = RESULTS / "ids.txt"
    rng = random.Random(42)
    ids.write_text("\n".join(case_id(rng.randint(1, args.cases)) for _ in range(10_000)) + "\n")
    os.environ["FIND_WORDS"] = str(args.cases // 20)

    def measure(name: str, path: str, script: str | None, connections: int, **env: str) -> None:
        if script is not None and script != "search.lua":
            # Each write's measurement starts just after a checkpoint: the pages a write
            # touches first after one go to the WAL whole, and a checkpoint falling inside
            # one side's turn and not the other's moved a turn by 20% or more.
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("CHECKPOINT")
        os.environ.update(env)
        runs = [
            wrk(
                server.url + path,
                script,
                connections,
                args.duration,
                ids,
                threads=min(connections, 2),
            )
            for _ in range(args.repeat)
        ]
        for key in env:
            os.environ.pop(key)
        row = {"name": name, "connections": connections, **median_of(runs)}
        log(f"{name} at {connections}: {row['rps']:.0f} req/s, p50 {row['p50_ms']:.1f} ms")
        result["rows"].append(row)

    server = Server(dsn, args.workers, args.threads, extra=("--app", "benchmarks.finding_app:flow"))
    try:
        if not args.writes_only:
            measure_reads(measure)
        c = args.connections
        # Off and on in turns, so that the machine's drift falls on all alike.
        turns = ["off", "on (0012)", "on"] if args.against_0012 else ["off", "on"]
        for turn in turns * args.turns:
            set_search_triggers(dsn, on=turn != "off")
            if turn != "off":
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(
                        trigger_functions("0012_search" if "0012" in turn else LATEST).encode()
                    )
            measure(f"POST / (search {turn})", "/", "create.lua", c)
            measure(f"PUT /{{id}} (search {turn})", "/", "update.lua", c)
            measure(f"POST /{{id}}/comment (search {turn})", "/", "comment.lua", c)
    finally:
        set_search_triggers(dsn, on=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(trigger_functions(LATEST).encode())
        server.stop()
    result["load"] = os.getloadavg()
    name = f"finding-{args.cases}" + ("-writes" if args.writes_only else "")
    save(name, result, render)
    return 0


def measure_reads(measure: Callable[..., None]) -> None:
    """The searches, counts and views, at 4 connections."""
    measure("GET /?q=", "/", "search.lua", 4)
    measure("GET /?q=&status=", "/", "search.lua", 4, FIND_EXTRA="&status=approved")
    measure("GET /_counts?by=status", "/_counts?by=status", None, 4)
    measure("GET /_counts?by=status&q=", "/_counts?by=status&q=w42x", None, 4)
    # Two data filters: one a third of the cases match (every page of cases is read
    # to count them: docs/finding.md), and one on 20 cases.
    measure(
        "GET /_counts?by=status&data[...]= (a third of the cases)",
        "/_counts?by=status&data%5Blicence%5D%5Btype%5D=project",
        None,
        4,
    )
    measure(
        "GET /_counts?by=status&data[...]= (20 cases)",
        "/_counts?by=status&data%5Blicence%5D%5Bsite%5D=w42x",
        None,
        4,
    )
    measure("GET /_views", "/_views", None, 4)
    # One request at a time: what a caseworker waits for on a quiet server. At 4
    # connections, 2 cores share 4 counts' worth of work.
    measure(
        "GET /_counts?by=status&data[...]= (a third of the cases)",
        "/_counts?by=status&data%5Blicence%5D%5Btype%5D=project",
        None,
        1,
    )
    measure("GET /_views", "/_views", None, 1)


if __name__ == "__main__":
    sys.exit(main())
