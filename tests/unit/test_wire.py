"""Wire form and comment folding, independent of any store."""

import itertools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from taskflow_core.domain.clock import TransactionClock, timestamp
from taskflow_core.domain.model import ActivityEntry, Case
from taskflow_core.domain.wire import case_to_wire, encode_json, fold_comments

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def entry(
    n: int, name: str, comment: str | None = None, target: str | None = None
) -> ActivityEntry:
    meta: dict[str, Any] = {"id": target} if target else {}
    at = T0 + timedelta(seconds=n)
    return ActivityEntry(
        id=f"e{n}",
        case_id="c",
        changed_by="alice",
        event_name=name,
        event={"meta": meta},
        comment=comment,
        created_at=at,
        updated_at=at,
    )


def test_case_wire_form_is_camel_case_with_utc_timestamps_and_the_version() -> None:
    case = Case(
        id="c",
        status="new",
        data={"a": 1},
        assigned_to="bob",
        created_at=T0,
        updated_at=T0 + timedelta(microseconds=5999),
        version=7,
    )
    assert case_to_wire(case) == {
        "id": "c",
        "status": "new",
        "data": {"a": 1},
        "assignedTo": "bob",
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-01-01T00:00:00.005Z",
        "version": 7,
    }
    assert case_to_wire(case, [])["activityLog"] == []


def test_latest_edit_wins_and_edit_entries_are_hidden() -> None:
    newest_first = [
        entry(4, "update-comment", "third", target="e1"),
        entry(3, "status:new:open"),
        entry(2, "update-comment", "second", target="e1"),
        entry(1, "comment", "first"),
        entry(0, "create"),
    ]
    folded = fold_comments(newest_first)
    assert [e["id"] for e in folded] == ["e3", "e1", "e0"]
    assert folded[1]["comment"] == "third"
    # The comment keeps its own updatedAt, as the original shows it.
    assert folded[1]["updatedAt"] == "2026-01-01T00:00:01.000Z"


def test_deleted_comment_has_no_text() -> None:
    folded = fold_comments([entry(2, "delete-comment", target="e1"), entry(1, "comment", "x")])
    assert folded == [{**folded[0], "comment": None, "deleted": True}]
    assert "deleted" in folded[0]


def test_clock_strictly_increases_even_within_one_microsecond() -> None:
    clock = TransactionClock()
    readings = [clock.now() for _ in range(1000)]
    assert all(a < b for a, b in itertools.pairwise(readings))


def test_timestamps_are_written_as_javascript_writes_dates() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert timestamp(datetime(2026, 1, 5, 10, 0, 0, 123999, tzinfo=UTC)) == (
        "2026-01-05T10:00:00.123Z"
    )
    assert timestamp(datetime(2026, 1, 5, 12, 0, tzinfo=plus_two)) == "2026-01-05T10:00:00.000Z"
    assert timestamp(datetime(2026, 1, 5, 10, 0, 0, 999, tzinfo=UTC)) == (
        "2026-01-05T10:00:00.000Z"
    )


def test_clock_readings_of_one_transaction_differ_as_written() -> None:
    clock = TransactionClock()
    written = [timestamp(clock.now()) for _ in range(100)]
    assert all(a < b for a, b in itertools.pairwise(written))


def test_a_decorators_aware_datetime_is_written_as_javascript_writes_dates() -> None:
    moment = datetime(2026, 1, 5, 11, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert encode_json({"at": moment, "day": moment.date()}) == (
        '{"at": "2026-01-05T10:00:00.123Z", "day": "2026-01-05"}'
    )
