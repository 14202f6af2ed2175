"""The deadlines repository: where each case's deadlines stand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import Connection, sql

from taskflow_core.domain.model import DEADLINE_FIELDS, DeadlineState

from .db import execute, fetch_all, fetch_one, render
from .rows import id_param, utc

_COLUMNS = sql.SQL(", ").join(sql.Identifier(c) for c in DEADLINE_FIELDS)

_SET = render(
    sql.SQL(
        "INSERT INTO deadlines ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (case_id, name) DO UPDATE SET {updates}"
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


class PostgresDeadlineRepository:
    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn

    def set(self, state: DeadlineState) -> None:
        params = (
            id_param(state.case_id),
            state.name,
            state.state,
            state.due,
            state.started_at,
            state.remaining,
            state.prior,
        )
        execute(self._conn, _SET, params)

    def get(self, case_id: str, name: str) -> DeadlineState | None:
        row = fetch_one(self._conn, _GET, (id_param(case_id), name))
        return None if row is None else _deadline_from_row(row)

    def for_case(self, case_id: str) -> list[DeadlineState]:
        return self.for_cases([case_id])

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
