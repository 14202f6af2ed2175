"""``flow.prune``: the feed's oldest changes, ended deliveries and expired idempotency keys go,
in batches; cases and their activity stay; a reader whose cursor was pruned is told where to
read on. On every store, through the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from taskflow_core import Gone, Taskflow
from taskflow_core.ports import Store
from tests.receiver import Receiver, eventually, receiving

DAY = timedelta(days=1)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC) - 100 * DAY

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def flow(store: Store, clock: Clock) -> Taskflow:
    return Taskflow(store, clock=clock)


def cursors(flow: Taskflow) -> list[str]:
    """Every change's cursor, in feed order (a store may serve a change a moment late)."""
    return [item["cursor"] for item in flow.changes(limit=1000)["data"]]


def old_and_new(flow: Taskflow, clock: Clock, old: int, new: int) -> list[str]:
    """``old`` cases created 100 days ago and ``new`` ones today; every cursor of the feed."""
    for _ in range(old):
        flow.create({"age": "old"})
    clock.now += 100 * DAY
    for _ in range(new):
        flow.create({"age": "new"})
    expected = len(cursors(flow)) + 0
    eventually(lambda: len(cursors(flow)) >= expected)
    return cursors(flow)


class TestTheFeed:
    def test_changes_older_than_the_age_go_in_batches_and_the_cases_stay(
        self, flow: Taskflow, clock: Clock
    ) -> None:
        before = old_and_new(flow, clock, old=5, new=2)

        counts = flow.prune(30 * DAY, batch=2)

        assert counts["changes"] == 5
        assert cursors(flow) == before[5:]
        assert flow.list()["meta"]["count"] == 7
        case = flow.list({"data": {"age": "old"}})["data"][0]
        assert [e["eventName"] for e in flow.get(case["id"])["activityLog"]] == ["create"]

    def test_a_cursor_into_pruned_changes_is_gone_and_names_where_to_read_on(
        self, flow: Taskflow, clock: Clock
    ) -> None:
        before = old_and_new(flow, clock, old=3, new=2)
        flow.prune(30 * DAY)

        with pytest.raises(Gone) as raised:
            flow.changes(after=before[0])

        restart = raised.value.errors["restartAfter"]  # type: ignore[index]
        assert raised.value.errors["after"] == "pruned"  # type: ignore[index]
        assert restart == before[2]
        assert [i["cursor"] for i in flow.changes(after=restart)["data"]] == before[3:]
        # A reader from the start, and one whose cursor was kept, read on as before.
        assert cursors(flow) == before[3:]
        assert [i["cursor"] for i in flow.changes(after=before[3])["data"]] == before[4:]

    def test_the_newest_change_stays_whatever_its_age(self, flow: Taskflow, clock: Clock) -> None:
        before = old_and_new(flow, clock, old=3, new=0)

        assert flow.prune(timedelta(0))["changes"] == 2
        assert cursors(flow) == before[2:]

    def test_a_dry_run_counts_and_deletes_nothing(self, flow: Taskflow, clock: Clock) -> None:
        before = old_and_new(flow, clock, old=4, new=1)

        assert flow.prune(30 * DAY, dry_run=True, batch=1)["changes"] == 4
        assert cursors(flow) == before

    def test_changes_a_webhook_has_not_fanned_out_stay(self, flow: Taskflow, clock: Clock) -> None:
        with receiving() as receiver:
            flow.webhook(receiver.url("/hook"))
            old_and_new(flow, clock, old=3, new=1)

            assert flow.prune(30 * DAY)["changes"] == 0

            delivered(flow, receiver, 4)
            assert flow.prune(30 * DAY)["changes"] == 3


def delivered(flow: Taskflow, receiver: Receiver, count: int) -> None:
    def enough() -> bool:
        flow.deliver_pending(timeout=2)
        return len(receiver.accepted()) >= count

    eventually(enough)


class TestDeliveriesAndKeys:
    def test_ended_deliveries_older_than_the_age_go_and_pending_ones_stay(
        self, flow: Taskflow, clock: Clock
    ) -> None:
        with receiving() as receiver:
            flow.webhook(receiver.url("/hook"))
            case = flow.create({"n": 1})
            delivered(flow, receiver, 1)
            receiver.default = (500, 0.0)
            flow.comment(case["id"], "later", user={"profile": {"id": "a"}})

            def tried() -> bool:
                flow.deliver_pending(timeout=2)
                found = flow.deliveries(case["id"])
                return len(found) == 2 and found[-1]["attempts"] >= 1

            eventually(tried)
            clock.now += 100 * DAY

            assert flow.prune(30 * DAY)["deliveries"] == 1
            assert [d["eventName"] for d in flow.deliveries(case["id"])] == ["comment"]

    def test_expired_idempotency_keys_go(self, flow: Taskflow, clock: Clock) -> None:
        flow.create({"n": 1}, idempotency_key="first")
        clock.now += 100 * DAY

        assert flow.prune(30 * DAY)["idempotencyKeys"] == 1
        # The key can be used afresh: a new case, not the old answer.
        assert flow.create({"n": 2}, idempotency_key="first")["data"] == {"n": 2}


def test_a_negative_age_is_refused(flow: Taskflow) -> None:
    with pytest.raises(ValueError, match="older_than"):
        flow.prune(-DAY)
