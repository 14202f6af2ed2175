"""PostgresStore through PgBouncer in transaction pooling mode (SPEC §12): the switch, and
what each part of it prevents, shown failing without it on a real PgBouncer."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import falcon.testing
import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import make_conninfo

from taskflow_cli.main import cli
from taskflow_compose import store_from_url
from taskflow_compose.environment import PGBOUNCER_ENV
from taskflow_core import Taskflow
from taskflow_core.errors import PreconditionFailed, StoreUnavailable
from taskflow_falcon import create_app
from taskflow_postgres import PostgresStore
from taskflow_postgres.migrate import available
from taskflow_postgres.pgbouncer import take_switch
from tests.support.hold_transaction import HeldTransaction
from tests.support.pgbouncer import PgBouncer
from tests.support.tcp_proxy import TcpProxy
from tests.support.threads import run_together

pytestmark = pytest.mark.postgres


def session_count(direct_dsn: str, query_like: str) -> int:
    """How many server sessions of the test's database last ran a statement like this."""
    with psycopg.connect(direct_dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND query ILIKE %s AND pid <> pg_backend_pid()",
            (query_like,),
        ).fetchone()
    return int(row[0]) if row else 0


def prepared_on_server(store: PostgresStore) -> int:
    with store.unit_of_work() as uow:
        conn = uow._connection()
        row = conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    return int(row[0]) if row else 0


class TestTheSwitch:
    def test_the_url_parameter_is_taken_off_and_the_others_kept_as_they_were(self) -> None:
        url = "postgresql://u@db:6432/app?sslmode=disable&pgbouncer=true&application_name=a+b"
        assert take_switch(url) == (
            "postgresql://u@db:6432/app?sslmode=disable&application_name=a+b",
            True,
        )
        assert take_switch("postgresql://u@db/app?pgbouncer=false") == (
            "postgresql://u@db/app",
            False,
        )
        assert take_switch("host=db dbname=app") == ("host=db dbname=app", False)

    def test_a_value_other_than_true_or_false_is_refused(self) -> None:
        with pytest.raises(ValueError, match="pgbouncer=maybe"):
            PostgresStore("postgresql://u@db/app?pgbouncer=maybe")

    def test_a_url_with_the_parameter_connects_which_libpq_alone_refuses(
        self, postgres_dsn: str
    ) -> None:
        with pytest.raises(psycopg.ProgrammingError, match="pgbouncer"):
            psycopg.connect(postgres_dsn + "?pgbouncer=true")
        store = PostgresStore(postgres_dsn + "?pgbouncer=true", max_size=1)
        try:
            assert store.pgbouncer
            store.migrate()
            assert Taskflow(store).create({"a": 1})["data"] == {"a": 1}
        finally:
            store.close()

    def test_the_keyword_and_the_environment_turn_it_on(
        self, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert PostgresStore(postgres_dsn, pgbouncer=True).pgbouncer
        assert not PostgresStore(postgres_dsn).pgbouncer
        assert not store_from_url(postgres_dsn).pgbouncer  # type: ignore[attr-defined]
        monkeypatch.setenv(PGBOUNCER_ENV, "1")
        assert store_from_url(postgres_dsn).pgbouncer  # type: ignore[attr-defined]

    def test_notify_is_refused_with_it_since_listen_needs_a_session(self) -> None:
        with pytest.raises(ValueError, match="LISTEN"):
            PostgresStore("postgresql://u@db/app", pgbouncer=True, notify=True)

    def test_no_statement_is_prepared_on_the_server(self, postgres_dsn: str) -> None:
        stores = {
            mode: PostgresStore(postgres_dsn, max_size=1, pgbouncer=mode) for mode in (False, True)
        }
        try:
            stores[False].migrate()
            for store in stores.values():
                flow = Taskflow(store)
                case_id = flow.create({"n": 0})["id"]
                for n in range(8):  # psycopg prepares a statement on its fifth run
                    flow.update(case_id, {"n": n})
                    flow.get(case_id)
            # Without the switch psycopg prepares; so the zero below could have failed.
            assert prepared_on_server(stores[False]) > 0
            assert prepared_on_server(stores[True]) == 0
        finally:
            for store in stores.values():
                store.close()

    def test_readers_waiting_for_changes_poll_instead_of_listening(self, postgres_dsn: str) -> None:
        listening = PostgresStore(postgres_dsn)
        polling = PostgresStore(postgres_dsn, pgbouncer=True)
        try:
            polling.wait_for_changes(0.3)
            assert session_count(postgres_dsn, "LISTEN%") == 0
            deadline = time.monotonic() + 10
            while session_count(postgres_dsn, "LISTEN%") == 0 and time.monotonic() < deadline:
                listening.wait_for_changes(0.2)
            # The default does LISTEN, and the count above would have seen it.
            assert session_count(postgres_dsn, "LISTEN%") == 1
        finally:
            listening.close()
            polling.close()


class TestThroughPgBouncer:
    def test_prepared_statements_break_once_clients_share_server_sessions(
        self, pgbouncer: PgBouncer, postgres_dsn: str
    ) -> None:
        """Why the switch exists: psycopg names its prepared statements per connection
        (_pg3_0, _pg3_1...), and PgBouncer hands one server session to many connections."""

        def failures(prepare_threshold: int | None) -> int:
            conns = [
                psycopg.connect(pgbouncer.dsn(postgres_dsn), prepare_threshold=prepare_threshold)
                for _ in range(4)
            ]
            failed = 0
            for n in range(10):
                for i, conn in enumerate(conns):
                    try:
                        with conn.transaction():
                            # A different statement per client, so that a name clashes.
                            conn.execute(f"SELECT %s::int + {i}", (n,)).fetchone()
                    except psycopg.Error:
                        failed += 1
            for conn in conns:
                conn.close()
            return failed

        assert failures(prepare_threshold=0) > 0
        assert failures(prepare_threshold=None) == 0

    def test_two_stores_share_two_server_sessions_without_a_failure_or_a_lost_update(
        self, pgbouncer_dsn: str
    ) -> None:
        stores = [PostgresStore(pgbouncer_dsn, max_size=4) for _ in range(2)]
        flows = [Taskflow(store) for store in stores]
        try:
            stores[0].migrate()
            case_id = flows[0].create({"count": 0})["id"]

            def increment(n: int) -> None:
                flow = flows[n % 2]
                for _ in range(10):
                    while True:  # optimistic concurrency: read, write at that version
                        case = flow.get(case_id)
                        data = {"count": case["data"]["count"] + 1}
                        try:
                            flow.update(case_id, data, expected_version=case["version"])
                            break
                        except PreconditionFailed:
                            continue

            run_together(increment, 8)
            assert flows[1].get(case_id)["data"]["count"] == 80
        finally:
            for store in stores:
                store.close()

    def test_without_the_switch_the_same_load_fails(
        self, pgbouncer: PgBouncer, postgres_dsn: str
    ) -> None:
        stores = [
            PostgresStore(pgbouncer.url(postgres_dsn), max_size=4, notify=False) for _ in range(2)
        ]
        flows = [Taskflow(store) for store in stores]
        try:
            stores[0].migrate()
            case_id = flows[0].create({"count": 0})["id"]

            errors: list[Exception] = []

            def read(n: int) -> None:
                for _ in range(20):
                    try:
                        flows[n % 2].get(case_id)
                    except Exception as error:
                        errors.append(error)

            run_together(read, 8)
            # A name prepared by another client on that session, or a statement missing
            # from it; or worse, another client's statement run with these parameters.
            assert any("prepared statement" in str(error) for error in errors), errors
        finally:
            for store in stores:
                store.close()

    def test_timestamps_are_utc_whatever_zone_the_server_sessions_are_in(
        self, pgbouncer: PgBouncer, postgres_dsn: str, pgbouncer_dsn: str
    ) -> None:
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            name = conn.info.dbname
            conn.execute(f"ALTER DATABASE \"{name}\" SET timezone = 'Asia/Kathmandu'")
        # Another client of the same PgBouncer leaves a third zone on a server session.
        with psycopg.connect(pgbouncer.dsn(postgres_dsn), autocommit=True) as other:
            other.execute("SET TIME ZONE 'America/St_Johns'")
        store = PostgresStore(pgbouncer_dsn, max_size=2)
        try:
            store.migrate()
            flow = Taskflow(store)
            before = datetime.now(UTC)
            created = flow.create({"a": 1})
            flow.comment(created["id"], "noted")
            case = flow.get(created["id"])
            with store.unit_of_work(read_only=True) as uow:
                row = uow.cases.get(created["id"])
        finally:
            store.close()
        assert row is not None
        assert row.created_at.utcoffset() == timedelta(0)
        assert abs(row.created_at - before) < timedelta(minutes=1)
        stamps = [case["createdAt"], *(entry["createdAt"] for entry in case["activityLog"])]
        assert all(
            stamp == created["createdAt"] or stamp >= created["createdAt"] for stamp in stamps
        )
        assert all(stamp.endswith(("Z", "+00:00")) for stamp in stamps), stamps

    def test_migrations_run_through_pgbouncer_from_two_processes_at_once(
        self, pgbouncer_empty_dsn: str
    ) -> None:
        applied: list[str] = []

        def migrate(n: int) -> None:
            store = PostgresStore(pgbouncer_empty_dsn, max_size=1)
            try:
                applied.extend(store.migrate())
            finally:
                store.close()

        run_together(migrate, 2)
        # One applied them all; the other waited for its lock, then found nothing to do.
        assert applied == [migration.name for migration in available()]

    def test_taskflow_migrate_takes_the_switch_from_the_url(self, pgbouncer_empty_dsn: str) -> None:
        result = CliRunner().invoke(cli, ["migrate", "--dsn", pgbouncer_empty_dsn])
        assert result.exit_code == 0, result.output
        assert "0001_original_schema" in result.output
        assert "pgbouncer" not in result.output


@pytest.fixture
def pgbouncer_flow(pgbouncer_store: PostgresStore) -> Taskflow:
    return Taskflow(pgbouncer_store)


def test_a_feed_reader_waiting_through_pgbouncer_sees_a_change_made_meanwhile(
    pgbouncer_flow: Taskflow, postgres_dsn: str
) -> None:
    head = pgbouncer_flow.changes()["meta"]["next"]
    created: list[Any] = []

    def create_later() -> None:
        try:
            created.append(pgbouncer_flow.create({"late": True}))
        except Exception as exc:  # reported by the assertion below, not lost in a thread
            created.append(exc)

    writer = threading.Timer(0.3, create_later)
    writer.start()
    started = time.monotonic()
    page = pgbouncer_flow.changes(head, wait=30)
    waited = time.monotonic() - started
    writer.join()
    assert len(created) == 1, created
    assert isinstance(created[0], dict), created
    # Woken by the change (by polling: no LISTEN through PgBouncer), not by the deadline;
    # and not held back by other transactions on the server (taskflow_postgres/changes.py).
    assert waited < 5, waited
    assert [item["caseId"] for item in page["data"]] == [created[0]["id"]]
    assert [item["entry"]["eventName"] for item in page["data"]] == ["create"]


def test_a_feed_reader_through_pgbouncer_is_not_held_back_by_another_database(
    pgbouncer_flow: Taskflow, postgres_dsn: str
) -> None:
    head = pgbouncer_flow.changes()["meta"]["next"]
    with HeldTransaction(make_conninfo(postgres_dsn, dbname="postgres")) as stranger:
        created = pgbouncer_flow.create({})
        started = time.monotonic()
        page = pgbouncer_flow.changes(head, wait=10)
        waited = time.monotonic() - started
        assert stranger.still_open()
    assert [item["caseId"] for item in page["data"]] == [created["id"]]
    assert waited < 1, waited


def test_due_timers_fire_once_through_pgbouncer(pgbouncer_flow: Taskflow) -> None:
    fired: list[Any] = []
    pgbouncer_flow.hook("create", lambda event: event.set_timer("t", timedelta(0)))
    pgbouncer_flow.hook("timer:t", lambda event: fired.append(event))
    for n in range(5):
        pgbouncer_flow.create({"n": n})
    run_together(lambda n: [pgbouncer_flow.run_due_timers() for _ in range(3)], 3)
    assert len(fired) == 5


class TestAnOutage:
    """PostgreSQL away behind PgBouncer: PgBouncer still accepts connections, so the store
    learns of the outage from a statement, and then fails fast as it does direct."""

    def test_requests_fail_fast_while_postgresql_is_away_and_are_served_once_it_is_back(
        self, postgres_dsn: str, postgres_proxy: TcpProxy
    ) -> None:
        # PgBouncer -> proxy -> PostgreSQL: stopping the proxy takes PostgreSQL away.
        with PgBouncer("127.0.0.1", postgres_proxy.port, query_wait_timeout=2) as bouncer:
            store = PostgresStore(bouncer.url(postgres_dsn) + "?pgbouncer=true", timeout=2)
            try:
                store.migrate()
                flow = Taskflow(store)
                case_id = flow.create({"a": 1})["id"]
                postgres_proxy.stop()

                took = []
                for _ in range(4):
                    started = time.monotonic()
                    with pytest.raises(StoreUnavailable):
                        flow.get(case_id)
                    took.append(time.monotonic() - started)
                # The first waits out PgBouncer's query_wait_timeout; the others are told
                # at once, without a connection attempt each.
                assert took[0] < 4, took
                assert max(took[1:]) < 1, took

                postgres_proxy.start()
                deadline = time.monotonic() + 15
                while True:
                    try:
                        assert flow.get(case_id)["data"] == {"a": 1}
                        break
                    except StoreUnavailable:
                        assert time.monotonic() < deadline, "not served again within 15 s"
                        time.sleep(0.2)
            finally:
                store.close()


class TestAFullQueue:
    """Every server connection of PgBouncer's pool busy: a request waits in PgBouncer's queue
    until its ``query_wait_timeout``, then is answered 503 with Retry-After, within the
    store's own timeout; never a hang."""

    def test_a_request_queued_past_query_wait_timeout_answers_503_in_time(
        self, postgres_server: Any, postgres_dsn: str
    ) -> None:
        with PgBouncer(
            postgres_server.host, int(postgres_server.port), pool_size=1, query_wait_timeout=1
        ) as bouncer:
            url = bouncer.url(postgres_dsn)
            store = PostgresStore(url + "?pgbouncer=true", timeout=5)
            client = falcon.testing.TestClient(create_app(Taskflow(store)))
            case_id = client.simulate_post("/", json={"a": 1}).json["data"]["id"]
            # The pool's one server connection, held by a transaction left open.
            with psycopg.connect(url) as holder:
                holder.execute("SELECT 1")
                started = time.monotonic()
                result = client.simulate_get(f"/{case_id}")
                took = time.monotonic() - started
            try:
                assert result.status_code == 503, result.text
                assert result.headers["retry-after"]
                assert "query_wait_timeout" not in result.text  # the reason is the log's
                assert took < 5, took
                # Once the connection is free again, the same store serves at once.
                deadline = time.monotonic() + 10
                while client.simulate_get(f"/{case_id}").status_code != 200:
                    assert time.monotonic() < deadline, "not served again within 10 s"
                    time.sleep(0.2)
            finally:
                store.close()
