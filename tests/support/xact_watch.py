"""Watch the server for transactions held open long, and say which test held each.

Run beside the suite (``python -m tests.support.xact_watch --seconds 10``): every second it
lists the sessions of the server whose transaction holds a transaction id (``backend_xid``)
and began more than ``--seconds`` ago, with the ``application_name`` the suite gives each
test's connections (tests/conftest.py names them after the test) and the last statement.
A transaction id held that long holds back every feed reader whose snapshot must wait for it
(taskflow_postgres/changes.py), so the suite should hold none.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import psycopg

QUERY = """
SELECT pid, datname, application_name, state,
       extract(epoch FROM now() - xact_start)::int AS held, left(query, 200)
FROM pg_stat_activity
WHERE backend_xid IS NOT NULL AND xact_start < now() - make_interval(secs => %s)
  AND pid <> pg_backend_pid()
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--dsn", default=os.environ.get("TASKFLOW_WATCH_DSN", ""))
    args = parser.parse_args()
    seen: dict[int, int] = {}
    with psycopg.connect(args.dsn or "dbname=postgres", autocommit=True) as conn:
        while True:
            for pid, db, app, state, held, query in conn.execute(QUERY, [args.seconds]):
                if seen.get(pid) != held // 10:
                    seen[pid] = held // 10
                    print(f"pid={pid} db={db} held={held}s app={app!r} state={state} {query!r}")
                    sys.stdout.flush()
            time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
