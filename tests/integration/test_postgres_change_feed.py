"""The change feed on PostgreSQL, where transactions commit in another order than they began:
what the sequencer saves a reader from, per-case order under lock waits, LISTEN/NOTIFY, and
relays that never wait for each other."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from taskflow_core import Taskflow
from taskflow_core.domain.model import ActivityEntry, Case, Delivery, Position, Webhook, new_id
from taskflow_postgres import PostgresStore
from taskflow_postgres.activity import PostgresActivityRepository
from taskflow_postgres.cases import PostgresCaseRepository
from taskflow_postgres.changes import CHANNEL, PostgresChangeRepository
from tests.receiver import eventually

pytestmark = pytest.mark.postgres

NOW = datetime.now(UTC)


class Writer:
    """A transaction on a raw connection of its own, writing as a request does."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn)
        self.conn.adapters.register_loader("uuid", psycopg.types.string.TextLoader)
        self.cases = PostgresCaseRepository(self.conn)
        self.activity = PostgresActivityRepository(self.conn)
        self.changes = PostgresChangeRepository(self.conn)

    def xid(self) -> int:
        row = self.conn.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        assert row is not None
        return int(row[0])

    def new_case(self) -> Case:
        case = Case(
            id=new_id(), status="new", data={}, assigned_to=None, created_at=NOW, updated_at=NOW
        )
        self.cases.add(case)
        self.log(case.id)
        return case

    def log(self, case_id: str) -> ActivityEntry:
        self.cases.get(case_id, lock=True)
        entry = ActivityEntry(
            id=new_id(),
            case_id=case_id,
            changed_by=None,
            event_name="comment",
            event={},
            comment=None,
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
        )
        self.activity.add(entry)
        return entry

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def writers(postgres_dsn: str, postgres_store: PostgresStore) -> Iterator[list[Writer]]:
    opened = [Writer(postgres_dsn) for _ in range(2)]
    yield opened
    for writer in opened:
        writer.close()


def naive_read(dsn: str, after: int) -> list[tuple[int, str]]:
    """What a reader going by the rows' ids would get: every committed row after its cursor."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT id, entry_id::text FROM change_feed WHERE id > %s ORDER BY id", (after,)
        ).fetchall()
    return [(int(i), str(e)) for i, e in rows]


def feed_entries(flow: Taskflow, after: str | None = None) -> list[str]:
    return [item["entry"]["id"] for item in flow.changes(after, limit=1000)["data"]]


class TestTheSequencer:
    def test_an_entry_committed_after_a_later_one_was_read_is_not_skipped(
        self, postgres_dsn: str, postgres_store: PostgresStore, writers: list[Writer]
    ) -> None:
        flow = Taskflow(postgres_store)
        early, late = writers
        a_case = early.new_case()  # A begins and writes ...
        a_entries = {e.id for e in early.activity.for_case(a_case.id)}
        b_case = late.new_case()  # ... B writes and commits while A is still open
        late.commit()
        b_entries = [e.id for e in late.activity.for_case(b_case.id)]

        # A reader going by the rows' ids sees B's entry and moves its cursor past the place
        # A's entry took:
        naive = naive_read(postgres_dsn, 0)
        assert [entry for _, entry in naive] == b_entries
        naive_cursor = naive[-1][0]
        # The feed serves B's entry at once, A still running (changes.py: a position is
        # given after commit):
        page = flow.changes()
        assert [item["entry"]["id"] for item in page["data"]] == b_entries

        early.commit()  # A commits

        assert naive_read(postgres_dsn, naive_cursor) == []  # A's entry: skipped for good
        eventually(lambda: len(feed_entries(flow, page["meta"]["next"])) == 1)
        assert set(feed_entries(flow, page["meta"]["next"])) == a_entries

    def test_a_case_written_after_waiting_for_its_lock_follows_the_earlier_write(
        self, postgres_store: PostgresStore, writers: list[Writer]
    ) -> None:
        flow = Taskflow(postgres_store)
        setup = Writer(writers[0].conn.info.dsn)
        shared = setup.new_case()
        setup.commit()
        setup.close()
        second, first = writers
        second.new_case()  # the transaction committing second writes the feed first ...
        second_xid = second.xid()
        first_entry = first.log(shared.id)  # ... the other locks the shared case first
        first_xid = first.xid()
        assert second_xid < first_xid
        waited: list[ActivityEntry] = []
        waiting = threading.Thread(target=lambda: waited.append(second.log(shared.id)))
        waiting.start()
        time.sleep(0.3)
        assert waiting.is_alive()  # queued on the case's lock
        first.commit()
        waiting.join(10)
        second.commit()

        def in_feed() -> list[str]:
            return [
                item["entry"]["id"]
                for item in flow.changes(limit=1000)["data"]
                if item["caseId"] == shared.id
            ]

        eventually(lambda: len(in_feed()) == 3)
        assert in_feed()[1:] == [first_entry.id, waited[0].id]


class TestWaiting:
    def test_a_waiting_reader_holds_no_pooled_connection(self, postgres_dsn: str) -> None:
        store = PostgresStore(postgres_dsn, min_size=1, max_size=1, timeout=3)
        store.migrate()
        try:
            flow = Taskflow(store)
            answers: list[dict[str, Any]] = []
            reader = threading.Thread(target=lambda: answers.append(flow.changes(wait=15)))
            reader.start()
            time.sleep(0.5)
            started = time.monotonic()
            case = flow.create({})  # needs the pool's only connection
            assert time.monotonic() - started < 2.5
            reader.join(20)
            assert [item["caseId"] for item in answers[0]["data"]] == [case["id"]]
        finally:
            store.close()

    def test_a_commit_wakes_a_waiting_reader_through_listen_and_notify(
        self, postgres_store: PostgresStore
    ) -> None:
        flow = Taskflow(postgres_store)
        postgres_store.wait_for_changes(0.01)  # starts listening
        time.sleep(0.5)
        threading.Timer(0.2, flow.create, ({},)).start()
        started = time.monotonic()
        postgres_store.wait_for_changes(10)
        # Sooner than a reader looks again by itself (once a second).
        assert time.monotonic() - started < 0.95

    @pytest.mark.parametrize("notify", [True, False])
    def test_writers_notify_unless_told_not_to(self, postgres_dsn: str, notify: bool) -> None:
        store = PostgresStore(postgres_dsn, notify=notify)
        store.migrate()
        try:
            with psycopg.connect(postgres_dsn, autocommit=True) as listener:
                listener.execute(f"LISTEN {CHANNEL}")
                Taskflow(store).create({})
                heard = list(listener.notifies(timeout=1.0))
            assert len(heard) == (1 if notify else 0)
            waited = time.monotonic()
            store.wait_for_changes(0.6)
            assert time.monotonic() - waited < 1.5
            assert Taskflow(store).changes(wait=5)["data"]
        finally:
            store.close()

    def test_the_notify_comes_after_the_commit_from_a_connection_of_its_own(
        self, postgres_store: PostgresStore, postgres_dsn: str
    ) -> None:
        # Not from the writer's transaction, which would then commit only in its turn with
        # every other notifying writer (taskflow_postgres/sequencer.py).
        with psycopg.connect(postgres_dsn, autocommit=True) as listener:
            listener.execute(f"LISTEN {CHANNEL}")
            case = Case(
                id=new_id(), status="new", data={}, assigned_to=None, created_at=NOW, updated_at=NOW
            )
            with postgres_store.unit_of_work() as uow:
                writer = uow._connection().info.backend_pid
                uow.cases.add(case)
                uow.activity.add(an_entry_of(case))
                assert list(listener.notifies(timeout=0.3)) == []
                uow.commit()
            heard = list(listener.notifies(timeout=2.0))
        assert len(heard) == 1
        assert heard[0].pid != writer


def an_entry_of(case: Case) -> ActivityEntry:
    return ActivityEntry(
        id=new_id(),
        case_id=case.id,
        changed_by=None,
        event_name="create",
        event={},
        comment=None,
        created_at=NOW,
        updated_at=NOW,
    )


class TestRelaysSkipEachOther:
    def test_a_webhook_being_fanned_out_is_skipped_by_other_relays(
        self, postgres_store: PostgresStore
    ) -> None:
        with postgres_store.unit_of_work() as uow:
            uow.webhooks.register(Webhook(url="http://127.0.0.1:9/a", events=("*",)))
            uow.webhooks.register(Webhook(url="http://127.0.0.1:9/b", events=("*",)))
            uow.commit()
        with postgres_store.unit_of_work() as first:
            assert len(first.webhooks.claim_all()) == 2
            with postgres_store.unit_of_work() as second:
                started = time.monotonic()
                assert second.webhooks.claim_all() == []
                assert time.monotonic() - started < 1

    def test_two_relays_claiming_at_once_take_different_deliveries(
        self, postgres_store: PostgresStore, writers: list[Writer]
    ) -> None:
        url = "http://127.0.0.1:9/a"
        cases = [writers[0].new_case() for _ in range(2)]
        writers[0].commit()
        with postgres_store.unit_of_work() as uow:
            uow.webhooks.register(Webhook(url=url, events=("*",)))
            uow.deliveries.enqueue(
                [
                    Delivery(
                        id=new_id(),
                        webhook_url=url,
                        change=Position(1, n),
                        case_id=case.id,
                        event_name="create",
                        created_at=NOW,
                        next_attempt_at=NOW,
                    )
                    for n, case in enumerate(cases)
                ]
            )
            uow.commit()
        until = NOW + timedelta(minutes=1)
        with postgres_store.unit_of_work() as first, postgres_store.unit_of_work() as second:
            one = first.deliveries.claim_next(NOW, new_id(), until)
            other = second.deliveries.claim_next(NOW, new_id(), until)
            assert one is not None
            assert other is not None
            assert one.id != other.id
            assert second.deliveries.claim_next(NOW, new_id(), until) is None
