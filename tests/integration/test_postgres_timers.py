"""Timers on PostgreSQL: several sweepers at once fire each timer exactly once, and finding
what is due stays an index range scan with many pending timers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from taskflow_postgres import PostgresStore
from taskflow_postgres.timers import _CLAIM

pytestmark = pytest.mark.postgres

DUE_TIMERS = 1000
SEED_BATCH = 5000


def seed(dsn: str, due: int, pending: int = 0) -> None:
    """``due`` cases with a timer due an hour ago, and ``pending`` more due next year."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        # In batches, each its own short transaction: one statement inserting 100,000 cases
        # held a transaction id for a minute on a busy server, and every feed reader of the
        # server waits for such a holder (tests/support/xact_watch.py found it).
        for start in range(0, due + pending, SEED_BATCH):
            conn.execute(
                """
                INSERT INTO cases (id, status, data, created_at, updated_at)
                SELECT gen_random_uuid(), 'new', '{}'::jsonb, now(), now()
                FROM generate_series(1, %s)
                """,
                (min(SEED_BATCH, due + pending - start),),
            )
        conn.execute(
            """
            INSERT INTO timers (case_id, name, due, fire_at)
            SELECT id, 'deadline', t, t FROM (
                SELECT id, CASE WHEN row_number() OVER (ORDER BY id) <= %s
                    THEN now() - interval '1 hour' ELSE now() + interval '1 year' END AS t
                FROM cases
            ) AS c
            """,
            (due,),
        )
        conn.execute("ANALYZE cases")
        conn.execute("ANALYZE timers")


def test_three_sweepers_at_once_fire_each_due_timer_exactly_once(
    postgres_dsn: str, tmp_path: Path
) -> None:
    store = PostgresStore(postgres_dsn)
    store.migrate()
    store.close()
    seed(postgres_dsn, DUE_TIMERS)
    taskflow = str(Path(sys.executable).with_name("taskflow"))
    command = [taskflow, "timers", "--once", "--dsn", postgres_dsn]
    # Nothing of this process's configuration (another test's TASKFLOW_APP, say) may leak.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKFLOW_")}
    sweepers = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [sweeper.communicate(timeout=120) for sweeper in sweepers]
    assert [s.returncode for s in sweepers] == [0, 0, 0], outputs

    fired_counts = [int(out.split()[1]) for out, _ in outputs]
    assert sum(fired_counts) == DUE_TIMERS
    with psycopg.connect(postgres_dsn) as conn:
        per_case = conn.execute(
            "SELECT count(*) FROM activity_log WHERE event_name = 'timer:deadline'"
            " GROUP BY case_id HAVING count(*) <> 1"
        ).fetchall()
        entries = conn.execute(
            "SELECT count(*) FROM activity_log WHERE event_name = 'timer:deadline'"
        ).fetchone()
        left = conn.execute("SELECT count(*) FROM timers").fetchone()
    assert per_case == []
    assert entries == (DUE_TIMERS,)
    assert left == (0,)


def test_finding_the_next_due_timer_reads_the_index_not_the_table(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn)
    store.migrate()
    store.close()
    seed(postgres_dsn, due=100, pending=100_000)
    with psycopg.connect(postgres_dsn) as conn:
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                b"EXPLAIN " + _CLAIM,
                ("2100-01-01T00:00:00+00:00",),  # type: ignore[arg-type]
            )
        )
    assert "timers_fire_at_index" in plan, plan
    assert "Seq Scan on timers" not in plan, plan
