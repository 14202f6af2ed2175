"""The timers repository: a case's timers, and claiming due ones without double firing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import Connection, sql

from taskflow_core.domain.model import TIMER_FIELDS, Timer

from .db import execute, fetch_all, fetch_one, render
from .rows import id_param, timer_from_row

_COLUMNS = sql.SQL(", ").join(sql.Identifier(c) for c in TIMER_FIELDS)

_SET = render(
    sql.SQL(
        "INSERT INTO timers ({columns}) VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (case_id, name) DO UPDATE SET due = excluded.due,"
        " fire_at = excluded.fire_at, attempts = excluded.attempts,"
        " last_error = excluded.last_error"
    ).format(columns=_COLUMNS)
)
_GET = render(
    sql.SQL("SELECT {columns} FROM timers WHERE case_id = %s AND name = %s").format(
        columns=_COLUMNS
    )
)
_DELETE = render(sql.SQL("DELETE FROM timers WHERE case_id = %s AND name = %s"))
_FOR_CASE = render(
    sql.SQL("SELECT {columns} FROM timers WHERE case_id = %s ORDER BY due, name").format(
        columns=_COLUMNS
    )
)
# The timer and its case are locked together, and a timer whose row or case another
# transaction holds is skipped: so several sweepers each take a different timer, and a sweeper
# never waits on (or deadlocks with) a request that holds the case and is setting its timers.
_CLAIM = render(
    sql.SQL(
        """
    SELECT {columns} FROM timers AS t JOIN cases AS c ON c.id = t.case_id
    WHERE t.fire_at <= %s
    ORDER BY t.fire_at
    LIMIT 1
    FOR UPDATE OF t, c SKIP LOCKED
    """
    ).format(columns=sql.SQL(", ").join(sql.Identifier("t", c) for c in TIMER_FIELDS))
)


class PostgresTimerRepository:
    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn

    def set(self, timer: Timer) -> None:
        params = (
            id_param(timer.case_id),
            timer.name,
            timer.due,
            timer.fire_at,
            timer.attempts,
            timer.last_error,
        )
        execute(self._conn, _SET, params)

    def get(self, case_id: str, name: str) -> Timer | None:
        row = fetch_one(self._conn, _GET, (id_param(case_id), name))
        return None if row is None else timer_from_row(row)

    def delete(self, case_id: str, name: str) -> None:
        execute(self._conn, _DELETE, (id_param(case_id), name))

    def for_case(self, case_id: str) -> list[Timer]:
        key = id_param(case_id)
        if key is None:
            return []
        return [timer_from_row(row) for row in fetch_all(self._conn, _FOR_CASE, (key,))]

    def claim_due(self, now: datetime) -> Timer | None:
        row = fetch_one(self._conn, _CLAIM, (now,))
        return None if row is None else timer_from_row(row)
