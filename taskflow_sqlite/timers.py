"""The timers repository over SQLite: a case's timers, and the due ones for a sweep."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from taskflow_core.domain.model import TIMER_FIELDS, Timer

from .repositories import Execute
from .timestamps import parse_timestamp, timestamp

_COLUMNS = ", ".join(TIMER_FIELDS)


class SqliteTimerRepository:
    def __init__(self, execute: Execute) -> None:
        self._execute = execute

    def set(self, timer: Timer) -> None:
        self._execute(
            f"INSERT INTO timers ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (case_id, name) DO UPDATE SET due = excluded.due,"
            " fire_at = excluded.fire_at, attempts = excluded.attempts,"
            " last_error = excluded.last_error",
            (
                timer.case_id,
                timer.name,
                timestamp(timer.due),
                timestamp(timer.fire_at),
                timer.attempts,
                timer.last_error,
            ),
        )

    def get(self, case_id: str, name: str) -> Timer | None:
        row = self._execute(
            f"SELECT {_COLUMNS} FROM timers WHERE case_id = ? AND name = ?", (case_id, name)
        ).fetchone()
        return None if row is None else _timer_from_row(row)

    def delete(self, case_id: str, name: str) -> None:
        self._execute("DELETE FROM timers WHERE case_id = ? AND name = ?", (case_id, name))

    def for_case(self, case_id: str) -> list[Timer]:
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM timers WHERE case_id = ? ORDER BY due, name", (case_id,)
        ).fetchall()
        return [_timer_from_row(row) for row in rows]

    def claim_due(self, now: datetime) -> Timer | None:
        # A writing unit of work holds the database's write lock (BEGIN IMMEDIATE): no other
        # process can claim this timer until it commits or rolls back.
        row = self._execute(
            f"SELECT {_COLUMNS} FROM timers WHERE fire_at <= ?"
            " ORDER BY fire_at, case_id, name LIMIT 1",
            (timestamp(now),),
        ).fetchone()
        return None if row is None else _timer_from_row(row)


def _timer_from_row(row: Sequence[Any]) -> Timer:
    case_id, name, due, fire_at, attempts, last_error = row
    return Timer(
        case_id=case_id,
        name=name,
        due=parse_timestamp(due),
        fire_at=parse_timestamp(fire_at),
        attempts=attempts,
        last_error=last_error,
    )
