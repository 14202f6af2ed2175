"""``taskflow_feed_oldest_pending_seconds`` on PostgreSQL: how long the oldest committed change
has waited for its place in the feed (taskflow_postgres/changes.py).

A change waits only for a sequencing step, and a step waits only for another step of the
same database: a transaction left open anywhere else (the stranger of
tests/support/hold_transaction.py) holds nothing back, while a step that cannot finish
(here: a session holding the steps' lock, as a step stuck on a dead connection would)
holds back every change after it, and the gauge grows with the wait.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from taskflow_core import Taskflow
from taskflow_core.application.gauges import read_gauges
from taskflow_core.domain.clock import utc
from taskflow_postgres import PostgresStore
from tests.support.hold_transaction import DEFAULT_DSN, HeldTransaction

pytestmark = pytest.mark.postgres

# The advisory lock a sequencing step takes (migrations/0010_change_feed_sequencer.sql).
STEP_LOCK = 2053558898


@pytest.fixture
def flow(postgres_store: PostgresStore) -> Taskflow:
    return Taskflow(postgres_store)


def oldest_pending(flow: Taskflow) -> float:
    return read_gauges(flow.store, utc(flow.clock())).feed_oldest_pending


def settles_to_zero(flow: Taskflow, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while oldest_pending(flow) != 0.0:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_transaction_held_open_elsewhere_holds_nothing_back(flow: Taskflow) -> None:
    with HeldTransaction(DEFAULT_DSN, table="metrics_stranger") as held:
        for n in range(5):
            flow.create({"n": n})
        assert settles_to_zero(flow)
        time.sleep(1.0)
        flow.create({"after": "a second"})
        assert settles_to_zero(flow)
        assert held.still_open()


def test_rises_while_a_step_is_held_up_and_falls_once_it_runs(
    flow: Taskflow, postgres_dsn: str
) -> None:
    flow.create({"before": True})
    assert settles_to_zero(flow)
    with psycopg.connect(postgres_dsn) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (STEP_LOCK,))
        flow.create({"held": True})
        time.sleep(1.0)
        first = oldest_pending(flow)
        time.sleep(1.0)
        second = oldest_pending(flow)
        assert 1.0 <= first < second
        assert second >= 2.0
        holder.rollback()  # the step waiting for the lock runs now
        assert settles_to_zero(flow)
    assert [c["entry"]["eventName"] for c in flow.changes()["data"]] == ["create", "create"]
