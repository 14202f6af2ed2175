"""A write answers with the case exactly as a read right after it shows it, on every store.

PostgreSQL builds a write's answer from the write's own statement (ports.EntryWithCase)
instead of reading the case back; these pin that the two cannot differ: the data as the
store keeps it (jsonb orders keys and writes numbers its own way), the whole log in the
read's order, entries written at one instant included.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from taskflow_core import HookEvent, Taskflow
from taskflow_core.ports import Store
from taskflow_postgres import PostgresStore

from .conftest import ALICE, BOB, OPERATIONS

# Keys jsonb reorders (shorter first), numbers it keeps in its own form, text it must not touch.
DATA = {
    "zeta": 1.0,
    "a": [1e21, 0.1, -0.0, 12345678901234567890],
    "mid": {"b": "é ✓", "aa": None, "": ""},
    "n": 10.50,
}


def exactly(case: dict[str, Any]) -> str:
    """The case as an answer's bytes would be: key order and number forms included."""
    return json.dumps(case, ensure_ascii=False)


class StandingClock:
    def __call__(self) -> datetime:
        return datetime(2031, 2, 3, 4, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_a_writes_answer_is_what_a_read_then_shows(store: Store, operation: str) -> None:
    flow = Taskflow(store, clock=StandingClock())
    made = flow.create(DATA, user=ALICE)
    assert exactly(made) == exactly(flow.get(made["id"]))
    case = flow.comment(made["id"], "first", user=ALICE)
    for status in ("open", "review"):
        case = flow.set_status(case["id"], status, user=ALICE)

    answered = OPERATIONS[operation](flow, case)

    assert exactly(answered) == exactly(flow.get(case["id"]))


def test_an_answer_shows_what_hooks_changed_after_the_event(store: Store) -> None:
    flow = Taskflow(store)

    def follow_up(event: HookEvent) -> None:
        event.patch({"seen": True})

    flow.hook("status:new:open", follow_up)
    case = flow.create({"a": 1}, user=ALICE)

    answered = flow.set_status(case["id"], "open", user=ALICE)

    assert answered["data"] == {"a": 1, "seen": True}
    assert [e["eventName"] for e in answered["activityLog"]][:2] == ["update", "status:new:open"]
    assert exactly(answered) == exactly(flow.get(case["id"]))


def test_an_adopted_log_keeps_the_reads_order_in_a_writes_answer(
    postgres_store: PostgresStore, postgres_dsn: str
) -> None:
    """Entries written before migration 0015 have no seq: tied on their time, they sort by
    id, after every entry that has one, in the answer as in a read."""
    flow = Taskflow(postgres_store, clock=StandingClock())
    case = flow.create({"a": 1}, user=ALICE)
    for text in ("one", "two", "three"):
        flow.comment(case["id"], text, user=ALICE)
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("UPDATE activity_log SET seq = NULL WHERE case_id = %s", (case["id"],))

    answered = flow.comment(case["id"], "four", user=ALICE)

    assert exactly(answered) == exactly(flow.get(case["id"]))
    assert answered["activityLog"][0]["comment"] == "four"


def test_a_new_case_a_decorator_fails_on_is_not_created(store: Store) -> None:
    """No hook runs on create here: the one statement that writes the case must still not
    commit alone, since the answer's decorator runs after it."""
    flow = Taskflow(store)

    def broken(case: dict[str, Any], user: Any) -> dict[str, Any]:
        raise LookupError("decorator broke")

    flow.decorate(broken)
    with pytest.raises(LookupError):
        flow.create({"a": 1})
    assert flow.list()["meta"]["count"] == 0


def test_a_new_case_under_a_key_is_made_once_and_answered_alike(store: Store) -> None:
    flow = Taskflow(store)
    first = flow.create({"a": 1}, user=ALICE, idempotency_key="k-1")
    again = flow.create({"a": 1}, user=ALICE, idempotency_key="k-1")
    assert exactly(first) == exactly(again)
    assert flow.list()["meta"]["count"] == 1


def test_concurrent_changes_of_one_case_each_apply_once_in_turn(store: Store) -> None:
    """With no hook registered, a change reads its case without a lock and writes it only
    while it is still at the version read (pipeline.go_alone): writers racing on one case
    each land once, on the version before them, as under a lock."""
    flow = Taskflow(store)
    case = flow.create({"n": 0})
    statuses = ["open", "review", "closed", "held"]

    def change(n: int) -> None:
        for round_ in range(5):
            if n % 2:
                flow.comment(case["id"], f"c{n}-{round_}", user=ALICE)
            else:
                flow.set_status(case["id"], statuses[(n + round_) % 4], user=ALICE)

    threads = [threading.Thread(target=change, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    final = flow.get(case["id"])
    log = list(reversed(final["activityLog"]))
    assert len(log) == 1 + 6 * 5
    assert final["version"] == 1 + 6 * 5
    # Each status change saw the status the one before it left.
    status = "new"
    for entry in log[1:]:
        if entry["eventName"].startswith("status:"):
            assert entry["event"]["meta"]["previous"] == status
            status = entry["event"]["meta"]["next"]
    assert final["status"] == status


def test_a_case_changed_between_read_and_write_is_changed_again_from_its_new_state(
    postgres_store: PostgresStore,
) -> None:
    """Another writer lands between a change's read and its write, three times: the change
    runs again each time, then under a lock, and lands once, on what the other left. (The
    memory and SQLite stores hold their lock from the first read: no writer gets between.)"""
    store = postgres_store
    flow = Taskflow(store)
    case = flow.create({"n": 0})
    interruptions = {"left": 3, "asked": 0}

    def guard(seen: dict[str, Any], user: Any) -> bool:
        interruptions["asked"] += 1
        if interruptions["left"]:
            interruptions["left"] -= 1
            # Another request's write, committed while this one has not written yet.
            other = Taskflow(store)
            other.update(case["id"], {"n": interruptions["left"]}, user=BOB)
        return True

    flow.transition("new", "open", guard=guard)
    answered = flow.set_status(case["id"], "open", user=ALICE)

    assert answered["status"] == "open"
    assert answered["data"] == {"n": 0}
    events = [e["eventName"] for e in answered["activityLog"]]
    assert events == ["status:new:open", "update", "update", "update", "create"]
    assert answered["version"] == 5
    # Three tries without a transaction, each interrupted; the fourth under a lock.
    assert interruptions["asked"] == 4
    assert interruptions["left"] == 0
