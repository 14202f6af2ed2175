"""Timers: deadlines set by hooks that fire hook events, on every store, without sleeping."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from taskflow_core import HookEvent, NotFound, Taskflow
from taskflow_core.background.timers import FIRST_RETRY
from taskflow_core.ports import Store
from tests.support.clock import HandClock

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def clock() -> HandClock:
    return HandClock(T0)


@pytest.fixture
def timed(store: Store, clock: HandClock) -> Taskflow:
    """A flow whose create hook sets a reminder for seven days later."""
    flow = Taskflow(store, clock=clock)
    flow.hook("create", lambda event: event.set_timer("reminder", 7 * DAY))
    return flow


def names(case: dict[str, Any]) -> list[str]:
    return [entry["eventName"] for entry in case["activityLog"]]


class TestSetting:
    def test_a_hook_sets_a_timer_the_case_then_has(self, timed: Taskflow) -> None:
        case = timed.create({})
        assert timed.timers(case["id"]) == [{"name": "reminder", "due": "2030-01-08T09:00:00.000Z"}]

    def test_an_aware_datetime_sets_it_at_that_moment(self, store: Store, clock: HandClock) -> None:
        flow = Taskflow(store, clock=clock)
        at = datetime(2030, 2, 1, 12, 0, tzinfo=UTC)
        flow.hook("create", lambda event: event.set_timer("deadline", at))
        case = flow.create({})
        assert flow.timers(case["id"]) == [{"name": "deadline", "due": "2030-02-01T12:00:00.000Z"}]

    def test_setting_it_again_moves_it(self, timed: Taskflow) -> None:
        timed.hook("status:*:*", lambda event: event.set_timer("reminder", 30 * DAY))
        case = timed.create({})
        timed.set_status(case["id"], "open")
        assert timed.timers(case["id"]) == [{"name": "reminder", "due": "2030-01-31T09:00:00.000Z"}]

    def test_a_hook_cancels_it(self, timed: Taskflow) -> None:
        timed.hook("status:*:decided", lambda event: event.cancel_timer("reminder"))
        case = timed.create({})
        timed.set_status(case["id"], "decided")
        assert timed.timers(case["id"]) == []

    def test_cancelling_a_timer_that_is_not_there_does_nothing(self, timed: Taskflow) -> None:
        timed.hook("comment", lambda event: event.cancel_timer("nothing-here"))
        case = timed.create({})
        timed.comment(case["id"], "hi")
        assert [t["name"] for t in timed.timers(case["id"])] == ["reminder"]

    def test_a_rolled_back_request_leaves_no_timer(self, timed: Taskflow) -> None:
        def fail(event: HookEvent) -> None:
            raise RuntimeError("after the timer was set")

        timed.hook("create", fail)
        with pytest.raises(RuntimeError):
            timed.create({})
        assert timed.run_due_timers(now=T0 + 365 * DAY) == 0

    def test_a_found_case_can_have_its_timers_set(self, timed: Taskflow) -> None:
        other = timed.create({})

        def remind_other(event: HookEvent) -> None:
            event.find(other["id"]).set_timer("follow-up", DAY)

        timed.hook("comment", remind_other)
        case = timed.create({})
        timed.comment(case["id"], "see the other case")
        assert [t["name"] for t in timed.timers(other["id"])] == ["follow-up", "reminder"]

    def test_set_timer_in_pre_create_is_refused_with_a_warning(
        self, store: Store, clock: HandClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        flow = Taskflow(store, clock=clock)
        flow.hook("pre-create", lambda event: event.set_timer("early", DAY))
        with caplog.at_level(logging.WARNING):
            case = flow.create({})
        assert flow.timers(case["id"]) == []
        assert "set_timer() is ignored in a pre-create hook" in caplog.text

    @pytest.mark.parametrize("at", [datetime(2030, 1, 2), "tomorrow", 3600])
    def test_a_naive_or_unknown_time_is_refused(self, store: Store, at: Any) -> None:
        flow = Taskflow(store)
        flow.hook("create", lambda event: event.set_timer("x", at))
        with pytest.raises((ValueError, TypeError)):
            flow.create({})
        assert flow.list()["meta"]["count"] == 0

    @pytest.mark.parametrize("name", ["", "timer:x", "two words", "1st", "x\n", "*"])
    def test_a_name_that_is_not_an_event_part_is_refused(self, store: Store, name: str) -> None:
        flow = Taskflow(store)
        flow.hook("create", lambda event: event.set_timer(name, DAY))
        with pytest.raises(ValueError, match="timer name"):
            flow.create({})

    def test_the_timers_of_an_unknown_case_are_not_found(self, timed: Taskflow) -> None:
        with pytest.raises(NotFound):
            timed.timers("00000000-0000-4000-8000-000000000000")


class TestFiring:
    def test_nothing_fires_before_it_is_due(self, timed: Taskflow, clock: HandClock) -> None:
        timed.create({})
        clock.at = T0 + 7 * DAY - timedelta(seconds=1)
        assert timed.run_due_timers() == 0

    def test_a_due_timer_fires_its_event_once_with_an_entry(
        self, timed: Taskflow, clock: HandClock
    ) -> None:
        seen: list[tuple[str, dict[str, Any], Any]] = []
        timed.hook("pre-timer:reminder", lambda e: seen.append((e.event, dict(e.meta), e.status)))
        timed.hook("timer:*", lambda e: seen.append((e.event, dict(e.meta), e.status)))
        case = timed.create({})
        clock.at = T0 + 7 * DAY
        assert timed.run_due_timers() == 1
        assert timed.run_due_timers() == 0
        meta = {"name": "reminder", "due": "2030-01-08T09:00:00.000Z", "user": None}
        assert seen == [("pre-timer:reminder", meta, "new"), ("timer:reminder", meta, "new")]
        fired = timed.get(case["id"])
        assert names(fired) == ["timer:reminder", "create"]
        assert fired["activityLog"][0]["changedBy"] is None
        assert fired["activityLog"][0]["event"]["meta"] == meta
        assert timed.timers(case["id"]) == []

    def test_a_timer_in_the_past_fires_at_the_next_sweep(
        self, store: Store, clock: HandClock
    ) -> None:
        flow = Taskflow(store, clock=clock)
        flow.hook("create", lambda event: event.set_timer("late", -DAY))
        case = flow.create({})
        clock.at = T0 + timedelta(seconds=1)
        assert flow.run_due_timers() == 1
        assert names(flow.get(case["id"]))[0] == "timer:late"

    def test_now_overrides_the_clock_for_one_sweep(self, timed: Taskflow) -> None:
        timed.create({})
        assert timed.run_due_timers(now=T0 + 8 * DAY) == 1

    def test_a_deadline_hook_can_change_the_case(self, timed: Taskflow, clock: HandClock) -> None:
        timed.hook("timer:reminder", lambda event: event.set_status("withdrawn"))
        case = timed.create({})
        clock.at = T0 + 7 * DAY
        timed.run_due_timers()
        withdrawn = timed.get(case["id"])
        assert withdrawn["status"] == "withdrawn"
        assert names(withdrawn) == ["status:new:withdrawn", "timer:reminder", "create"]

    def test_a_timer_hook_may_set_the_next_timer(self, timed: Taskflow, clock: HandClock) -> None:
        timed.hook("timer:reminder", lambda event: event.set_timer("reminder", 7 * DAY))
        case = timed.create({})
        clock.at = T0 + 7 * DAY
        assert timed.run_due_timers() == 1
        assert timed.timers(case["id"]) == [{"name": "reminder", "due": "2030-01-15T09:00:00.000Z"}]
        clock.at = T0 + 14 * DAY
        assert timed.run_due_timers() == 1

    def test_every_due_timer_fires_in_one_sweep(self, timed: Taskflow, clock: HandClock) -> None:
        for _ in range(5):
            timed.create({})
        clock.at = T0 + 7 * DAY
        assert timed.run_due_timers() == 5
        assert timed.run_due_timers() == 0


class TestFailures:
    def test_a_failing_hook_keeps_the_timer_and_it_is_retried_after_backoff(
        self, timed: Taskflow, clock: HandClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        broken = [True]

        def flaky(event: HookEvent) -> None:
            event.patch({"reminded": True})
            if broken[0]:
                raise RuntimeError("mail server down")

        timed.hook("timer:reminder", flaky)
        case = timed.create({})
        clock.at = T0 + 7 * DAY
        with caplog.at_level(logging.WARNING):
            assert timed.run_due_timers() == 0
        assert "mail server down" in caplog.text
        after_failure = timed.get(case["id"])
        assert names(after_failure) == ["create"]
        assert "reminded" not in after_failure["data"]
        assert [t["name"] for t in timed.timers(case["id"])] == ["reminder"]

        assert timed.run_due_timers(now=clock.at + FIRST_RETRY / 2) == 0  # still backing off
        broken[0] = False
        assert timed.run_due_timers(now=clock.at + FIRST_RETRY) == 1
        fired = timed.get(case["id"])
        assert fired["data"] == {"reminded": True}
        assert names(fired) == ["update", "timer:reminder", "create"]
        assert timed.timers(case["id"]) == []

    def test_a_failing_timer_does_not_hold_up_the_others(
        self, store: Store, clock: HandClock
    ) -> None:
        flow = Taskflow(store, clock=clock)
        flow.hook("create", lambda event: event.set_timer(event.data["name"], DAY))

        def fail(event: HookEvent) -> None:
            raise RuntimeError("broken")

        flow.hook("timer:broken", fail)
        flow.create({"name": "broken"})
        good = flow.create({"name": "fine"})
        clock.at = T0 + DAY
        assert flow.run_due_timers() == 1
        assert names(flow.get(good["id"]))[0] == "timer:fine"
