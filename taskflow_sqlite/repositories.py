"""The case and activity repositories over SQLite, and the mapping between rows and the domain."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from taskflow_core.application.case_log import CaseLog, case_log
from taskflow_core.application.query import Deferred, ListPage, ListQuery, within
from taskflow_core.domain.model import CASE_FIELDS, ENTRY_FIELDS, ActivityEntry, Case
from taskflow_core.domain.names import Event
from taskflow_core.errors import NotFound

from . import listing
from .timestamps import parse_timestamp, timestamp

# A case's log newest first; ties on the time (one millisecond, or an injected clock standing
# still) in the order the entries were written: the table's rowid, which grows as rows are
# inserted (none of the log's rows is ever deleted while its case lives).
NEWEST_FIRST = "{t}.created_at DESC, {t}.rowid DESC"

# Runs one statement inside the unit of work's transaction.
Execute = Callable[[str, Sequence[object]], sqlite3.Cursor]

# The tables' columns are named after the domain's fields; rows come in this order.
CASE_COLUMNS = CASE_FIELDS
ENTRY_COLUMNS = ENTRY_FIELDS
_CASES = ", ".join(CASE_COLUMNS)
_ENTRIES = ", ".join(ENTRY_COLUMNS)
_MANY = 500
_NEWEST_FIRST = NEWEST_FIRST.format(t="activity_log")
_LOG = f"SELECT {_ENTRIES} FROM activity_log WHERE case_id = ? ORDER BY {_NEWEST_FIRST}"
_EDITS = (
    f"SELECT {_ENTRIES} FROM activity_log WHERE case_id = ? AND event_name IN (?, ?)"
    f" ORDER BY {_NEWEST_FIRST}"
)
# Where a log row's event (its JSON text) is.
_EVENT = ENTRY_COLUMNS.index("event")


class SqliteCaseRepository:
    def __init__(self, execute: Execute) -> None:
        self._execute = execute

    def add(self, case: Case) -> None:
        self._execute(
            f"INSERT INTO cases ({_CASES}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                case.id,
                case.status,
                _json(case.data),
                case.assigned_to,
                timestamp(case.created_at),
                timestamp(case.updated_at),
                case.version,
            ),
        )

    def get(self, case_id: str, *, lock: bool = False) -> Case | None:
        # ``lock`` needs nothing here: the unit of work began with BEGIN IMMEDIATE, so it
        # already holds the database's write lock until it ends.
        row = self._execute(f"SELECT {_CASES} FROM cases WHERE id = ?", (case_id,)).fetchone()
        return None if row is None else _case_from_row(row)

    def get_with_activity(self, case_id: str) -> tuple[Case, list[ActivityEntry]] | None:
        # One query: the case's columns repeat on each of its entries; a case with no
        # entries comes back as one row whose entry columns are NULL.
        entry_columns = ", ".join(f"a.{column}" for column in ENTRY_COLUMNS)
        case_columns = ", ".join(f"c.{column}" for column in CASE_COLUMNS)
        rows = self._execute(
            f"SELECT {case_columns}, {entry_columns} FROM cases AS c"
            " LEFT JOIN activity_log AS a ON a.case_id = c.id"
            f" WHERE c.id = ? ORDER BY {NEWEST_FIRST.format(t='a')}",
            (case_id,),
        ).fetchall()
        if not rows:
            return None
        width = len(CASE_COLUMNS)
        entries = [entry_from_row(row[width:]) for row in rows if row[width] is not None]
        return _case_from_row(rows[0][:width]), entries

    def read_with_log(self, case_id: str, budget: int) -> CaseLog | None:
        # The unit of work's transaction is the one snapshot; the log's rows come from one
        # statement, taken from its cursor a page at a time (the database is in this
        # process: what it has not handed over, the worker does not hold).
        case = self.get(case_id)
        if case is None:
            return None
        rows = self._execute(_LOG, (case_id,))
        return case_log(case, rows, lambda row: len(row[_EVENT]), entry_from_row, budget)

    def save(self, case: Case) -> None:
        updated = self._execute(
            "UPDATE cases SET status = ?, data = ?, assigned_to = ?, updated_at = ?, version = ?"
            " WHERE id = ?",
            (
                case.status,
                _json(case.data),
                case.assigned_to,
                timestamp(case.updated_at),
                case.version,
                case.id,
            ),
        ).rowcount
        if updated == 0:
            raise NotFound("Case not found")

    def get_many(self, case_ids: Sequence[str]) -> list[Case]:
        found: dict[str, Case] = {}
        # In slices: SQLite before 3.32 takes at most 999 parameters per statement.
        for start in range(0, len(case_ids), _MANY):
            some = case_ids[start : start + _MANY]
            rows = self._execute(
                f"SELECT {_CASES} FROM cases WHERE id IN ({', '.join('?' * len(some))})", some
            ).fetchall()
            found.update((row[0], _case_from_row(row)) for row in rows)
        return [found[case_id] for case_id in case_ids if case_id in found]

    def count_by(self, query: ListQuery, field: str) -> list[tuple[str | None, int]]:
        where, params = listing.where(query, timestamp)
        # ``field`` is a column taskflow_core/application/finding.py names, never a caller's.
        rows = self._execute(
            f"SELECT {field}, count(*) FROM cases {where} GROUP BY {field}", params
        ).fetchall()
        return [(value, count) for value, count in rows]

    def list(self, query: ListQuery, *, budget: int | None = None) -> ListPage:
        # The queries run in the unit of work's transaction, so the count matches the page; a
        # window count(*) OVER () would be lost whenever the offset is past the last row.
        where, params = listing.where(query, timestamp)
        count = 0
        if query.counted:
            (count,) = self._execute(f"SELECT count(*) FROM cases {where}", params).fetchone()
        page = f"FROM cases {where} {listing.order_by(query)} LIMIT ? OFFSET ?"
        limit, deferred = query.limit, []
        if budget is not None:
            # The sizes first, then only the cases within the budget: the database runs in
            # this process, so what a statement would hold to sum sizes, the worker holds.
            sizes = self._execute(
                f"SELECT id, length(CAST(data AS BLOB)) {page}",
                [*params, query.limit, query.offset],
            ).fetchall()
            limit = within(budget, [size for _, size in sizes])
            deferred = [Deferred(case_id, size) for case_id, size in sizes[limit:]]
        rows = self._execute(f"SELECT {_CASES} {page}", [*params, limit, query.offset]).fetchall()
        return ListPage([_case_from_row(row) for row in rows], count, deferred)


class SqliteActivityRepository:
    def __init__(self, execute: Execute) -> None:
        self._execute = execute

    def add(self, entry: ActivityEntry) -> None:
        self._execute(
            f"INSERT INTO activity_log ({_ENTRIES}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.id,
                entry.case_id,
                entry.changed_by,
                entry.event_name,
                _json(entry.event),
                entry.comment,
                timestamp(entry.created_at),
                timestamp(entry.updated_at),
            ),
        )
        # The feed's row (changes.py): the entry is published as it is logged.
        self._execute("INSERT INTO change_feed (entry_id) VALUES (?)", (entry.id,))

    def for_case(self, case_id: str) -> list[ActivityEntry]:
        return [entry_from_row(row) for row in self._execute(_LOG, (case_id,)).fetchall()]

    def comment_edits(self, case_id: str) -> list[ActivityEntry]:
        rows = self._execute(_EDITS, (case_id, Event.UPDATE_COMMENT, Event.DELETE_COMMENT))
        return [entry_from_row(row) for row in rows.fetchall()]


def _case_from_row(row: Sequence[Any]) -> Case:
    id_, status, data, assigned_to, created_at, updated_at, version = row
    return Case(
        id=id_,
        status=status,
        data=json.loads(data),
        assigned_to=assigned_to,
        created_at=parse_timestamp(created_at),
        updated_at=parse_timestamp(updated_at),
        version=version,
    )


def entry_from_row(row: Sequence[Any]) -> ActivityEntry:
    id_, case_id, changed_by, event_name, event, comment, created_at, updated_at = row
    return ActivityEntry(
        id=id_,
        case_id=case_id,
        changed_by=changed_by,
        event_name=event_name,
        event=json.loads(event),
        comment=comment,
        created_at=parse_timestamp(created_at),
        updated_at=parse_timestamp(updated_at),
    )


def _json(value: Any) -> str:
    # allow_nan=False: NaN and Infinity are not JSON, and PostgreSQL's jsonb refuses them too.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
