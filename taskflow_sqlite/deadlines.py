"""The deadlines repository over SQLite: where each case's deadlines stand."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from taskflow_core.domain.model import DEADLINE_FIELDS, Case, DeadlineState, Timer

from .repositories import Execute, SqliteCaseRepository
from .timers import SqliteTimerRepository
from .timestamps import parse_timestamp, timestamp

_COLUMNS = ", ".join(DEADLINE_FIELDS)
_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in DEADLINE_FIELDS[2:])


class SqliteDeadlineRepository:
    def __init__(self, execute: Execute) -> None:
        self._execute = execute
        # An embedded database has no round trips to save: the timers go as ever.
        self._timers = SqliteTimerRepository(execute)

    def save(
        self, state: DeadlineState, *, timers: Sequence[Timer] = (), cancel: Sequence[str] = ()
    ) -> None:
        self._execute(
            f"INSERT INTO deadlines ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT (case_id, name) DO UPDATE SET {_UPDATES}",
            (
                state.case_id,
                state.name,
                state.state,
                None if state.due is None else timestamp(state.due),
                None if state.started_at is None else timestamp(state.started_at),
                state.remaining,
                state.prior,
            ),
        )
        for timer in timers:
            self._timers.set(timer)
        for name in cancel:
            self._timers.delete(state.case_id, name)

    def get(self, case_id: str, name: str) -> DeadlineState | None:
        row = self._execute(
            f"SELECT {_COLUMNS} FROM deadlines WHERE case_id = ? AND name = ?", (case_id, name)
        ).fetchone()
        return None if row is None else _deadline_from_row(row)

    def for_case(self, case_id: str) -> list[DeadlineState]:
        return self.for_cases([case_id])

    def hold(self, case_id: str) -> tuple[Case, list[DeadlineState]] | None:
        # Embedded: two statements cost no round trip, and the unit of work holds the write
        # lock already (BEGIN IMMEDIATE).
        case = SqliteCaseRepository(self._execute).get(case_id, lock=True)
        return None if case is None else (case, self.for_case(case_id))

    def for_cases(self, case_ids: Sequence[str]) -> list[DeadlineState]:
        if not case_ids:
            return []
        # One parameter holding the ids as JSON: any page size, one statement.
        rows = self._execute(
            f"SELECT {_COLUMNS} FROM deadlines"
            " WHERE case_id IN (SELECT value FROM json_each(?)) ORDER BY case_id, name",
            (_ids(case_ids),),
        ).fetchall()
        return [_deadline_from_row(row) for row in rows]


def _ids(case_ids: Sequence[str]) -> str:
    return json.dumps(list(case_ids))


def _deadline_from_row(row: Sequence[Any]) -> DeadlineState:
    case_id, name, state, due, started_at, remaining, prior = row
    return DeadlineState(
        case_id=case_id,
        name=name,
        state=state,
        due=None if due is None else parse_timestamp(due),
        started_at=None if started_at is None else parse_timestamp(started_at),
        remaining=remaining,
        prior=prior,
    )
