"""The activity repository: a case's log, appended to and read newest first."""

from __future__ import annotations

from typing import Any

from psycopg import Connection, sql

from taskflow_core.domain.model import ActivityEntry

from .changes import LOG_AND_PUBLISH
from .db import execute, fetch_all, render
from .rows import ENTRY_COLUMNS, entry_from_row, id_param, json_param, newest_first

_COLUMNS = sql.SQL(", ").join(sql.Identifier(c) for c in ENTRY_COLUMNS)

_FOR_CASE = render(
    sql.SQL("SELECT {columns} FROM activity_log WHERE case_id = %s ORDER BY {newest_first}").format(
        columns=_COLUMNS, newest_first=newest_first("activity_log")
    )
)


class PostgresActivityRepository:
    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn
        # Whether this unit of work has published entries, whose readers to wake on commit.
        self.published = False

    def add(self, entry: ActivityEntry) -> None:
        params = (
            entry.id,
            entry.case_id,
            entry.changed_by,
            entry.event_name,
            json_param(entry.event),
            entry.comment,
            entry.created_at,
            entry.updated_at,
        )
        execute(self._conn, LOG_AND_PUBLISH, params)
        self.published = True

    def for_case(self, case_id: str) -> list[ActivityEntry]:
        key = id_param(case_id)
        if key is None:
            return []
        return [entry_from_row(row) for row in fetch_all(self._conn, _FOR_CASE, (key,))]
