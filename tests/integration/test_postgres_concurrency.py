"""Concurrent requests on one case serialise on its row lock: nothing is lost, the log is whole."""

import psycopg
import pytest

from taskflow_core import Taskflow
from taskflow_postgres import PostgresStore
from taskflow_postgres.migrate import available
from tests.support.threads import run_together

pytestmark = pytest.mark.postgres

THREADS = 8
ROUNDS = 6
STATUSES = ["open", "review", "closed"]


class TestOneCaseHammered:
    def test_every_data_merge_and_status_change_is_kept_and_logged_in_a_chain(
        self, postgres_dsn: str
    ) -> None:
        # Fewer connections than threads: requests also wait for the pool, never deadlock.
        store = PostgresStore(postgres_dsn, max_size=4)
        store.migrate()
        flow = Taskflow(store)
        case_id = flow.create({"start": True})["id"]

        def hammer(n: int) -> None:
            for r in range(ROUNDS):
                # A merge that read a stale case would drop keys another thread added.
                flow.update(case_id, {f"thread-{n}": {f"round-{r}": True}})
                flow.set_status(case_id, STATUSES[(n + r) % len(STATUSES)])

        run_together(hammer, THREADS)

        case = flow.get(case_id)
        store.close()
        expected = {
            f"thread-{n}": {f"round-{r}": True for r in range(ROUNDS)} for n in range(THREADS)
        }
        assert case["data"] == {"start": True, **expected}
        log = list(reversed(case["activityLog"]))  # oldest first
        assert len(log) == 1 + THREADS * ROUNDS * 2
        changes = [e["event"]["meta"] for e in log if e["eventName"].startswith("status:")]
        assert len(changes) == THREADS * ROUNDS
        # Each change starts from the status the one before it ended with.
        assert [c["previous"] for c in changes] == ["new"] + [c["next"] for c in changes[:-1]]
        assert case["status"] == changes[-1]["next"]
        times = [e["createdAt"] for e in log]
        assert times == sorted(times)


class TestMigratingAtOnce:
    def test_two_processes_migrating_together_both_succeed_and_apply_each_once(
        self, postgres_empty_dsn: str
    ) -> None:
        def migrate(n: int) -> list[str]:
            store = PostgresStore(postgres_empty_dsn)
            try:
                return store.migrate()
            finally:
                store.close()

        results = run_together(migrate, threads=2)

        # One did the work while the other waited on the lock, then found nothing to do.
        assert sorted(results, key=len) == [
            [],
            [migration.name for migration in available()],
        ]
        with psycopg.connect(postgres_empty_dsn) as conn:
            versions = conn.execute("select version from taskflow_migrations order by 1")
            assert versions.fetchall() == [(migration.version,) for migration in available()]
