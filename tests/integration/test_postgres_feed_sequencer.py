"""The change feed's sequencer on PostgreSQL (taskflow_postgres/changes.py): a transaction
left open elsewhere, in another database or on another table of this one, holds back
neither the feed nor a webhook; steps running at once or killed half-way lose nothing and
give no position twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from taskflow_cli.relay import run as run_relay
from taskflow_core import Taskflow
from taskflow_postgres import PostgresStore
from taskflow_postgres.changes import sequence
from tests.integration.test_postgres_change_feed import Writer
from tests.receiver import Receiver, eventually, receiving
from tests.support.hold_transaction import HeldTransaction
from tests.support.threads import run_together

pytestmark = pytest.mark.postgres

# How late an entry may reach a waiting reader, or its webhook, while a stranger's
# transaction is open (issue 24).
MOST_DELAY = 1.0
WRITES = 6


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as receiver:
        yield receiver


def snapshot_xmin(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        query = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
        row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def feed_rows(dsn: str) -> list[tuple[int, int | None]]:
    """Every feed row's (id, seq), in id order."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT id, seq FROM change_feed ORDER BY id").fetchall()
    return [(int(i), None if s is None else int(s)) for i, s in rows]


def write_cases(dsn: str, count: int) -> list[str]:
    """Cases written and committed as a request does, by a process that then dies before
    its sequencer runs: nothing pokes a step."""
    writer = Writer(dsn)
    try:
        ids = []
        for _ in range(count):
            ids.append(writer.new_case().id)
            writer.commit()
        return ids
    finally:
        writer.close()


class TestStrangers:
    @pytest.mark.parametrize("where", ["another database", "this database, another table"])
    def test_a_transaction_left_open_holds_back_neither_the_feed_nor_a_webhook(
        self, where: str, postgres_dsn: str, postgres_store: PostgresStore, receiver: Receiver
    ) -> None:
        if where == "another database":
            stranger = HeldTransaction(make_conninfo(postgres_dsn, dbname="postgres"))
        else:
            stranger = HeldTransaction(postgres_dsn, table="unrelated_report")
        flow = Taskflow(postgres_store)
        flow.webhook(receiver.url())
        committed: dict[str, float] = {}
        arrived: dict[str, float] = {}
        stop = threading.Event()

        def read() -> None:
            cursor = flow.changes()["meta"]["next"]
            while not stop.is_set():
                page = flow.changes(cursor, wait=5)
                for item in page["data"]:
                    arrived[item["caseId"]] = time.monotonic()
                cursor = page["meta"]["next"]

        reader = threading.Thread(target=read)
        relay = threading.Thread(
            target=run_relay, args=(flow, stop), kwargs={"timeout": 2.0, "workers": 1}
        )
        with stranger:
            # The stranger is older than every writer below: under a rule that serves an
            # entry once every older transaction has ended, none would come while it is open.
            assert snapshot_xmin(postgres_dsn) <= stranger.xid
            reader.start()
            relay.start()
            try:
                time.sleep(0.5)
                for _ in range(WRITES):
                    started = time.monotonic()  # before the commit: the delays are upper bounds
                    committed[flow.create({})["id"]] = started
                    time.sleep(0.25)
                eventually(lambda: len(arrived) == WRITES, within=10)
                eventually(lambda: len(receiver.all()) == WRITES, within=10)
                assert stranger.still_open()
            finally:
                stop.set()
                reader.join(10)
                relay.join(10)
        feed_delays = [arrived[case] - committed[case] for case in committed]
        hooks = {r.message["data"]["caseId"]: r.at for r in receiver.all()}
        webhook_delays = [hooks[case] - committed[case] for case in committed]
        assert max(feed_delays) <= MOST_DELAY, feed_delays
        assert max(webhook_delays) <= MOST_DELAY, webhook_delays


class TestSteps:
    def test_steps_running_at_once_give_each_row_one_position_and_each_position_one_row(
        self, postgres_dsn: str, postgres_store: PostgresStore
    ) -> None:
        writing = threading.Event()
        sequenced: list[int] = []

        def work(n: int) -> None:
            if n < 3:  # writers
                write_cases(postgres_dsn, 20)
                return
            with psycopg.connect(postgres_dsn, autocommit=True) as conn:  # sequencers
                while writing.is_set():
                    sequenced.append(sequence(conn, wake=False))
                sequenced.append(sequence(conn, wake=False))

        writing.set()
        threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        sequencers = threading.Thread(target=lambda: run_together(lambda n: work(3 + n), 3))
        sequencers.start()
        for thread in threads:
            thread.join(60)
        writing.clear()
        sequencers.join(60)

        rows = feed_rows(postgres_dsn)
        assert len(rows) == 60
        # Every row once (a row given a second position would be counted twice) ...
        assert sum(sequenced) == 60
        # ... and positions 1..60, none twice, none missing.
        assert sorted(seq for _, seq in rows if seq is not None) == list(range(1, 61))

    def test_a_step_killed_before_it_commits_loses_nothing(
        self, postgres_dsn: str, postgres_store: PostgresStore
    ) -> None:
        first = write_cases(postgres_dsn, 3)
        doomed = psycopg.connect(postgres_dsn)  # a step in a transaction, not committed
        try:
            assert sequence(doomed, wake=False) == 3
            results: list[Any] = []

            def next_step() -> None:
                with psycopg.connect(postgres_dsn, autocommit=True) as conn:
                    results.append(sequence(conn, wake=False))

            later = write_cases(postgres_dsn, 1)
            waiting = threading.Thread(target=next_step)
            waiting.start()
            time.sleep(0.5)
            assert waiting.is_alive()  # waits for the doomed step's lock
            with psycopg.connect(postgres_dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (doomed.info.backend_pid,))
            waiting.join(10)
        finally:
            doomed.close()
        assert results == [4]
        assert [seq for _, seq in feed_rows(postgres_dsn)] == [1, 2, 3, 4]
        items = Taskflow(postgres_store).changes()["data"]
        assert [item["caseId"] for item in items] == first + later

    def test_a_step_that_waited_for_another_numbers_on_after_it(
        self, postgres_dsn: str, postgres_store: PostgresStore
    ) -> None:
        first = write_cases(postgres_dsn, 3)
        with psycopg.connect(postgres_dsn) as holding:  # a step, not committed yet
            assert sequence(holding, wake=False) == 3
            results: list[Any] = []

            def next_step() -> None:
                with psycopg.connect(postgres_dsn, autocommit=True) as conn:
                    results.append(sequence(conn, wake=False))

            waiting = threading.Thread(target=next_step)
            waiting.start()
            time.sleep(0.3)
            later = write_cases(postgres_dsn, 1)  # commits while the second step waits
            time.sleep(0.2)
            assert waiting.is_alive()
            holding.commit()
            waiting.join(10)
        # It saw the first step's positions and the row committed while it waited.
        assert results == [1]
        assert [seq for _, seq in feed_rows(postgres_dsn)] == [1, 2, 3, 4]
        items = Taskflow(postgres_store).changes()["data"]
        assert [item["caseId"] for item in items] == first + later

    def test_a_reader_serves_rows_whose_writer_died_before_its_step(
        self, postgres_dsn: str, postgres_store: PostgresStore
    ) -> None:
        written = write_cases(postgres_dsn, 2)
        assert [seq for _, seq in feed_rows(postgres_dsn)] == [None, None]
        items = Taskflow(postgres_store).changes()["data"]
        assert [item["caseId"] for item in items] == written

    def test_a_relay_delivers_rows_whose_writer_died_before_its_step(
        self, postgres_dsn: str, postgres_store: PostgresStore, receiver: Receiver
    ) -> None:
        flow = Taskflow(postgres_store)
        flow.webhook(receiver.url())
        written = write_cases(postgres_dsn, 2)
        stop = threading.Event()
        relay = threading.Thread(
            target=run_relay, args=(flow, stop), kwargs={"timeout": 2.0, "workers": 1}
        )
        relay.start()
        try:
            eventually(lambda: len(receiver.all()) == 2, within=5)
        finally:
            stop.set()
            relay.join(10)
        assert [r.message["data"]["caseId"] for r in receiver.all()] == written
