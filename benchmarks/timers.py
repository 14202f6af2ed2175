"""The timer sweep's cost with many pending timers: `python -m benchmarks.timers`.

Seeds --pending timers due next year and --due timers due an hour ago (one case each), then
times `flow.run_due_timers()` firing the due ones (each in its own transaction, with its
activity entry), and shows the plan of the statement that claims the next due timer.
"""

from __future__ import annotations

import argparse
import sys
import time

import psycopg

from taskflow_core import Taskflow
from taskflow_postgres import PostgresStore
from taskflow_postgres.timers import _CLAIM

from .run import log, recreate_database, with_database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--database", default="taskflow_timers_bench")
    args = parser.parse_args(argv)

    dsn = with_database(args.dsn, args.database)
    recreate_database(args.dsn, args.database)
    store = PostgresStore(dsn)
    store.migrate()
    started = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        total = args.pending + args.due
        conn.execute(
            "INSERT INTO cases (id, status, data, created_at, updated_at)"
            " SELECT md5(n::text)::uuid, 'open', '{}'::jsonb, now(), now()"
            " FROM generate_series(1, %s) AS n",
            (total,),
        )
        conn.execute(
            "INSERT INTO timers (case_id, name, due, fire_at)"
            " SELECT md5(n::text)::uuid, 'deadline', t, t FROM ("
            "  SELECT n, CASE WHEN n <= %s THEN now() - interval '1 hour'"
            "  ELSE now() + interval '1 year' END AS t FROM generate_series(1, %s) AS n) AS s",
            (args.due, total),
        )
        conn.execute("VACUUM ANALYZE cases, timers")
        plan = conn.execute(
            b"EXPLAIN (ANALYZE, BUFFERS) " + _CLAIM,  # type: ignore[arg-type]
            ("now",),
        ).fetchall()
    log(
        f"seeded {args.pending:,} pending and {args.due:,} due timers in "
        f"{time.monotonic() - started:.1f}s"
    )
    print("\n".join(row[0] for row in plan))

    flow = Taskflow(store)
    started = time.monotonic()
    fired = flow.run_due_timers()
    took = time.monotonic() - started
    print(f"fired {fired} timers in {took:.2f}s: {took / max(fired, 1) * 1000:.2f} ms each")
    started = time.monotonic()
    idle = flow.run_due_timers()
    print(
        f"an idle sweep (nothing due) took {(time.monotonic() - started) * 1000:.2f} ms "
        f"(fired {idle})"
    )
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
