"""The worked example of docs/timers.md, run on every store: the page shows this code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from docs.examples import deadlines
from docs.examples.deadlines import configure
from taskflow_core import Taskflow
from taskflow_core.ports import Store
from tests.support.clock import HandClock

DOCS = Path(__file__).resolve().parents[2] / "docs"
T0 = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def clock() -> HandClock:
    return HandClock(T0)


@pytest.fixture
def flow(store: Store, clock: HandClock) -> Taskflow:
    return configure(Taskflow(store, clock=clock))


@pytest.fixture
def submitted(flow: Taskflow) -> dict[str, Any]:
    case = flow.create({"kind": "dog"})
    return flow.set_status(case["id"], "submitted")


def timers(flow: Taskflow, case: dict[str, Any]) -> dict[str, str]:
    return {t["name"]: t["due"][:10] for t in flow.timers(case["id"])}


def test_the_page_shows_the_example_code_as_it_is() -> None:
    code = Path(deadlines.__file__).read_text().split('"""', 2)[2].strip()
    assert code in (DOCS / "timers.md").read_text()


def test_submitting_starts_a_reminder_and_a_deadline(flow: Taskflow, submitted: Any) -> None:
    assert timers(flow, submitted) == {"reminder": "2031-03-09", "deadline": "2031-04-11"}


def test_a_week_of_silence_sends_a_reminder_and_sets_the_next(
    flow: Taskflow, submitted: Any, clock: HandClock
) -> None:
    clock.at = T0 + 7 * DAY
    assert flow.run_due_timers() == 1
    case = flow.get(submitted["id"])
    assert case["data"]["reminders"] == 1
    assert timers(flow, case)["reminder"] == "2031-03-16"


def test_a_comment_moves_the_reminder(flow: Taskflow, submitted: Any, clock: HandClock) -> None:
    clock.at = T0 + 5 * DAY
    flow.comment(submitted["id"], "Could you send the vaccination record?")
    assert timers(flow, submitted)["reminder"] == "2031-03-14"
    clock.at = T0 + 7 * DAY
    assert flow.run_due_timers() == 0


def test_a_decision_cancels_both(flow: Taskflow, submitted: Any, clock: HandClock) -> None:
    clock.at = T0 + 12 * DAY
    flow.set_status(submitted["id"], "approved")
    assert timers(flow, submitted) == {}
    clock.at = T0 + 100 * DAY
    assert flow.run_due_timers() == 0


def test_forty_days_without_a_decision_withdraws_it(
    flow: Taskflow, submitted: Any, clock: HandClock
) -> None:
    clock.at = T0 + 40 * DAY
    fired = flow.run_due_timers()
    case = flow.get(submitted["id"])
    assert case["status"] == "withdrawn"
    assert fired == 2  # the reminder (overdue since day 7) and the deadline
    assert timers(flow, case) == {}
    # Both fired at the same instant of the test's clock, so only what, not in which order.
    events = {e["eventName"] for e in case["activityLog"]}
    assert {"timer:reminder", "timer:deadline", "status:submitted:withdrawn"} <= events
