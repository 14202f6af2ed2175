"""Bulk loading on PostgreSQL: the per-status count triggers per row (0009) against per
statement (0016), on a bulk INSERT and on the service's single-row writes.

    python -m benchmarks.bulk_load [--cases 1000000] [--row-limit 600] [--dsn postgresql://...]

In one run, each on a database of its own:

- a bulk ``INSERT ... SELECT FROM generate_series`` of ``--cases`` cases (what adopting a
  large database or an import does), and of ``--small`` cases, with the count triggers per
  row (migrations up to 0015), per statement (up to 0016) and with no count triggers at all
  (the floor: the search triggers of 0012 and the indexes still run); a run past
  ``--row-limit`` seconds is cancelled and reported as such; after each, the kept counts are
  checked against the table;
- the single-row writes of the service, pgbench's benchmarks/pgbench/create.sql (POST /) and
  status.sql (PUT /{id}/status), on ``--seeded`` cases, interleaved round by round between the
  triggers per row, per statement, and per statement for UPDATE too (the alternative 0016
  does not take: see its header), medians of ``--rounds``.

Results: results/bulk-load-<cases>.{md,json}.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time
from typing import Any

import psycopg
from psycopg import errors

from taskflow_postgres.migrate import available

from .run import log, pgbench, recreate_database, save, with_database

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"

# The shipped migrations up to this one keep the counts per row.
ROW_TRIGGERS_UNTIL = 15

# The alternative 0016 does not take: status changes counted per statement too.
UPDATE_PER_STATEMENT = """
create or replace function bench_cases_moved() returns trigger
language plpgsql as $$
begin
  insert into case_status_counts as c (status, slot, cases)
    select status, (pg_backend_pid() % 1024)::smallint, sum(delta)
    from (select status, 1 as delta from after union all
          select status, -1 from before) as moved
    where status is not null
    group by status having sum(delta) <> 0 order by status
    on conflict (status, slot) do update set cases = c.cases + excluded.cases;
  return null;
end
$$;
drop trigger cases_counted_on_status_change on cases;
create trigger cases_counted_on_update
  after update on cases
  referencing old table as before new table as after
  for each statement execute function bench_cases_moved();
"""

NO_COUNT_TRIGGERS = """
drop trigger cases_counted_on_insert on cases;
drop trigger cases_counted_on_delete on cases;
drop trigger cases_counted_on_status_change on cases;
"""

# Ids as benchmarks/pgbench/status.sql finds them: md5(n)::uuid for n in 1..cases.
BULK_INSERT = """
INSERT INTO cases (id, status, data, created_at, updated_at)
SELECT md5(g::text)::uuid, (ARRAY['new', 'open', 'in-review', 'closed'])[1 + g %% 4],
       jsonb_build_object('subject', 'imported case ' || g), now(), now()
FROM generate_series(1, %s) AS g
"""

VARIANTS = {
    "per row (0009)": (ROW_TRIGGERS_UNTIL, ""),
    "per statement (0016)": (16, ""),
    "per statement, UPDATE too": (16, UPDATE_PER_STATEMENT),
    "no count triggers": (16, NO_COUNT_TRIGGERS),
}
BULK_VARIANTS = ["per row (0009)", "per statement (0016)", "no count triggers"]
SINGLE_VARIANTS = ["per row (0009)", "per statement (0016)", "per statement, UPDATE too"]


def prepare(admin_dsn: str, dsn: str, variant: str) -> None:
    """A fresh database with the shipped migrations of ``variant`` and its extra SQL."""
    last, extra = VARIANTS[variant]
    recreate_database(admin_dsn, dsn.rpartition("/")[2])
    with psycopg.connect(dsn, autocommit=True) as conn:
        for migration in available():
            if migration.version <= last:
                with conn.transaction():
                    conn.execute(migration.script)
        if extra:
            with conn.transaction():
                conn.execute(extra)


def counts_exact(conn: psycopg.Connection[Any]) -> bool:
    kept = conn.execute(
        "SELECT status, sum(cases) FROM case_status_counts GROUP BY status HAVING sum(cases) <> 0"
    ).fetchall()
    real = conn.execute(
        "SELECT status, count(*) FROM cases WHERE status IS NOT NULL GROUP BY status"
    ).fetchall()
    return {s: int(n) for s, n in kept} == {s: int(n) for s, n in real}


def bulk_insert(dsn: str, cases: int, limit_s: int, *, counted: bool) -> dict[str, Any]:
    """Seconds one INSERT ... SELECT of ``cases`` cases takes (None past ``limit_s``)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE cases CASCADE")
        conn.execute(f"SET statement_timeout = '{limit_s}s'")
        started = time.monotonic()
        try:
            conn.execute(BULK_INSERT, (cases,))
        except errors.QueryCanceled:
            return {"cases": cases, "seconds": None, "limit_s": limit_s}
        seconds = time.monotonic() - started
        exact = counts_exact(conn) if counted else None
    return {"cases": cases, "seconds": round(seconds, 2), "counts_exact": exact}


def single_rows(dsns: dict[str, str], cases: int, rounds: int, duration: int) -> dict[str, Any]:
    """Transactions per second of create.sql and status.sql on each variant, interleaved."""
    tps: dict[str, dict[str, list[float]]] = {v: {"create.sql": [], "status.sql": []} for v in dsns}
    for n in range(rounds):
        for variant, dsn in dsns.items():
            for script in ("create.sql", "status.sql"):
                tps[variant][script].append(pgbench(dsn, script, cases, 2, duration))
                log(f"round {n + 1}: {variant} {script} {tps[variant][script][-1]:.0f} tps")
    return {
        v: {script: {"runs": runs, "median": statistics.median(runs)} for script, runs in s.items()}
        for v, s in tps.items()
    }


# One write, committed, again and again inside the server: the trigger's cost per statement
# without the client, the network or pgbench's scheduling, which on a shared machine swing by
# more than the difference measured. synchronous_commit off: no disk flush per commit either.
STATEMENTS = {
    "INSERT one case": "INSERT INTO cases (id, status, data, created_at, updated_at)"
    " VALUES (gen_random_uuid(), 'new', '{{\"subject\": \"bench\"}}', now(), now())",
    "UPDATE its status": "UPDATE cases SET status = (ARRAY['open', 'in-review',"
    " 'awaiting-info'])[1 + i % 3], version = version + 1, updated_at = now()"
    " WHERE id = md5((1 + i % {seeded})::text)::uuid",
    "UPDATE keeping the status": "UPDATE cases SET version = version + 1, updated_at = now()"
    " WHERE id = md5((1 + i % {seeded})::text)::uuid",
}


def statement_costs(dsns: dict[str, str], seeded: int, rounds: int, each: int) -> dict[str, Any]:
    """Microseconds per committed single-row statement, each variant in turn, round by round;
    medians."""
    micros: dict[str, dict[str, list[float]]] = {v: {k: [] for k in STATEMENTS} for v in dsns}
    for n in range(rounds):
        for variant, dsn in dsns.items():
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("SET synchronous_commit = off")
                for kind, statement in STATEMENTS.items():
                    body = statement.format(seeded=seeded)
                    loop = f"DO $$ BEGIN FOR i IN 1..{each} LOOP {body}; COMMIT; END LOOP; END $$"
                    started = time.perf_counter()
                    conn.execute(loop.encode())
                    micros[variant][kind].append((time.perf_counter() - started) * 1e6 / each)
            log(
                f"round {n + 1}: {variant} "
                + ", ".join(f"{k} {v[-1]:.0f} us" for k, v in micros[variant].items())
            )
    return {
        v: {k: {"runs": runs, "median": statistics.median(runs)} for k, runs in s.items()}
        for v, s in micros.items()
    }


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--row-limit", type=int, default=600)
    parser.add_argument("--seeded", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--dsn", default=os.environ.get("BENCH_DSN", ADMIN_DSN))
    parser.add_argument("--database", default="taskflow_bench_bulk_load")
    parser.add_argument("--each", type=int, default=2000)
    parser.add_argument(
        "--statements-only",
        action="store_true",
        help="only the cost per single-row statement: results/bulk-load-statements.*",
    )
    args = parser.parse_args(argv)
    dsns = {v: with_database(args.dsn, f"{args.database}_{n}") for n, v in enumerate(VARIANTS)}
    result: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "load_before": uptime(),
        "cases": args.cases,
        "small": args.small,
        "seeded": args.seeded,
        "row_limit_s": args.row_limit,
        "bulk": {},
    }
    with psycopg.connect(args.dsn) as conn:
        result["machine"]["postgres"] = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    for variant, dsn in dsns.items():
        prepare(args.dsn, dsn, variant)
    if not args.statements_only:
        for variant in BULK_VARIANTS:
            counted = variant != "no count triggers"
            runs = []
            for size in (args.small, args.cases):
                log(f"bulk insert of {size:,} cases, count triggers {variant}")
                runs.append(bulk_insert(dsns[variant], size, args.row_limit, counted=counted))
                log(f"  {runs[-1]}")
            result["bulk"][variant] = runs
    single = {v: dsns[v] for v in SINGLE_VARIANTS}
    for dsn in single.values():
        bulk_insert(dsn, args.seeded, 3600, counted=True)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    if not args.statements_only:
        result["single"] = single_rows(single, args.seeded, args.rounds, args.duration)
    result["statements"] = statement_costs(single, args.seeded, args.rounds, args.each)
    result["each"] = args.each
    result["load_after"] = uptime()
    save(f"bulk-load-{'statements' if args.statements_only else args.cases}", result, render)
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        for dsn in dsns.values():
            conn.execute(f'DROP DATABASE IF EXISTS "{dsn.rpartition("/")[2]}" WITH (FORCE)')
    return 0


def render(result: dict[str, Any]) -> str:
    def seconds(run: dict[str, Any]) -> str:
        if run["seconds"] is None:
            return f"cancelled at {run['limit_s']} s"
        return f"{run['seconds']:.1f} s"

    lines = [
        f"## Bulk loading — {result['when']}",
        "",
        f"{result['machine']['cpus']} cores, {result['machine']['platform']}, PostgreSQL "
        f"{result['machine']['postgres']}. A shared machine: `uptime` before "
        f"`{result['load_before']}`, after `{result['load_after']}`.",
    ]
    if result["bulk"]:
        lines += [
            "",
            f"| count triggers | INSERT ... SELECT of {result['small']:,} "
            f"| of {result['cases']:,} | counts exact |",
            "|---|---:|---:|---|",
        ]
    for variant, (small, large) in result["bulk"].items():
        exact = {r.get("counts_exact") for r in (small, large) if r["seconds"] is not None}
        lines.append(
            f"| {variant} | {seconds(small)} | {seconds(large)} | "
            f"{'—' if exact == {None} else ('yes' if exact == {True} else 'NO')} |"
        )
    if "single" in result:
        lines += _single_rows(result)
    if "statements" in result:
        lines += _statements(result)
    return "\n".join(lines) + "\n"


def _statements(result: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"Cost per committed single-row statement, {result['each']:,} in a loop inside the "
        f"server (`DO`, `COMMIT` after each, `synchronous_commit = off`) on "
        f"{result['seeded']:,} cases; medians of the variants' interleaved rounds (each "
        "round's in brackets), and against per row:",
        "",
        "| count triggers | " + " | ".join(f"{k} | vs per row" for k in STATEMENTS) + " |",
        "|---|" + "---:|---:|" * len(STATEMENTS),
    ]
    return lines + _medians(result["statements"], list(STATEMENTS), " µs")


def _single_rows(result: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"Single-row writes, pgbench, 2 clients, on {result['seeded']:,} cases; median tps of "
        "the interleaved rounds (each round's runs in brackets), and against per row:",
        "",
        "| count triggers | create.sql (POST /) | vs per row | status.sql (PUT status) "
        "| vs per row |",
        "|---|---:|---:|---:|---:|",
    ]
    return lines + _medians(result["single"], ["create.sql", "status.sql"], "")


def _medians(measured: dict[str, Any], keys: list[str], unit: str) -> list[str]:
    """A table row per variant: each key's median, its runs, and its change against per row."""
    base = measured["per row (0009)"]
    rows = []
    for variant, got in measured.items():
        cells = []
        for key in keys:
            runs = ", ".join(f"{r:.0f}" for r in got[key]["runs"])
            change = got[key]["median"] / base[key]["median"] - 1
            cells += [f"{got[key]['median']:.0f}{unit} [{runs}]", f"{change:+.1%}"]
        rows.append(f"| {variant} | " + " | ".join(cells) + " |")
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
