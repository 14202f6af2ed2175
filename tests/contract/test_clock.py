"""The injectable clock: every timestamp a flow writes comes from it, on every store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from taskflow_core import Taskflow
from taskflow_core.ports import Store

T0 = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)


class Manual:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def test_case_and_log_timestamps_come_from_the_flows_clock(store: Store) -> None:
    clock = Manual(T0)
    flow = Taskflow(store, clock=clock)
    case = flow.create({"a": 1})
    clock.at = T0 + timedelta(days=3)
    case = flow.set_status(case["id"], "open")

    assert case["createdAt"] == "2030-05-06T07:08:09.000Z"
    assert case["updatedAt"].startswith("2030-05-09T07:08:09")
    assert [e["createdAt"][:10] for e in case["activityLog"]] == ["2030-05-09", "2030-05-06"]


def test_a_clock_that_stands_still_still_orders_one_requests_entries(store: Store) -> None:
    flow = Taskflow(store, clock=Manual(T0))
    flow.hook("create", lambda event: event.set_status("open"))
    case = flow.create({})
    stamps = [e["createdAt"] for e in reversed(case["activityLog"])]
    assert len(stamps) == 2
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == 2


def test_a_clock_in_another_zone_is_written_as_utc(store: Store) -> None:
    flow = Taskflow(store, clock=Manual(T0.astimezone(timezone(timedelta(hours=2)))))
    assert flow.create({})["createdAt"] == "2030-05-06T07:08:09.000Z"


def test_a_naive_clock_is_refused(store: Store) -> None:
    flow = Taskflow(store, clock=lambda: datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        flow.create({})
    assert flow.list()["meta"]["count"] == 0


def test_entries_written_at_one_instant_by_different_processes_keep_the_order_written(
    store: Store,
) -> None:
    # Each flow stands for a process of its own (a timeline of its own): every one writes at
    # the same instant, so created_at ties across them and only the store can tell the order.
    flows = [Taskflow(store, clock=Manual(T0)) for _ in range(8)]
    case = flows[0].create({})
    for number, flow in enumerate(flows[1:], start=1):
        flow.comment(case["id"], f"comment {number}")

    comments = [e for e in flows[0].get(case["id"])["activityLog"] if e["comment"]]
    assert len({entry["createdAt"] for entry in comments}) == 1  # they all tie
    assert [entry["comment"] for entry in comments] == [f"comment {n}" for n in range(7, 0, -1)]
