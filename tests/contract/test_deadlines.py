"""Deadlines (SPEC §14) on every store: the clock follows the status in the same transaction,
fires its events on the timers of §10, and takes extend, remove and reinstate with a reason."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from taskflow_core import (
    BusinessCalendar,
    BusinessDays,
    Conflict,
    HookEvent,
    InvalidRequest,
    NotFound,
    Taskflow,
)
from taskflow_core.domain.clock import timestamp
from taskflow_core.domain.model import DeadlineState, Timer
from taskflow_core.ports import Store
from tests.support.clock import HandClock

from .conftest import ALICE

MONDAY = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # Monday 7 January 2030
DAY = timedelta(days=1)


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2030, 1, day, hour, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return timestamp(moment)


@pytest.fixture
def clock() -> HandClock:
    return HandClock(MONDAY)


@pytest.fixture
def flow(store: Store, clock: HandClock) -> Taskflow:
    return Taskflow(store, clock=clock).deadline(
        "decision",
        within=BusinessDays(10),
        starts=["submitted"],
        pauses=["returned"],
        stops=["granted", "refused"],
        remind=BusinessDays(2),
    )


@pytest.fixture
def submitted(flow: Taskflow) -> dict[str, Any]:
    case = flow.create({"kind": "dog"})
    return flow.set_status(case["id"], "submitted")


def deadline(case: dict[str, Any], name: str = "decision") -> dict[str, Any]:
    return next(d for d in case["deadlines"] if d["name"] == name)


def events(case: dict[str, Any]) -> list[str]:
    return [e["eventName"] for e in case["activityLog"]]


def timer_names(flow: Taskflow, case: dict[str, Any]) -> dict[str, str]:
    return {t["name"]: t["due"] for t in flow.timers(case["id"])}


class TestAnswers:
    def test_without_deadlines_answers_carry_no_deadlines(self, store: Store) -> None:
        flow = Taskflow(store)
        case = flow.create({})
        assert "deadlines" not in case
        assert "deadlines" not in flow.list()["data"][0]

    def test_a_new_case_shows_every_declared_deadline_not_started(self, flow: Taskflow) -> None:
        flow.deadline("payment", within=timedelta(days=3), starts=["accepted"])
        case = flow.create({})
        assert case["deadlines"] == [
            {"name": "decision", "state": None, "due": None, "startedAt": None},
            {"name": "payment", "state": None, "due": None, "startedAt": None},
        ]

    def test_list_items_carry_deadlines_too(self, flow: Taskflow, submitted: Any) -> None:
        item = flow.list()["data"][0]
        assert deadline(item) == deadline(submitted)
        streamed = flow.listing(budget=1)
        assert '"deadlines"' in "".join([*streamed.first, *streamed.rest])


class TestTheClockFollowsTheStatus:
    def test_entering_a_starts_status_starts_it(self, flow: Taskflow, submitted: Any) -> None:
        assert deadline(submitted) == {
            "name": "decision",
            "state": "running",
            "due": iso(at(22)),  # the end of Monday 21st: ten business days after the 7th
            "startedAt": iso(MONDAY),
        }
        assert timer_names(flow, submitted) == {
            "deadline:decision:reminder": iso(at(18)),
            "deadline:decision:passed": iso(at(22)),
        }

    def test_a_pause_keeps_the_business_days_left(
        self, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        clock.at = at(9, 12)  # Wednesday: 8 business days left (10th to 21st)
        paused = flow.set_status(submitted["id"], "returned")
        assert deadline(paused)["state"] == "paused"
        assert deadline(paused)["due"] is None
        assert timer_names(flow, paused) == {}
        clock.at = at(14, 10)  # back on Monday 14th: 8 business days from there
        resumed = flow.set_status(submitted["id"], "submitted")
        assert deadline(resumed)["state"] == "running"
        assert deadline(resumed)["due"] == iso(at(25))
        assert deadline(resumed)["startedAt"] == iso(MONDAY)

    def test_a_pause_of_a_timedelta_keeps_the_time_left(
        self, store: Store, clock: HandClock
    ) -> None:
        flow = Taskflow(store, clock=clock).deadline(
            "reply", within=timedelta(hours=48), starts=["open"], pauses=["waiting"]
        )
        case = flow.create({})
        flow.set_status(case["id"], "open")
        clock.at = MONDAY + timedelta(hours=10)
        flow.set_status(case["id"], "waiting")
        clock.at = MONDAY + 3 * DAY
        resumed = flow.set_status(case["id"], "open")
        assert deadline(resumed, "reply")["due"] == iso(MONDAY + 3 * DAY + timedelta(hours=38))

    def test_entering_a_starts_status_while_running_changes_nothing(
        self, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        clock.at = MONDAY + 2 * DAY
        again = flow.set_status(submitted["id"], "submitted")
        assert deadline(again) == deadline(submitted)

    def test_stopping_before_the_due_is_met(
        self, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        clock.at = at(15)
        granted = flow.set_status(submitted["id"], "granted")
        assert deadline(granted)["state"] == "met"
        assert timer_names(flow, granted) == {}
        clock.at = at(30)
        assert flow.run_due_timers() == 0

    def test_stopping_after_it_passed_is_missed(
        self, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        clock.at = at(23)
        flow.run_due_timers()
        refused = flow.set_status(submitted["id"], "refused")
        assert deadline(refused)["state"] == "missed"

    def test_a_new_clock_starts_after_one_ended(
        self, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        clock.at = at(15)
        flow.set_status(submitted["id"], "granted")
        clock.at = at(16, 9)
        again = flow.set_status(submitted["id"], "submitted")
        assert deadline(again)["state"] == "running"
        assert deadline(again)["startedAt"] == iso(at(16, 9))

    def test_a_deadline_starting_at_new_starts_with_the_case(
        self, store: Store, clock: HandClock
    ) -> None:
        flow = Taskflow(store, clock=clock).deadline(
            "triage", within=timedelta(hours=4), starts=["new"], stops=["open"]
        )
        case = flow.create({})
        assert deadline(case, "triage")["due"] == iso(MONDAY + timedelta(hours=4))
        clock.at = MONDAY + timedelta(hours=1)
        assert deadline(flow.set_status(case["id"], "open"), "triage")["state"] == "met"

    def test_a_status_a_hook_sets_moves_the_clock_too(self, flow: Taskflow) -> None:
        flow.hook("create", lambda event: event.set_status("submitted"))
        case = flow.create({})
        assert deadline(case)["state"] == "running"

    def test_a_failed_status_change_leaves_the_deadline_as_it_was(
        self, flow: Taskflow, submitted: Any
    ) -> None:
        def refuse(event: HookEvent) -> None:
            raise RuntimeError("no")

        flow.hook("status:*:granted", refuse)
        with pytest.raises(RuntimeError):
            flow.set_status(submitted["id"], "granted")
        case = flow.get(submitted["id"])
        assert deadline(case) == deadline(submitted)
        assert "deadline:decision:passed" in timer_names(flow, case)


class TestEvents:
    def test_the_due_moment_fires_passed_once(
        self, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        seen: list[dict[str, Any]] = []
        flow.hook("deadline:*:passed", lambda event: seen.append(event.meta))
        clock.at = at(22)
        assert flow.run_due_timers() == 2  # the reminder, then the deadline
        assert flow.run_due_timers() == 0
        case = flow.get(submitted["id"])
        assert deadline(case)["state"] == "overdue"
        # Both in one sweep at one clock reading: their entries' order is not told apart.
        assert set(events(case)[:2]) == {"deadline:decision:passed", "deadline:decision:reminder"}
        assert seen == [{"name": "decision", "due": iso(at(22)), "user": None}]

    def test_the_reminder_fires_its_span_before(
        self, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        clock.at = at(18)
        assert flow.run_due_timers() == 1
        case = flow.get(submitted["id"])
        assert events(case)[0] == "deadline:decision:reminder"
        assert deadline(case)["state"] == "running"

    def test_a_failing_hook_is_retried_later(
        self, flow: Taskflow, submitted: Any, clock: HandClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        failing = [True]

        def flaky(event: HookEvent) -> None:
            if failing[0]:
                raise RuntimeError("mail server down")

        flow.hook("deadline:decision:passed", flaky)
        clock.at = at(22)
        with caplog.at_level(logging.WARNING):
            assert flow.run_due_timers() == 1  # the reminder only
        assert deadline(flow.get(submitted["id"]))["state"] == "running"
        failing[0] = False
        clock.at = at(22, 1)
        assert flow.run_due_timers() == 1
        assert deadline(flow.get(submitted["id"]))["state"] == "overdue"

    def test_a_paused_deadline_fires_nothing(
        self, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        flow.set_status(submitted["id"], "returned")
        clock.at = at(30)
        assert flow.run_due_timers() == 0

    def test_a_sweeper_without_the_declaration_still_fires_it(
        self, store: Store, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        clock.at = at(22)
        assert Taskflow(store, clock=clock).run_due_timers() == 2
        assert deadline(flow.get(submitted["id"]))["state"] == "overdue"


class TestActions:
    def test_extending_by_business_days_moves_the_due_and_logs_the_reason(
        self, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        clock.at = MONDAY + timedelta(hours=1)
        case = flow.extend_deadline(
            submitted["id"],
            "decision",
            by=BusinessDays(5),
            reason="waiting for the vet",
            user=ALICE,
        )
        assert deadline(case)["due"] == iso(at(29))  # five business days after the 21st
        entry = case["activityLog"][0]
        assert entry["eventName"] == "deadline:decision:extend"
        assert entry["event"]["meta"]["reason"] == "waiting for the vet"
        assert entry["changedBy"] == "alice"
        assert timer_names(flow, case)["deadline:decision:passed"] == iso(at(29))
        assert case["version"] == submitted["version"] + 1

    def test_an_overdue_deadline_extended_past_now_runs_again(
        self, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        clock.at = at(23)
        flow.run_due_timers()
        case = flow.extend_deadline(
            submitted["id"], "decision", until=at(25, 17), reason="agreed with the applicant"
        )
        assert deadline(case)["state"] == "running"
        assert deadline(case)["due"] == iso(at(25, 17))
        clock.at = at(25, 17)
        # The reminder is set again for the new due (the end of the 23rd), then it passes.
        assert flow.run_due_timers() == 2
        assert deadline(flow.get(submitted["id"]))["state"] == "overdue"

    def test_removing_stops_it_and_reinstating_gives_it_back(
        self, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        clock.at = MONDAY + timedelta(hours=1)
        removed = flow.remove_deadline(submitted["id"], "decision", reason="withdrawn by mistake")
        assert deadline(removed)["state"] == "removed"
        assert timer_names(flow, removed) == {}
        clock.at = MONDAY + timedelta(hours=2)
        back = flow.reinstate_deadline(submitted["id"], "decision", reason="not withdrawn")
        assert deadline(back) == deadline(submitted)
        assert timer_names(flow, back) == timer_names(flow, submitted)
        assert events(back)[:2] == ["deadline:decision:reinstate", "deadline:decision:remove"]

    def test_action_hooks_run(self, flow: Taskflow, submitted: Any) -> None:
        seen: list[str] = []
        flow.hook("pre-deadline:decision:remove", lambda e: seen.append(e.event))
        flow.hook("deadline:*:remove", lambda e: seen.append(e.event))
        flow.remove_deadline(submitted["id"], "decision", reason="r")
        assert seen == ["pre-deadline:decision:remove", "deadline:decision:remove"]


class TestBadInput:
    @pytest.mark.parametrize(
        ("call", "error"),
        [
            (lambda f, c: f.extend_deadline(c, "nope", by=DAY, reason="r"), NotFound),
            (lambda f, c: f.extend_deadline(c, "decision", by=DAY, reason=""), InvalidRequest),
            (lambda f, c: f.remove_deadline(c, "decision", reason=" "), InvalidRequest),
            (lambda f, c: f.extend_deadline(c, "decision", reason="r"), InvalidRequest),
            (
                lambda f, c: f.extend_deadline(c, "decision", by=DAY, until=at(30), reason="r"),
                InvalidRequest,
            ),
            (
                lambda f, c: f.extend_deadline(c, "decision", until=at(1), reason="r"),
                InvalidRequest,
            ),
            (
                lambda f, c: f.extend_deadline(
                    c, "decision", until=datetime(2030, 2, 1), reason="r"
                ),
                InvalidRequest,
            ),
            (lambda f, c: f.extend_deadline(c, "decision", by=-DAY, reason="r"), InvalidRequest),
            (lambda f, c: f.reinstate_deadline(c, "decision", reason="r"), Conflict),
        ],
    )
    def test_refused_and_nothing_changes(
        self, flow: Taskflow, submitted: Any, call: Any, error: type[Exception]
    ) -> None:
        with pytest.raises(error):
            call(flow, submitted["id"])
        after = flow.get(submitted["id"])
        assert after["version"] == submitted["version"]
        assert deadline(after) == deadline(submitted)

    def test_acting_on_a_deadline_not_started_is_a_conflict(self, flow: Taskflow) -> None:
        case = flow.create({})
        with pytest.raises(Conflict):
            flow.extend_deadline(case["id"], "decision", by=BusinessDays(1), reason="r")

    def test_removing_twice_is_a_conflict(self, flow: Taskflow, submitted: Any) -> None:
        flow.remove_deadline(submitted["id"], "decision", reason="r")
        with pytest.raises(Conflict):
            flow.remove_deadline(submitted["id"], "decision", reason="r")

    @pytest.mark.parametrize(
        "declaration",
        [
            {"name": "Decision", "within": DAY, "starts": ["a"]},
            {"name": "d", "within": BusinessDays(1), "starts": []},
            {"name": "d", "within": -DAY, "starts": ["a"]},
            {"name": "d", "within": 3, "starts": ["a"]},
            {"name": "d", "within": DAY, "starts": ["a"], "stops": ["a"]},
            {"name": "d", "within": DAY, "starts": ["A"]},
            {"name": "d", "within": DAY, "starts": ["a"], "calendar": "UTC"},
            {"name": "decision", "within": DAY, "starts": ["a"]},  # declared already
        ],
    )
    def test_a_bad_declaration_is_a_value_error(
        self, flow: Taskflow, declaration: dict[str, Any]
    ) -> None:
        arguments = dict(declaration)
        name = arguments.pop("name")
        with pytest.raises(ValueError, match=r"deadline|within|calendar|status"):
            flow.deadline(name, **arguments)

    def test_a_calendar_with_holidays_is_used(self, store: Store, clock: HandClock) -> None:
        calendar = BusinessCalendar(holidays=[at(8).date()], timezone="Europe/London")
        flow = Taskflow(store, clock=clock).deadline(
            "d", within=BusinessDays(1), starts=["submitted"], calendar=calendar
        )
        case = flow.set_status(flow.create({})["id"], "submitted")
        assert deadline(case, "d")["due"] == iso(at(10))  # the 8th is a holiday


class TestListing:
    @pytest.fixture
    def three(self, flow: Taskflow, clock: HandClock) -> dict[str, str]:
        """An overdue case, two running ones due on the 22nd and the 23rd, and one with no
        deadline running."""
        ids = {}
        for name, day in (("early", 7), ("late", 8), ("overdue", 4)):
            clock.at = at(day, 9)
            ids[name] = flow.set_status(flow.create({"n": name})["id"], "submitted")["id"]
        ids["none"] = flow.create({"n": "none"})["id"]
        clock.at = at(19)  # the 4th's deadline (the end of the 18th) has passed
        flow.run_due_timers()
        return ids

    def names(self, flow: Taskflow, query: dict[str, Any]) -> list[str]:
        return [c["data"]["n"] for c in flow.list(query)["data"]]

    def test_overdue_lists_the_overdue_only(self, flow: Taskflow, three: Any) -> None:
        assert self.names(flow, {"overdue": "true"}) == ["overdue"]
        assert flow.list({"overdue": True, "status": ["submitted"]})["meta"]["count"] == 1
        assert len(self.names(flow, {"overdue": "false"})) == 4

    def test_due_to_lists_running_deadlines_due_before(self, flow: Taskflow, three: Any) -> None:
        assert self.names(flow, {"due": {"to": iso(at(23))}}) == ["early"]
        assert self.names(flow, {"due": {"to": "2030-01-24"}}) == ["early", "late"]

    def test_sorting_by_due_puts_the_soonest_first_and_none_last(
        self, flow: Taskflow, three: Any
    ) -> None:
        assert self.names(flow, {"sort": {"column": "due"}}) == ["overdue", "early", "late", "none"]
        descending = {"sort": {"column": "due", "ascending": "false"}}
        assert self.names(flow, descending) == ["late", "early", "overdue", "none"]
        page = {"sort": {"column": "due"}, "limit": 2, "offset": 1, "overdue": "false"}
        assert self.names(flow, page) == ["early", "late"]

    def test_a_case_with_two_deadlines_is_listed_once_at_its_earliest_due(
        self, store: Store, clock: HandClock
    ) -> None:
        """Filtered by deadline and sorted by due: each case once, where its soonest running
        or overdue deadline puts it (PostgreSQL reads such a page off the due index)."""
        flow = (
            Taskflow(store, clock=clock)
            .deadline("reply", within=3 * DAY, starts=["urgent"])
            .deadline("decision", within=10 * DAY, starts=["submitted", "urgent"])
        )
        steps = (("a", 1, "submitted"), ("b", 2, "urgent"), ("c", 3, "submitted"))
        ids = {}
        for name, day, status in steps:  # decision due on the 11th, 12th, 13th; b replies by 5th
            clock.at = at(day)
            ids[name] = flow.set_status(flow.create({"n": name})["id"], status)["id"]
        clock.at = at(4)
        flow.set_status(ids["c"], "urgent")  # c's reply due on the 7th, its decision stays
        flow.create({"n": "none"})
        soon = {"due": {"to": iso(at(14))}, "sort": {"column": "due"}}
        assert self.names(flow, soon) == ["b", "c", "a"]
        later_first = {**soon, "sort": {"column": "due", "ascending": "false"}}
        assert self.names(flow, later_first) == ["a", "c", "b"]
        assert self.names(flow, {**soon, "limit": 2, "offset": 1}) == ["c", "a"]
        assert flow.list(soon)["meta"]["count"] == 3
        clock.at = at(8)  # both replies are late; the decisions are not
        assert flow.run_due_timers() == 2
        late = {"overdue": "true", "sort": {"column": "due"}}
        assert self.names(flow, late) == ["b", "c"]
        assert self.names(flow, {**late, "sort": {"column": "due", "ascending": "false"}}) == [
            "c",
            "b",
        ]
        assert self.names(flow, {**late, "limit": 1, "offset": 1}) == ["c"]
        # Counted once a case, whether the one parameter alone (PostgreSQL counts those from
        # the deadlines) or beside another filter.
        assert flow.list({**late, "limit": 1})["meta"]["count"] == 2
        assert flow.list({"overdue": True, "status": ["urgent"]})["meta"]["count"] == 2
        assert flow.list({"overdue": True, "status": ["submitted"]})["meta"]["count"] == 0
        assert flow.list({"due": {"to": iso(at(14))}, "overdue": True})["meta"]["count"] == 2

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"overdue": "yes"}, "overdue"),
            ({"due": {"to": "soon"}}, "due[to]"),
            ({"due": {"to": "2030-01-01T00:00:00"}}, "due[to]"),
            ({"due": {"from": "2030-01-01"}}, "due"),
        ],
    )
    def test_a_bad_deadline_parameter_is_refused(
        self, flow: Taskflow, query: dict[str, Any], field: str
    ) -> None:
        with pytest.raises(InvalidRequest) as raised:
            flow.list(query)
        assert field in (raised.value.errors or {})


class TestRepository:
    """The port (taskflow_core/ports.py, DeadlineRepository) as every store implements it."""

    def test_save_writes_the_state_with_its_timers_and_a_rollback_undoes_both(
        self, store: Store, flow: Taskflow
    ) -> None:
        case_id = flow.create({})["id"]
        state = DeadlineState(
            case_id=case_id, name="d", state="running", due=at(9), started_at=at(7)
        )
        timer = Timer(case_id=case_id, name="deadline:d:passed", due=at(9), fire_at=at(9))
        with store.unit_of_work() as uow:
            uow.deadlines.save(state, timers=[timer])
            assert uow.deadlines.get(case_id, "d") == state
            assert uow.timers.for_case(case_id) == [timer]
        with store.unit_of_work() as uow:
            assert uow.deadlines.get(case_id, "d") is None
            assert uow.timers.for_case(case_id) == []

    def test_save_replaces_the_state_and_cancels_timers_by_name(
        self, store: Store, flow: Taskflow
    ) -> None:
        case_id = flow.create({})["id"]
        running = DeadlineState(case_id=case_id, name="d", state="running", due=at(9))
        timers = [
            Timer(case_id=case_id, name=name, due=at(day), fire_at=at(day))
            for name, day in (("deadline:d:passed", 9), ("deadline:d:reminder", 8))
        ]
        with store.unit_of_work() as uow:
            uow.deadlines.save(running, timers=timers)
            uow.commit()
        paused = attrs.evolve(running, state="paused", remaining=2.0)
        with store.unit_of_work() as uow:
            uow.deadlines.save(paused, cancel=["deadline:d:passed", "deadline:d:reminder"])
            uow.commit()
        other = flow.create({})["id"]
        with store.unit_of_work(read_only=True) as uow:
            assert uow.deadlines.for_case(case_id) == [paused]
            assert uow.deadlines.for_cases([case_id, other, "not-an-id"]) == [paused]
            assert uow.timers.for_case(case_id) == []


class TestViewsAndCounts:
    def test_a_view_and_a_count_take_the_deadline_filters(
        self, flow: Taskflow, submitted: Any, clock: HandClock
    ) -> None:
        flow.create({})
        flow.view("late", {"overdue": "true"}, title="Overdue")
        assert flow.list({"view": "late"})["meta"]["count"] == 0
        clock.at = at(22)
        flow.run_due_timers()
        assert [c["id"] for c in flow.list({"view": "late"})["data"]] == [submitted["id"]]
        assert flow.views() == [{"name": "late", "title": "Overdue", "count": 1}]
        counted = flow.counts("status", {"overdue": "true"})
        assert counted == {"data": [{"value": "submitted", "count": 1}], "meta": {"count": 1}}


class TestHolding:
    def test_hold_reads_the_case_with_its_states(self, store: Store, submitted: Any) -> None:
        with store.unit_of_work() as uow:
            found = uow.deadlines.hold(submitted["id"])
            assert found is not None
            case, states = found
            assert case.id == submitted["id"]
            assert case.version == submitted["version"]
            assert [(s.name, s.state, s.due) for s in states] == [("decision", "running", at(22))]
            assert uow.deadlines.hold("00000000-0000-4000-8000-000000000000") is None
            assert uow.deadlines.hold("not-an-id") is None
