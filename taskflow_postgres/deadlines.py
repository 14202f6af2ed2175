"""The deadlines repository: where each case's deadlines stand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import Connection, sql

from taskflow_core.domain.model import DEADLINE_FIELDS, Case, DeadlineState, Timer

from .db import execute, fetch_all, fetch_one, render
from .rows import CASE_COLUMNS, case_from_row, id_param, utc

_COLUMNS = sql.SQL(", ").join(sql.Identifier(c) for c in DEADLINE_FIELDS)

# The state, the timers its events fire on (set, or moved) and those it no longer wants, in
# one statement: data-modifying CTEs each run once, whether or not anything reads them, and
# touch different timers (a name is set or cancelled, never both).
_SAVE = render(
    sql.SQL(
        """
    WITH saved AS (
        INSERT INTO deadlines ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (case_id, name) DO UPDATE SET {updates}
    ), timed AS (
        INSERT INTO timers (case_id, name, due, fire_at, attempts, last_error)
        SELECT %s, t.name, t.due, t.due, 0, NULL
        FROM unnest(%s::text[], %s::timestamptz[]) AS t (name, due)
        ON CONFLICT (case_id, name) DO UPDATE SET due = excluded.due,
            fire_at = excluded.fire_at, attempts = 0, last_error = NULL
    ), cancelled AS (
        DELETE FROM timers WHERE case_id = %s AND name = ANY(%s::text[])
    )
    SELECT 1
    """
    ).format(
        columns=_COLUMNS,
        updates=sql.SQL(", ").join(
            sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in DEADLINE_FIELDS[2:]
        ),
    )
)
_GET = render(
    sql.SQL("SELECT {columns} FROM deadlines WHERE case_id = %s AND name = %s").format(
        columns=_COLUMNS
    )
)
_FOR_CASES = render(
    sql.SQL(
        "SELECT {columns} FROM deadlines WHERE case_id = ANY(%s) ORDER BY case_id, name"
    ).format(columns=_COLUMNS)
)


# The case locked (as cases.py's FOR UPDATE), its deadline states aggregated beside it: the
# first read of a request on a flow with deadlines, one round trip for both.
_HOLD = render(
    sql.SQL(
        """
    SELECT {case_columns}, (
        SELECT coalesce(json_agg(json_build_object({pairs}) ORDER BY d.name), '[]')
        FROM deadlines AS d WHERE d.case_id = c.id
    ) AS deadlines
    FROM cases AS c WHERE c.id = %s
    FOR UPDATE OF c
    """
    ).format(
        case_columns=sql.SQL(", ").join(sql.Identifier("c", col) for col in CASE_COLUMNS),
        pairs=sql.SQL(", ").join(
            sql.SQL("{}, {}").format(sql.Literal(col), sql.Identifier("d", col))
            for col in DEADLINE_FIELDS
        ),
    )
)


class PostgresDeadlineRepository:
    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn

    def save(
        self, state: DeadlineState, *, timers: Sequence[Timer] = (), cancel: Sequence[str] = ()
    ) -> None:
        case = id_param(state.case_id)
        if any(t.case_id != state.case_id or t.due != t.fire_at for t in timers):
            raise ValueError("a deadline's timers are its case's, not yet tried")
        params = (
            case,
            state.name,
            state.state,
            state.due,
            state.started_at,
            state.remaining,
            state.prior,
            case,
            [t.name for t in timers],
            [t.due for t in timers],
            case,
            list(cancel),
        )
        execute(self._conn, _SAVE, params)

    def get(self, case_id: str, name: str) -> DeadlineState | None:
        row = fetch_one(self._conn, _GET, (id_param(case_id), name))
        return None if row is None else _deadline_from_row(row)

    def for_case(self, case_id: str) -> list[DeadlineState]:
        return self.for_cases([case_id])

    def hold(self, case_id: str) -> tuple[Case, list[DeadlineState]] | None:
        key = id_param(case_id)
        if key is None:
            return None
        row = fetch_one(self._conn, _HOLD, (key,))
        if row is None:
            return None
        return case_from_row(row), [_deadline_from_row(d) for d in row["deadlines"]]

    def for_cases(self, case_ids: Sequence[str]) -> list[DeadlineState]:
        keys = [key for key in (id_param(c) for c in case_ids) if key is not None]
        if not keys:
            return []
        return [_deadline_from_row(row) for row in fetch_all(self._conn, _FOR_CASES, (keys,))]


def _deadline_from_row(row: Mapping[str, Any]) -> DeadlineState:
    return DeadlineState(
        case_id=str(row["case_id"]),
        name=row["name"],
        state=row["state"],
        due=None if row["due"] is None else utc(row["due"]),
        started_at=None if row["started_at"] is None else utc(row["started_at"]),
        remaining=row["remaining"],
        prior=row["prior"],
    )
