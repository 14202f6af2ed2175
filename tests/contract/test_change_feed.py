"""The change feed through the service, on every store: what a reader of ``flow.changes``
sees."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from taskflow_core import Taskflow
from taskflow_core.application import feed
from taskflow_core.domain.events import HookEvent
from taskflow_core.domain.wire import encode_json
from taskflow_core.errors import InvalidRequest
from tests.receiver import eventually

from .conftest import ALICE


def read_all(flow: Taskflow, count: int, after: str | None = None) -> list[dict[str, Any]]:
    """The first ``count`` items after ``after``, once the feed serves that many."""
    items: list[dict[str, Any]] = []

    def enough() -> bool:
        nonlocal items
        items = flow.changes(after, limit=1000)["data"]
        return len(items) >= count

    eventually(enough)
    return items[:count]


def entries_in_commit_order(flow: Taskflow, case_id: str) -> list[str]:
    """Entry ids as the case's log orders them (newest first there). Not by their written
    ``createdAt``: requests a moment apart may write the same millisecond."""
    return [e["id"] for e in reversed(flow.get(case_id)["activityLog"])]


class TestReading:
    def test_every_event_is_in_the_feed_in_commit_order(self, flow: Taskflow) -> None:
        first = flow.create({"n": 1}, user=ALICE)
        second = flow.create({"n": 2}, user=ALICE)
        flow.set_status(first["id"], "open", user=ALICE)
        flow.comment(second["id"], "hi", user=ALICE)
        flow.update(first["id"], {"more": True}, user=ALICE)
        items = read_all(flow, 5)
        assert [(i["caseId"], i["entry"]["eventName"]) for i in items] == [
            (first["id"], "create"),
            (second["id"], "create"),
            (first["id"], "status:new:open"),
            (second["id"], "comment"),
            (first["id"], "update"),
        ]

    def test_an_item_carries_the_entry_as_the_case_shows_it(self, flow: Taskflow) -> None:
        case = flow.create({"n": 1}, user=ALICE)
        shown = flow.comment(case["id"], "looks good", user=ALICE)["activityLog"][0]
        created, commented = read_all(flow, 2)
        assert commented["entry"] == shown
        assert commented["caseId"] == case["id"]
        assert set(commented) == {"cursor", "caseId", "entry"}
        assert created["entry"]["eventName"] == "create"

    def test_events_hooks_trigger_are_in_the_feed_after_the_one_that_triggered_them(
        self, flow: Taskflow
    ) -> None:
        def approve(event: HookEvent) -> None:
            event.set_status("approved")

        flow.hook("status:*:submitted", approve)
        case = flow.create({}, user=ALICE)
        flow.set_status(case["id"], "submitted", user=ALICE)
        names = [i["entry"]["eventName"] for i in read_all(flow, 3)]
        assert names == ["create", "status:new:submitted", "status:submitted:approved"]

    def test_a_rolled_back_request_leaves_nothing_in_the_feed(self, flow: Taskflow) -> None:
        case = flow.create({}, user=ALICE)

        def refuse(event: HookEvent) -> None:
            raise InvalidRequest("no")

        flow.hook("comment", refuse)
        with pytest.raises(InvalidRequest):
            flow.comment(case["id"], "never logged", user=ALICE)
        flow.set_status(case["id"], "open", user=ALICE)
        names = [i["entry"]["eventName"] for i in read_all(flow, 2)]
        assert names == ["create", "status:new:open"]
        assert len(flow.changes(limit=1000)["data"]) == 2

    def test_a_reader_resuming_from_its_cursor_gets_each_entry_exactly_once(
        self, flow: Taskflow
    ) -> None:
        case = flow.create({}, user=ALICE)
        for n in range(6):
            flow.comment(case["id"], f"comment {n}", user=ALICE)
        seen: list[str] = []
        cursor = None
        for _ in range(50):
            page = flow.changes(cursor, limit=2)
            assert len(page["data"]) <= 2
            seen += [i["entry"]["id"] for i in page["data"]]
            cursor = page["meta"]["next"]
            if len(seen) == 7:
                break
            if not page["data"]:
                time.sleep(0.05)
        assert seen == entries_in_commit_order(flow, case["id"])
        assert flow.changes(cursor)["data"] == []

    def test_an_item_cursor_resumes_after_that_item(self, flow: Taskflow) -> None:
        case = flow.create({}, user=ALICE)
        flow.comment(case["id"], "one", user=ALICE)
        flow.comment(case["id"], "two", user=ALICE)
        items = read_all(flow, 3)
        assert flow.changes(items[0]["cursor"])["data"] == items[1:]
        assert flow.changes(items[1]["cursor"], limit=1)["data"] == items[2:]

    def test_the_next_cursor_of_a_page_is_its_last_item_cursor(self, flow: Taskflow) -> None:
        flow.create({}, user=ALICE)
        flow.create({}, user=ALICE)
        items = read_all(flow, 2)
        page = flow.changes(limit=2)
        assert page["meta"]["next"] == items[-1]["cursor"]

    def test_an_empty_page_keeps_the_cursor_it_was_given(self, flow: Taskflow) -> None:
        assert flow.changes() == {"data": [], "meta": {"next": None}}
        flow.create({}, user=ALICE)
        (item,) = read_all(flow, 1)
        assert flow.changes(item["cursor"]) == {"data": [], "meta": {"next": item["cursor"]}}


class TestPagesOfBigEntries:
    """A page holds ``feed.PAGE_BUDGET`` of its entries' JSON at most, whatever ``limit``
    says, and its cursor reads on from exactly where it ended."""

    def test_a_page_of_big_entries_ends_early_and_its_cursor_misses_nothing(
        self, flow: Taskflow, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        case = flow.create({}, user=ALICE)
        for n in range(40):
            flow.comment(case["id"], f"{n:02d} " + "x" * 1000, user=ALICE)
        read_all(flow, 41)
        monkeypatch.setattr(feed, "PAGE_BUDGET", 10_000)
        pages: list[list[dict[str, Any]]] = []
        after = None
        while True:
            page = flow.changes(after, limit=1000)
            if not page["data"]:
                break
            pages.append(page["data"])
            assert page["meta"]["next"] == page["data"][-1]["cursor"]
            after = page["meta"]["next"]
        sizes = [sum(len(encode_json(item["entry"])) for item in p) for p in pages]
        assert all(size <= 10_000 for size in sizes)
        assert all(len(p) > 1 for p in pages)
        comments = [
            i["entry"]["comment"][:2] for p in pages for i in p[1 if p is pages[0] else 0 :]
        ]
        assert comments == [f"{n:02d}" for n in range(40)]
        assert len(pages) >= 4

    def test_an_entry_bigger_than_the_budget_comes_alone(
        self, flow: Taskflow, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        case = flow.create({}, user=ALICE)
        flow.comment(case["id"], "x" * 5000, user=ALICE)
        flow.comment(case["id"], "small", user=ALICE)
        first = read_all(flow, 1)[0]
        monkeypatch.setattr(feed, "PAGE_BUDGET", 1000)
        big = flow.changes(first["cursor"], limit=10)
        assert [i["entry"]["comment"][:5] for i in big["data"]] == ["xxxxx"]
        rest = flow.changes(big["meta"]["next"], limit=10)
        assert [i["entry"]["comment"] for i in rest["data"]] == ["small"]

    def test_a_page_of_small_entries_holds_its_limit(
        self, flow: Taskflow, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # More than the store is asked for at first: the page is read in more than one go.
        case = flow.create({}, user=ALICE)
        for n in range(feed.FIRST_READ + 20):
            flow.comment(case["id"], str(n), user=ALICE)
        read_all(flow, feed.FIRST_READ + 21)
        page = flow.changes(None, limit=feed.FIRST_READ + 10)["data"]
        assert [i["entry"]["comment"] for i in page[1:]] == [
            str(n) for n in range(feed.FIRST_READ + 9)
        ]


class TestConcurrentWriters:
    def test_each_case_events_are_in_the_feed_in_their_commit_order(self, flow: Taskflow) -> None:
        cases = [flow.create({"n": n}, user=ALICE)["id"] for n in range(3)]
        errors: list[BaseException] = []

        def write(worker: int) -> None:
            try:
                for n in range(5):
                    # Every worker writes every case: writers queue on each case's lock.
                    case_id = cases[(worker + n) % len(cases)]
                    flow.comment(case_id, f"{worker}/{n}", user=ALICE)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        items = read_all(flow, 3 + 4 * 5)
        for case_id in cases:
            in_feed = [i["entry"]["id"] for i in items if i["caseId"] == case_id]
            assert in_feed == entries_in_commit_order(flow, case_id)
        assert len({i["entry"]["id"] for i in items}) == len(items)


class TestWaiting:
    def test_a_waiting_reader_gets_an_entry_as_soon_as_it_commits(self, flow: Taskflow) -> None:
        case = flow.create({}, user=ALICE)
        (created,) = read_all(flow, 1)
        threading.Timer(0.3, flow.comment, (case["id"], "now")).start()
        started = time.monotonic()
        page = flow.changes(created["cursor"], wait=15)
        waited = time.monotonic() - started
        assert [i["entry"]["eventName"] for i in page["data"]] == ["comment"]
        assert 0.25 <= waited < 10

    def test_a_waiting_reader_gets_an_empty_page_when_the_time_is_up(self, flow: Taskflow) -> None:
        started = time.monotonic()
        page = flow.changes(wait=0.6)
        assert page == {"data": [], "meta": {"next": None}}
        assert 0.6 <= time.monotonic() - started < 5

    def test_a_reader_with_entries_waiting_is_answered_at_once(self, flow: Taskflow) -> None:
        flow.create({}, user=ALICE)
        read_all(flow, 1)
        started = time.monotonic()
        assert len(flow.changes(wait=20)["data"]) == 1
        assert time.monotonic() - started < 5


class TestBadInput:
    @pytest.mark.parametrize(
        "cursor",
        ["", "not a cursor", "MC4x=", "MS4y.", "bm9wZQ", "LTEuMQ", "MDEuMQ", "x" * 65, 12],
    )
    def test_a_malformed_cursor_is_invalid(self, flow: Taskflow, cursor: Any) -> None:
        with pytest.raises(InvalidRequest) as raised:
            flow.changes(cursor)
        assert raised.value.errors == {"after": "invalid"}

    @pytest.mark.parametrize("limit", [0, -1, 1001, 2.5, "10", True, None])
    def test_a_limit_outside_1_to_1000_is_invalid(self, flow: Taskflow, limit: Any) -> None:
        with pytest.raises(InvalidRequest) as raised:
            flow.changes(limit=limit)
        assert raised.value.errors == {"limit": "invalid"}

    @pytest.mark.parametrize("wait", [-1, 30.5, float("nan"), float("inf"), "1", None])
    def test_a_wait_outside_0_to_30_seconds_is_invalid(self, flow: Taskflow, wait: Any) -> None:
        with pytest.raises(InvalidRequest) as raised:
            flow.changes(wait=wait)
        assert raised.value.errors == {"wait": "invalid"}

    def test_the_bounds_are_allowed(self, flow: Taskflow) -> None:
        assert flow.changes(limit=1)["data"] == []
        assert flow.changes(limit=1000, wait=0)["data"] == []
