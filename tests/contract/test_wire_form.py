"""What a client of the original sees of timestamps and numbers, on every store, through the
service (SPEC §3, "Details a client of the original can see"; issue 23)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from typing import Any

from taskflow_core import HookEvent, Taskflow

from .conftest import ALICE

# As JavaScript's Date.toISOString writes a date.
JS_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class StandingClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def stamps(case: dict[str, Any]) -> list[str]:
    found = [case["createdAt"], case["updatedAt"]]
    for entry in case.get("activityLog", []):
        found += [entry["createdAt"], entry["updatedAt"]]
    return found


def cascade(flow: Taskflow, depth: int) -> None:
    """Each status change starts the next, all in the request that creates the case."""
    statuses = ["s" + "a" * n for n in range(depth)]
    flow.hook("create", lambda event: event.set_status(statuses[0]))
    for current, following in itertools.pairwise(statuses):

        def step(event: HookEvent, following: str = following) -> None:
            event.set_status(following)

        flow.hook(f"status:*:{current}", step)


def test_every_timestamp_is_written_as_javascript_writes_dates(flow: Taskflow) -> None:
    case = flow.create({"a": 1}, user=ALICE)
    flow.comment(case["id"], "hi", user=ALICE)
    flow.set_status(case["id"], "open", user=ALICE)

    shown = flow.get(case["id"])
    listed = flow.list()["data"]
    # What the feed serves at once (PostgreSQL's may hold entries back while another
    # transaction on the server is open: tests/contract/test_change_feed.py waits for them).
    feed = flow.changes()["data"]

    written = [*stamps(shown), *(s for c in listed for s in stamps(c))]
    written += [
        s for item in feed for s in (item["entry"]["createdAt"], item["entry"]["updatedAt"])
    ]
    assert len(written) >= 2 + 6 + 2
    assert all(JS_DATE.fullmatch(stamp) for stamp in written), written


def test_a_requests_entries_are_strictly_increasing_as_written(flow: Taskflow) -> None:
    # Thirty events in one request come well within a few milliseconds of each other.
    cascade(flow, 30)

    case = flow.create({})

    written = [entry["createdAt"] for entry in reversed(case["activityLog"])]
    assert len(written) == 31
    assert all(a < b for a, b in itertools.pairwise(written)), written
    feed = [item["entry"]["createdAt"] for item in flow.changes(limit=100)["data"]]
    assert feed == written[: len(feed)]


def test_under_a_clock_that_stands_still_they_are_milliseconds_apart(store: Any) -> None:
    at = datetime(2030, 5, 6, 7, 8, 9, 999_999, tzinfo=UTC)
    flow = Taskflow(store, clock=StandingClock(at))
    cascade(flow, 3)

    case = flow.create({})

    written = [entry["createdAt"] for entry in reversed(case["activityLog"])]
    assert len(written) == 4
    assert all(a < b for a, b in itertools.pairwise(written)), written
    assert written[0].startswith("2030-05-06T07:08:")
