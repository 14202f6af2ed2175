"""The activity repository: a case's log, appended to and read newest first."""

from __future__ import annotations

from typing import Any

from psycopg import Connection, sql

from taskflow_core.domain.model import ActivityEntry, Case
from taskflow_core.domain.names import Event
from taskflow_core.errors import CaseMoved, NotFound

from .changes import LOG_AND_PUBLISH
from .db import execute, fetch_all, fetch_one, render
from .rows import (
    CASE_COLUMNS,
    ENTRY_COLUMNS,
    case_from_row,
    case_params,
    entry_from_row,
    entry_params,
    id_param,
    newest_first,
    saved_case_params,
)

_COLUMNS = sql.SQL(", ").join(sql.Identifier(c) for c in ENTRY_COLUMNS)

_FOR_CASE = render(
    sql.SQL("SELECT {columns} FROM activity_log WHERE case_id = %s ORDER BY {newest_first}").format(
        columns=_COLUMNS, newest_first=newest_first("activity_log")
    )
)

_EDITS = render(
    sql.SQL(
        "SELECT {columns} FROM activity_log WHERE case_id = %s AND event_name = ANY(%s)"
        " ORDER BY {newest_first}"
    ).format(columns=_COLUMNS, newest_first=newest_first("activity_log"))
)
_EDIT_EVENTS = [Event.UPDATE_COMMENT.value, Event.DELETE_COMMENT.value]


def _with_case(change: sql.Composable) -> bytes:
    """``change`` (a statement on cases returning the case's row), the entry written for the
    case it returns, and the entry's feed row: one statement, answering with the case and
    its whole log as ``cases.get_with_activity`` reads them. No case returned, no entry and
    no row.

    The statement's own reads see the log as it was before the statement (a data-modifying
    WITH's rows are seen only through its RETURNING): the new entry joins the log from there.
    """
    values = sql.SQL(", ").join(
        sql.SQL("changed.id") if column == "case_id" else sql.Placeholder()
        for column in ENTRY_COLUMNS
    )
    return render(
        sql.SQL(
            """
    WITH changed AS ({change}),
    entry AS (
        INSERT INTO activity_log ({columns}) SELECT {values} FROM changed RETURNING *
    ),
    published AS (
        INSERT INTO change_feed (case_id, entry_id) SELECT entry.case_id, entry.id FROM entry
    )
    SELECT changed.*, (
        SELECT json_agg(logged ORDER BY {newest_first})
        FROM (
            SELECT * FROM activity_log WHERE activity_log.case_id = changed.id
            UNION ALL SELECT * FROM entry
        ) AS logged
    ) AS activity
    FROM changed
    """
        ).format(
            change=change,
            columns=_COLUMNS,
            values=values,
            newest_first=newest_first("logged"),
        )
    )


_CASE_COLUMNS = sql.SQL(", ").join(sql.Identifier(c) for c in CASE_COLUMNS)
# The store's case writes (cases.py's add and save), each with the event's entry.
_ADD_WITH_CASE = _with_case(
    sql.SQL("INSERT INTO cases ({columns}) VALUES ({values}) RETURNING {columns}").format(
        columns=_CASE_COLUMNS,
        values=sql.SQL(", ").join(sql.Placeholder() for _ in CASE_COLUMNS),
    )
)
_SAVE = (
    "UPDATE cases SET status = %s, data = %s, assigned_to = %s, updated_at = %s,"
    " version = %s WHERE id = %s"
)
_SAVE_WITH_CASE = _with_case(sql.SQL(_SAVE + " RETURNING {columns}").format(columns=_CASE_COLUMNS))
# The same, while the case is still at the version it was read at without a lock.
_SAVE_WITH_CASE_AT = _with_case(
    sql.SQL(_SAVE + " AND version = %s RETURNING {columns}").format(columns=_CASE_COLUMNS)
)


class PostgresActivityRepository:
    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn
        # Whether this unit of work has published entries, whose readers to wake on commit.
        self.published = False

    def add(self, entry: ActivityEntry) -> None:
        execute(self._conn, LOG_AND_PUBLISH, entry_params(entry))
        self.published = True

    def add_with_case(
        self, entry: ActivityEntry, case: Case, *, new: bool, stored_version: int | None = None
    ) -> tuple[Case, list[ActivityEntry]]:
        """One round trip for a write's two statements and the read of its answer
        (ports.EntryWithCase)."""
        logged = entry_params(entry, case_id=False)
        if new:
            row = fetch_one(self._conn, _ADD_WITH_CASE, case_params(case) + logged)
        else:
            key = id_param(case.id)
            saved = saved_case_params(case, key)
            if key is None:
                row = None
            elif stored_version is None:
                row = fetch_one(self._conn, _SAVE_WITH_CASE, saved + logged)
            else:
                at = (*saved, stored_version)
                row = fetch_one(self._conn, _SAVE_WITH_CASE_AT, at + logged)
                if row is None:
                    raise CaseMoved(case.id)
        if row is None:
            raise NotFound("Case not found")
        self.published = True
        return case_from_row(row), [entry_from_row(logged) for logged in row["activity"]]

    def for_case(self, case_id: str) -> list[ActivityEntry]:
        key = id_param(case_id)
        if key is None:
            return []
        return [entry_from_row(row) for row in fetch_all(self._conn, _FOR_CASE, (key,))]

    def comment_edits(self, case_id: str) -> list[ActivityEntry]:
        key = id_param(case_id)
        if key is None:
            return []
        rows = fetch_all(self._conn, _EDITS, (key, _EDIT_EVENTS))
        return [entry_from_row(row) for row in rows]
