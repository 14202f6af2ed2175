"""What finding the work costs PostgreSQL itself, statement by statement, on a database
benchmarks/finding.py seeded (``--reuse`` keeps one): no HTTP, so the numbers hold on a
machine other work shares.

python -m benchmarks.finding_costs --database taskflow_bench_finding

- counts: ``GET /_counts?by=status&data[licence][type]=project``'s statement (a third of
  the cases) as a prepared statement planned once for any value (PostgreSQL's generic
  plan, what it ran before taskflow_postgres/listing.py's planned_for_its_values), planned
  for its value (a parallel plan), and planned for its value in one process; in turns,
  medians of wall milliseconds.
- writes: 2,000 inserts of a case, changes of a case's data and comments in a PL/pgSQL
  loop, with the search triggers off and with each named migration's trigger functions,
  in turns; medians of the backend's CPU per write, read from /proc (so the server must
  run on this machine), which other work beside it inflates far less than wall time.

Results: results/finding-costs.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from .finding import SEARCH_TRIGGERS, set_search_triggers, trigger_functions
from .run import RESULTS, add_dsn_option, log, with_database

PROJECTS = """'{"licence": {"type": "project"}}'"""
COUNT = "SELECT status AS value, count(*) AS count FROM cases WHERE data @> $1 GROUP BY 1"
PLANS = {
    "generic plan (prepared)": "SET plan_cache_mode = force_generic_plan",
    "planned for the value": "SET plan_cache_mode = force_custom_plan",
    "planned for the value, one process": "SET max_parallel_workers_per_gather = 0",
}
# A random seeded case each time (finding_seed.sql: ids are md5(n)::uuid).
WRITES = {
    "POST /": "insert into cases (id, status, data) values (gen_random_uuid(), 'new',"
    """ '{"subject": "bench", "model": "pil", "establishment": {"id": 7}}');""",
    "PUT /{id}": "update cases set data = data || jsonb_build_object('note',"
    " 'checked by officer ' || (n % 1000)) where id = md5(n::text)::uuid;",
    "comment": "insert into activity_log (id, case_id, changed_by, event_name, event, comment)"
    " values (gen_random_uuid(), md5(n::text)::uuid, 'u', 'comment', '{}',"
    " 'Called the applicant about item ' || (n % 1000));",
}


def backend_cpu(pid: int) -> float:
    """Seconds of CPU (user and system) the server process ``pid`` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def counts(dsn: str, turns: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in PLANS}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"PREPARE counted(jsonb) AS {COUNT}")
        for _ in range(turns):
            for name, setting in PLANS.items():
                conn.execute("RESET ALL")
                conn.execute(setting)
                started = time.monotonic()
                conn.execute(f"EXECUTE counted({PROJECTS})").fetchall()
                times[name].append((time.monotonic() - started) * 1000)
    return {name: statistics.median(ms) for name, ms in times.items()}


def writes(dsn: str, migrations: list[str], turns: int, per_run: int) -> dict[str, float]:
    states = ["off", *migrations]
    cpu: dict[str, list[float]] = {f"{w} ({s})": [] for w in WRITES for s in states}
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        try:
            for _ in range(turns):
                for write, body in WRITES.items():
                    for state in states:
                        set_search_triggers(dsn, on=state != "off")
                        if state != "off":
                            conn.execute(trigger_functions(state).encode())
                        started = backend_cpu(pid)
                        conn.execute(
                            f"do $$ declare n int; begin for i in 1..{per_run} loop"
                            f" n := (random() * 999999)::int + 1; {body} end loop; end $$"
                        )
                        cpu[f"{write} ({state})"].append(
                            (backend_cpu(pid) - started) * 1e6 / per_run
                        )
        finally:
            set_search_triggers(dsn, on=True)
            conn.execute(trigger_functions(migrations[-1]).encode())
    return {name: statistics.median(us) for name, us in cpu.items()}


def render(result: dict[str, Any]) -> str:
    lines = [
        "# What finding the work costs PostgreSQL, statement by statement",
        "",
        f"Database {result['database']}; load average at the end: "
        f"{', '.join(f'{x:.2f}' for x in result['load'])} (a shared 2-core machine).",
        "",
        f"The count of a third of the cases by status, medians of {result['turns']} turns:",
        "",
        "| plan | ms |",
        "|---|---|",
        *(f"| {name} | {ms:.1f} |" for name, ms in result["counts"].items()),
        "",
        f"Backend CPU per write, medians of {result['turns']} turns of {result['per_run']:,}:",
        "",
        "| write (search triggers) | µs |",
        "|---|---|",
        *(f"| {name} | {us:.0f} |" for name, us in result["writes"].items()),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dsn_option(parser)
    parser.add_argument("--database", default="taskflow_bench_finding")
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--per-run", type=int, default=2000, help="writes per measurement")
    parser.add_argument(
        "--migrations",
        nargs="+",
        default=["0017_search_writes", "0019_search_writes_leaner"],
        help="whose search trigger functions to measure, in turns; the last stays",
    )
    args = parser.parse_args(argv)
    dsn = with_database(args.dsn, args.database)
    log(f"counts on {args.database}")
    found = counts(dsn, args.turns)
    log(f"writes with the triggers off and {', '.join(args.migrations)}")
    costs = writes(dsn, args.migrations, args.turns, args.per_run)
    result = {
        "database": args.database,
        "turns": args.turns,
        "per_run": args.per_run,
        "counts": found,
        "writes": costs,
        "load": os.getloadavg(),
        "triggers": [name for _, name in SEARCH_TRIGGERS],
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "finding-costs.md").write_text(render(result))
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
