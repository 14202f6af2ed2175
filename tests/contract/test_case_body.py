"""``GET /{id}``'s answer read a page of the log at a time (``Taskflow.read_body``): the very
bytes of the case built whole, comment edits and deletions folded across pages, on every
store (taskflow_core/application/case_body.py)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from taskflow_core import Taskflow
from taskflow_core.application.answers import single_case_body
from taskflow_core.errors import NotFound
from taskflow_core.ports import Store
from tests.contract.conftest import ALICE, BOB
from tests.support.clock import HandClock

T0 = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
# A few entries a page: the logs below span several.
BUDGET = 600


def _sent(flow: Taskflow, case_id: str, **kw: Any) -> bytes:
    body = flow.read_body(case_id, budget=BUDGET, **kw)
    assert body.whole is None, "expected a streamed answer"
    try:
        return b"".join(body)
    finally:
        body.close()


def _commented(flow: Taskflow, clock: HandClock) -> str:
    """A case with comments edited and deleted many entries after they were made, numbers
    JavaScript writes otherwise than Python, and one edit logged (by a clock set back) as
    older than the comment it edits."""
    case = flow.create({"n": 1.0, "big": 1e21, "small": 1e-7, "text": "é \u2028"}, user=ALICE)
    ids = []
    for n in range(6):
        clock.at += timedelta(seconds=1)
        found = flow.comment(case["id"], f"comment {n}", user=ALICE)
        ids.append(next(e["id"] for e in found["activityLog"] if e["eventName"] == "comment"))
    for n in range(20):
        clock.at += timedelta(seconds=1)
        flow.update(case["id"], {"step": n, "pad": "x" * 40}, user=BOB)
    flow.update_comment(case["id"], ids[0], "first, edited", user=ALICE)
    flow.update_comment(case["id"], ids[0], "first, edited again", user=ALICE)
    flow.delete_comment(case["id"], ids[1], user=ALICE)
    clock.at += timedelta(seconds=1)
    flow.update_comment(case["id"], ids[5], "last, edited", user=ALICE)
    clock.at = T0 - timedelta(days=1)
    flow.update_comment(case["id"], ids[4], "edited by a clock set back", user=ALICE)
    clock.at = T0 + timedelta(minutes=5)
    return str(case["id"])


@pytest.fixture
def clock() -> HandClock:
    return HandClock(T0)


def test_a_streamed_case_is_the_case_built_whole_byte_for_byte(
    store: Store, clock: HandClock
) -> None:
    flow = Taskflow(store, clock=clock)
    case_id = _commented(flow, clock)
    whole = flow.read(case_id)

    sent = _sent(flow, case_id)

    assert sent == single_case_body(whole.case)
    assert flow.read_body(case_id, budget=BUDGET).version == whole.version
    log = whole.case["activityLog"]
    assert [e["comment"] for e in log if e["eventName"] == "comment"] == [
        "last, edited",
        "edited by a clock set back",
        "comment 3",
        "comment 2",
        None,
        "first, edited again",
    ]


def test_deadlines_and_next_statuses_follow_the_streamed_log(
    store: Store, clock: HandClock
) -> None:
    flow = Taskflow(store, clock=clock)
    flow.transition("new", "open").transition("open", "closed")
    flow.deadline("reply", within=timedelta(days=2), starts=["open"], stops=["closed"])
    case_id = _commented(flow, clock)
    flow.set_status(case_id, "open")

    assert _sent(flow, case_id) == single_case_body(flow.get(case_id))
    assert b'"nextStatuses": ["closed"]}}' in _sent(flow, case_id)


def test_a_short_log_is_answered_whole(store: Store, clock: HandClock) -> None:
    flow = Taskflow(store, clock=clock)
    case = flow.create({"a": 1})
    body = flow.read_body(case["id"])
    assert body.whole == single_case_body(flow.get(case["id"]))
    assert list(body) == [body.whole]


def test_decorators_see_the_whole_case(store: Store, clock: HandClock) -> None:
    flow = Taskflow(store, clock=clock)
    seen = []

    def count_entries(case: dict[str, Any], user: Any) -> dict[str, Any]:
        seen.append(len(case["activityLog"]))
        return {**case, "entries": len(case["activityLog"])}

    flow.decorate(count_entries)
    case_id = _commented(flow, clock)
    seen.clear()
    body = flow.read_body(case_id, budget=BUDGET)
    assert body.whole == single_case_body(flow.get(case_id))
    assert seen == [27, 27]


def test_a_missing_case_is_not_found_before_any_byte(store: Store) -> None:
    flow = Taskflow(store)
    with pytest.raises(NotFound):
        flow.read_body("00000000-0000-4000-8000-000000000000")
    # The failed read held nothing: the store still serves.
    assert flow.create({})["version"] == 1


def test_a_streamed_case_shows_the_one_state_it_began_reading(
    store: Store, clock: HandClock
) -> None:
    flow = Taskflow(store, clock=clock)
    case_id = _commented(flow, clock)
    before = single_case_body(flow.get(case_id))
    body = flow.read_body(case_id, budget=BUDGET)
    chunks = iter(body)
    first = next(chunks)

    def write() -> None:
        found = flow.get(case_id)["activityLog"]
        oldest = next(e["id"] for e in reversed(found) if e["eventName"] == "comment")
        flow.update_comment(case_id, oldest, "edited while sent", user=ALICE)
        flow.comment(case_id, "written while sent", user=BOB)

    # A store that serialises its transactions (memory) lets the writer in once the answer
    # is sent; the others let it commit meanwhile.
    writer = threading.Thread(target=write)
    writer.start()
    writer.join(timeout=2)
    sent = first + b"".join(chunks)
    body.close()
    writer.join()

    assert sent == before
    assert b"written while sent" in single_case_body(flow.get(case_id))


def test_an_answer_closed_before_it_is_sent_ends_its_read(store: Store, clock: HandClock) -> None:
    flow = Taskflow(store, clock=clock)
    case_id = _commented(flow, clock)
    for _ in range(3):
        flow.read_body(case_id, budget=BUDGET).close()
    # Nothing held: a write goes through, on every store.
    assert flow.comment(case_id, "after", user=BOB)["version"] > 1
