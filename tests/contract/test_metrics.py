"""What the metrics read (SPEC §17), on every store: the store's gauges (``uow.stats``,
application/gauges.py) and what the core tells an observer (application/observing.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from taskflow_core import HookEvent, Taskflow
from taskflow_core.application.gauges import OTHER_STATUSES, CachedGauges, Gauges, read_gauges
from taskflow_core.background.http_sender import DeliveryFailed
from taskflow_core.errors import Forbidden
from taskflow_core.ports import Store
from tests.support.clock import HandClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOOK_URL = "http://127.0.0.1:9/hook"


class Recorded:
    """An observer keeping what it is told."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.failures: list[str] = []
        self.deliveries: list[str] = []

    def events_committed(self, kinds: Sequence[str]) -> None:
        self.kinds.extend(kinds)

    def hook_failed(self, pattern: str) -> None:
        self.failures.append(pattern)

    def delivery_finished(self, outcome: str) -> None:
        self.deliveries.append(outcome)


class Receiver:
    """A webhook sender (``Taskflow(send_webhook=...)``) that accepts or refuses."""

    def __init__(self) -> None:
        self.accept = False

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> None:
        if not self.accept:
            raise DeliveryFailed("503 Service Unavailable")


@pytest.fixture
def clock() -> HandClock:
    return HandClock(START)


@pytest.fixture
def flow(store: Store, clock: HandClock) -> Taskflow:
    return Taskflow(store, clock=clock)


def deliver(flow: Taskflow) -> None:
    # A reader's look first: on PostgreSQL it gives the committed changes their places in
    # the feed now, rather than when the writer's thread gets to it.
    flow.changes()
    flow.deliver_pending(timeout=1)


def gauges(flow: Taskflow, max_statuses: int = 50) -> Gauges:
    return read_gauges(flow.store, flow.clock(), max_statuses)


class TestGauges:
    def test_an_empty_store_reads_nothing(self, flow: Taskflow) -> None:
        assert gauges(flow) == Gauges((), 0, 0, 0, 0.0)

    def test_cases_are_counted_by_status_the_most_used_first(self, flow: Taskflow) -> None:
        ids = [flow.create({"n": n})["id"] for n in range(4)]
        flow.set_status(ids[0], "open")
        flow.set_status(ids[1], "open")
        flow.set_status(ids[2], "closed")
        assert gauges(flow).cases == (("open", 2), ("closed", 1), ("new", 1))

    def test_statuses_past_the_cap_are_summed_under_a_name_no_status_can_have(
        self, flow: Taskflow
    ) -> None:
        # Any caller may set any status where no workflow is declared: 12 of them here.
        for n in range(12):
            case = flow.create({"n": n})
            flow.set_status(case["id"], "status-" + "abcdefghijkl"[n])
        flow.set_status(flow.create({})["id"], "status-a")
        cases = gauges(flow, max_statuses=5).cases
        assert len(cases) == 5
        assert cases[0] == ("status-a", 2)
        assert cases[-1] == (OTHER_STATUSES, 13 - 2 - 3)
        assert sum(count for _, count in cases) == 13

    def test_deadlines_overdue_count_running_past_due_and_marked_overdue(
        self, flow: Taskflow, clock: HandClock
    ) -> None:
        flow.deadline("decision", within=timedelta(hours=1), starts=["open"], stops=["done"])
        late, on_time = flow.create({}), flow.create({})
        flow.set_status(late["id"], "open")
        clock.at += timedelta(minutes=30)
        flow.set_status(on_time["id"], "open")
        assert (gauges(flow).deadlines_overdue, gauges(flow).timers_due) == (0, 0)

        clock.at += timedelta(minutes=45)  # the first is past due, its timer not fired yet
        assert (gauges(flow).deadlines_overdue, gauges(flow).timers_due) == (1, 1)
        assert flow.run_due_timers() == 1  # now marked overdue
        assert (gauges(flow).deadlines_overdue, gauges(flow).timers_due) == (1, 0)
        flow.set_status(late["id"], "done")  # missed: no longer overdue
        assert gauges(flow).deadlines_overdue == 0

    def test_timers_due_are_those_whose_time_has_come(
        self, flow: Taskflow, clock: HandClock
    ) -> None:
        flow.hook("create", lambda event: event.set_timer("chase", timedelta(days=1)))
        flow.create({})
        flow.create({})
        assert gauges(flow).timers_due == 0
        clock.at += timedelta(days=1)
        assert gauges(flow).timers_due == 2
        flow.run_due_timers()
        assert gauges(flow).timers_due == 0

    def test_pending_webhook_deliveries(self, store: Store, clock: HandClock) -> None:
        receiver = Receiver()
        flow = Taskflow(store, clock=clock, send_webhook=receiver)
        flow.webhook(HOOK_URL, events=["create"])
        flow.create({})
        flow.create({})
        deliver(flow)
        assert gauges(flow).webhooks_pending == 2
        receiver.accept = True
        clock.at += timedelta(hours=1)
        deliver(flow)
        assert gauges(flow).webhooks_pending == 0

    def test_no_change_waits_for_its_place_once_the_feed_has_been_read(
        self, flow: Taskflow
    ) -> None:
        for n in range(3):
            flow.create({"n": n})
        flow.changes()  # a reader's look gives every committed change its place
        assert gauges(flow).feed_oldest_pending == 0.0

    def test_a_reading_is_kept_for_its_ttl(self, flow: Taskflow) -> None:
        now = [0.0]
        cached = CachedGauges(lambda: gauges(flow), ttl=5.0, monotonic=lambda: now[0])
        assert cached.get().cases == ()
        flow.create({})
        now[0] = 4.9
        assert cached.get().cases == ()
        now[0] = 5.0
        assert cached.get().cases == (("new", 1),)


class TestObserver:
    def test_each_event_that_commits_is_told_once_by_kind(
        self, flow: Taskflow, clock: HandClock
    ) -> None:
        seen = Recorded()
        flow.observe(seen).observe(seen)  # twice: still told once
        flow.deadline("decision", within=timedelta(hours=1), starts=["open"])
        flow.hook("create", lambda event: event.set_timer("chase", timedelta(minutes=5)))
        case = flow.create({"a": 1})
        flow.update(case["id"], {"b": 2})
        flow.assign(case["id"], "bob")
        commented = flow.comment(case["id"], "hello", user={"profile": {"id": "al"}})
        comment_id = next(e["id"] for e in commented["activityLog"] if e["eventName"] == "comment")
        flow.update_comment(case["id"], comment_id, "edited", user={"profile": {"id": "al"}})
        flow.set_status(case["id"], "open")
        clock.at += timedelta(hours=2)
        flow.run_due_timers()
        assert seen.kinds == [
            "create",
            "update",
            "assign",
            "comment",
            "comment",
            "status",
            "timer",
            "deadline",
        ]

    def test_the_events_of_a_bulk_action_are_told_as_bulk(self, flow: Taskflow) -> None:
        seen = Recorded()
        ids = [flow.create({})["id"] for _ in range(3)]
        flow.observe(seen)
        flow.bulk({"status": "open"}, ids=ids)
        flow.bulk({"comment": "looked at"}, ids=ids[:1], dry_run=True)
        assert seen.kinds == ["bulk", "bulk", "bulk"]

    def test_a_cascade_is_told_with_its_transaction(self, flow: Taskflow) -> None:
        seen = Recorded()
        flow.observe(seen)
        flow.hook("status:*:open", lambda event: event.set_status("triaged"))
        flow.set_status(flow.create({})["id"], "open")
        assert seen.kinds == ["create", "status", "status"]

    def test_a_failing_hook_is_told_by_its_pattern_and_nothing_is_counted_committed(
        self, flow: Taskflow
    ) -> None:
        seen = Recorded()
        flow.observe(seen)

        def broken(event: HookEvent) -> None:
            raise RuntimeError("a bug in the host's hook")

        flow.hook("status:*:broken", broken)
        case = flow.create({})
        with pytest.raises(RuntimeError):
            flow.set_status(case["id"], "broken")
        assert seen.failures == ["status:*:broken"]
        assert seen.kinds == ["create"]

    def test_a_failure_passing_up_a_cascade_is_told_once_for_the_hook_that_raised(
        self, flow: Taskflow
    ) -> None:
        seen = Recorded()
        flow.observe(seen)

        def broken(event: HookEvent) -> None:
            raise RuntimeError("a bug in the host's hook")

        flow.hook("status:*:open", lambda event: event.set_status("broken"))
        flow.hook("status:*:broken", broken)
        with pytest.raises(RuntimeError):
            flow.set_status(flow.create({})["id"], "open")
        assert seen.failures == ["status:*:broken"]

    def test_a_hook_refusing_with_a_taskflow_error_is_an_answer_not_a_failure(
        self, flow: Taskflow
    ) -> None:
        seen = Recorded()
        flow.observe(seen)

        def refuse(event: HookEvent) -> None:
            raise Forbidden("not yours")

        flow.hook("pre-status:*:*", refuse)
        with pytest.raises(Forbidden):
            flow.set_status(flow.create({})["id"], "open")
        assert seen.failures == []

    def test_delivery_outcomes(self, store: Store, clock: HandClock) -> None:
        receiver = Receiver()
        flow = Taskflow(store, clock=clock, send_webhook=receiver)
        seen = Recorded()
        flow.observe(seen)
        flow.webhook(HOOK_URL, events=["create"])
        flow.create({})
        deliver(flow)
        receiver.accept = True
        clock.at += timedelta(hours=1)
        deliver(flow)
        assert seen.deliveries == ["retried", "delivered"]
        receiver.accept = False
        flow.create({})
        deliver(flow)
        clock.at += timedelta(days=2)  # refused for longer than deliveries are retried
        deliver(flow)
        assert seen.deliveries == ["retried", "delivered", "retried", "failed"]

    def test_an_observer_that_fails_fails_nothing(self, flow: Taskflow) -> None:
        class Broken(Recorded):
            def events_committed(self, kinds: Sequence[str]) -> None:
                raise RuntimeError("the metrics are broken")

        flow.observe(Broken())
        case = flow.create({"a": 1})
        assert flow.get(case["id"])["data"] == {"a": 1}
