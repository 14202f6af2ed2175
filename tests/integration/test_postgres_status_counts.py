"""The per-status counts of migrations/0009_status_counts.sql (inserts and deletes counted per
statement since 0016_status_counts_per_statement.sql) stay exact: under concurrent writers
moving cases both ways, with rollbacks among them, for rows written by anyone, and for
statements writing many rows at once."""

import random
import threading
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from taskflow_core import Taskflow
from taskflow_core.errors import InvalidRequest
from taskflow_postgres import PostgresStore, migrate
from taskflow_postgres.migrate import available

from .test_postgres_concurrency import run_together

pytestmark = pytest.mark.postgres

STATUSES = ["new", "open", "review", "closed"]


def kept_counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT status, sum(cases) FROM case_status_counts GROUP BY status"
            " HAVING sum(cases) <> 0"
        ).fetchall()
    return {status: int(n) for status, n in rows}


def real_counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT status, count(*) FROM cases WHERE status IS NOT NULL GROUP BY status"
        ).fetchall()
    return {status: int(n) for status, n in rows}


def listed_count(flow: Taskflow, *statuses: str) -> int:
    return int(flow.list({"status": list(statuses), "limit": 0})["meta"]["count"])


@pytest.fixture
def flow(postgres_store: PostgresStore) -> Taskflow:
    return Taskflow(postgres_store)


class TestCountsUnderConcurrentWriters:
    def test_counts_match_the_table_after_moves_both_ways_and_rollbacks(
        self, postgres_dsn: str
    ) -> None:
        store = PostgresStore(postgres_dsn, max_size=8)
        store.migrate()
        flow = Taskflow(store)

        def refuse_closing(event: Any) -> None:
            # A change this hook refuses rolls back, its counter update with it.
            if (event.data or {}).get("stuck"):
                raise InvalidRequest("this case may not close")

        flow.hook("pre-status:*:closed", refuse_closing)
        ids = [flow.create({"stuck": n % 3 == 0})["id"] for n in range(12)]
        refused = 0
        lock = threading.Lock()

        def writer(n: int) -> None:
            nonlocal refused
            rng = random.Random(n)
            for _ in range(40):
                try:
                    flow.set_status(rng.choice(ids), rng.choice(STATUSES))
                except InvalidRequest:
                    with lock:
                        refused += 1
                if rng.random() < 0.2:
                    flow.create({"stuck": False})

        try:
            run_together(writer, threads=8)
        finally:
            store.close()
        assert refused > 0  # the rollbacks this test is about did happen
        assert kept_counts(postgres_dsn) == real_counts(postgres_dsn)
        reopened = Taskflow(PostgresStore(postgres_dsn))
        for status, n in real_counts(postgres_dsn).items():
            assert listed_count(reopened, status) == n
        assert listed_count(reopened, *STATUSES) == sum(real_counts(postgres_dsn).values())


class TestCountsOfEveryWriter:
    def test_rows_written_by_plain_sql_are_counted_too(
        self, flow: Taskflow, postgres_dsn: str
    ) -> None:
        # Another program on the same tables (the original service, a script) is counted
        # by the same triggers.
        flow.create({})
        with psycopg.connect(postgres_dsn) as conn:
            conn.execute(
                "INSERT INTO cases (id, status, data, created_at, updated_at)"
                " SELECT gen_random_uuid(), 'open', '{}', now(), now() FROM generate_series(1, 5)"
            )
            conn.execute("UPDATE cases SET status = 'closed' WHERE status = 'new'")
            conn.execute(
                "UPDATE cases SET status = NULL WHERE status = 'open' AND ctid IN"
                " (SELECT ctid FROM cases WHERE status = 'open' LIMIT 1)"
            )
        assert kept_counts(postgres_dsn) == real_counts(postgres_dsn) == {"open": 4, "closed": 1}
        assert listed_count(flow, "open") == 4
        assert listed_count(flow, "open", "closed", "open") == 5

    def test_a_status_nobody_has_counts_zero(self, flow: Taskflow) -> None:
        flow.create({})
        assert listed_count(flow, "never-used") == 0
        assert flow.list({"status": "never-used"})["data"] == []


# Many cases in one statement, as an import does: statuses cycling through STATUSES and NULL.
MANY = (
    "INSERT INTO cases (id, status, data, created_at, updated_at)"
    " SELECT gen_random_uuid(), (ARRAY['new', 'open', 'review', 'closed', NULL])[1 + g %% 5],"
    " '{}', now(), now() FROM generate_series(1, %s) AS g"
)


class TestStatementsOfManyRows:
    def test_one_insert_update_and_delete_of_many_cases_each_keep_the_counts_exact(
        self, flow: Taskflow, postgres_dsn: str
    ) -> None:
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(MANY, (500,))
            assert kept_counts(postgres_dsn) == real_counts(postgres_dsn)
            assert real_counts(postgres_dsn) == dict.fromkeys(STATUSES, 100)
            # Moves every way at once: between statuses, to NULL, from NULL, and onto itself.
            conn.execute(
                "UPDATE cases SET status = CASE status WHEN 'new' THEN 'open'"
                " WHEN 'open' THEN NULL WHEN 'review' THEN 'review' ELSE status END"
            )
            conn.execute("UPDATE cases SET status = 'new' WHERE status IS NULL")
            assert kept_counts(postgres_dsn) == real_counts(postgres_dsn)
            assert real_counts(postgres_dsn) == {**dict.fromkeys(STATUSES, 100), "new": 200}
            conn.execute("DELETE FROM cases WHERE status IN ('open', 'closed')")
            assert kept_counts(postgres_dsn) == real_counts(postgres_dsn)
        assert listed_count(flow, *STATUSES) == sum(real_counts(postgres_dsn).values()) == 300

    def test_an_insert_or_delete_of_many_cases_writes_each_status_counter_once(
        self, postgres_dsn: str
    ) -> None:
        # What makes bulk loading fast: one aggregated write per status and statement, not
        # one per case (0016_status_counts_per_statement.sql).
        def counter_writes(conn: psycopg.Connection[Any]) -> int:
            row = conn.execute(
                "SELECT n_tup_ins + n_tup_upd FROM pg_stat_xact_user_tables"
                " WHERE relname = 'case_status_counts'"
            ).fetchone()
            assert row is not None
            return int(row[0])

        with psycopg.connect(postgres_dsn) as conn:
            conn.execute(MANY, (500,))
            assert counter_writes(conn) == 4
            conn.execute("DELETE FROM cases WHERE status IN ('new', 'open')")
            assert counter_writes(conn) == 6
            conn.commit()
        assert (
            kept_counts(postgres_dsn) == real_counts(postgres_dsn) == {"review": 100, "closed": 100}
        )

    def test_statements_of_many_cases_rolled_back_leave_the_counts_as_they_were(
        self, postgres_dsn: str
    ) -> None:
        def add_and_remove_then_fail(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():  # a savepoint, failing after its statements are in
                conn.execute(MANY, (100,))
                conn.execute("DELETE FROM cases WHERE status = 'open'")
                conn.execute("SELECT 1 / 0")

        each_ten = {"new": 10, "open": 10, "review": 10, "closed": 10}
        with psycopg.connect(postgres_dsn) as conn:
            conn.execute(MANY, (50,))
            with pytest.raises(psycopg.errors.DivisionByZero):
                add_and_remove_then_fail(conn)
            conn.commit()
            assert kept_counts(postgres_dsn) == real_counts(postgres_dsn) == each_ten
            conn.execute(MANY, (200,))
            conn.execute("DELETE FROM cases WHERE status = 'new'")
            conn.rollback()
        assert kept_counts(postgres_dsn) == real_counts(postgres_dsn) == each_ten

    def test_concurrent_statements_of_many_cases_keep_the_counts_exact(
        self, postgres_dsn: str
    ) -> None:
        # Each writer moves and deletes only its own cases (marked in their data), so that
        # the rows they share are the counters'.
        def writer(n: int) -> None:
            rng = random.Random(n)
            mine = Jsonb({"writer": n})
            with psycopg.connect(postgres_dsn) as conn:
                for _ in range(15):
                    conn.execute(MANY.replace("'{}'", "%s"), (mine, rng.randint(1, 60)))
                    # Opposite directions from one writer to the next.
                    moved = rng.sample(STATUSES, 2)
                    conn.execute(
                        "UPDATE cases SET status = %s WHERE data = %s AND status = %s",
                        (moved[0], mine, moved[1]),
                    )
                    conn.execute(
                        "DELETE FROM cases WHERE data = %s AND status = %s",
                        (mine, rng.choice(STATUSES)),
                    )
                    if rng.random() < 0.3:
                        conn.rollback()
                    else:
                        conn.commit()

        run_together(writer, threads=6)
        assert kept_counts(postgres_dsn) == real_counts(postgres_dsn)
        assert sum(real_counts(postgres_dsn).values()) > 0


class TestAdoption:
    def test_the_migration_counts_the_cases_already_there(
        self, postgres_empty_dsn: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A database at the release before the counts, with cases in it.
        shipped = available()
        monkeypatch.setattr(migrate, "available", lambda: [m for m in shipped if m.version < 9])
        PostgresStore(postgres_empty_dsn).migrate()
        with psycopg.connect(postgres_empty_dsn) as conn:
            conn.execute(
                "INSERT INTO cases (id, status, data, created_at, updated_at)"
                " SELECT gen_random_uuid(), s, '{}', now(), now()"
                " FROM unnest(array['open', 'open', 'closed', NULL]) AS s"
            )
        monkeypatch.undo()
        assert PostgresStore(postgres_empty_dsn).migrate() == [
            m.name for m in shipped if m.version >= 9
        ]
        assert kept_counts(postgres_empty_dsn) == {"open": 2, "closed": 1}


class TestWritersDoNotWaitForEachOther:
    def test_a_transaction_left_open_holds_up_no_other_writer_of_its_status(
        self, flow: Taskflow, postgres_dsn: str
    ) -> None:
        insert = (
            "INSERT INTO cases (id, status, data, created_at, updated_at)"
            " VALUES (gen_random_uuid(), 'open', '{}', now(), now())"
        )
        with psycopg.connect(postgres_dsn) as first:
            first.execute(insert)  # and left open
            for _ in range(20):
                with psycopg.connect(postgres_dsn) as other:
                    other.execute("SET lock_timeout = '2s'")
                    other.execute(insert)
                    other.commit()
            first.commit()
        assert kept_counts(postgres_dsn) == real_counts(postgres_dsn) == {"open": 21}
