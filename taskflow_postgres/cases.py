"""The cases repository: one case's row, read (optionally locked), written, and listed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from psycopg import Connection, sql
from psycopg.rows import DictRow

from taskflow_core.application.case_log import CaseLog
from taskflow_core.application.query import Deferred, EncodedPage, ListPage, ListQuery
from taskflow_core.domain.jsnumbers import as_javascript
from taskflow_core.domain.model import ActivityEntry, Case
from taskflow_core.domain.wire import case_to_wire, encode_json
from taskflow_core.errors import NotFound

from . import case_log
from .db import Params, Query, execute, fetch_all, fetch_one, render
from .finding import count_by_statement
from .listing import (
    budgeted_list_statement,
    encoded_list_statement,
    list_statement,
    planned_for_its_values,
    where_clause,
)
from .rows import (
    CASE_COLUMNS,
    case_from_row,
    case_params,
    entry_from_row,
    id_param,
    newest_first,
    saved_case_params,
)

_COLUMNS = sql.SQL(", ").join(sql.Identifier(c) for c in CASE_COLUMNS)

_INSERT = render(
    sql.SQL("INSERT INTO cases ({columns}) VALUES ({values})").format(
        columns=_COLUMNS, values=sql.SQL(", ").join(sql.Placeholder() for _ in CASE_COLUMNS)
    )
)
_SELECT = render(sql.SQL("SELECT {columns} FROM cases WHERE id = %s").format(columns=_COLUMNS))
_SELECT_MANY = render(
    sql.SQL("SELECT {columns} FROM cases WHERE id = ANY(%s)").format(columns=_COLUMNS)
)
_SELECT_FOR_UPDATE = render(
    sql.SQL("SELECT {columns} FROM cases WHERE id = %s FOR UPDATE").format(columns=_COLUMNS)
)
# The case and its whole log in one round trip: the log aggregated to a JSON array, newest
# first, each element an object keyed like a row of activity_log.
_SELECT_WITH_ACTIVITY = render(
    sql.SQL(
        """
    SELECT {columns}, (
        SELECT coalesce(json_agg(entry ORDER BY {newest_first}), '[]')
        FROM activity_log AS entry
        WHERE entry.case_id = cases.id
    ) AS activity
    FROM cases WHERE id = %s
    """
    ).format(columns=_COLUMNS, newest_first=newest_first("entry"))
)
_UPDATE = render(
    sql.SQL(
        "UPDATE cases SET status = %s, data = %s, assigned_to = %s, updated_at = %s, version = %s"
        " WHERE id = %s"
    )
)


class PostgresCaseRepository:
    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn

    def add(self, case: Case) -> None:
        execute(self._conn, _INSERT, case_params(case))

    def get(self, case_id: str, *, lock: bool = False) -> Case | None:
        key = id_param(case_id)
        if key is None:
            return None
        row = fetch_one(self._conn, _SELECT_FOR_UPDATE if lock else _SELECT, (key,))
        return case_from_row(row) if row is not None else None

    def get_with_activity(self, case_id: str) -> tuple[Case, list[ActivityEntry]] | None:
        key = id_param(case_id)
        if key is None:
            return None
        row = fetch_one(self._conn, _SELECT_WITH_ACTIVITY, (key,))
        if row is None:
            return None
        return case_from_row(row), [entry_from_row(entry) for entry in row["activity"]]

    def read_with_log(self, case_id: str, budget: int) -> CaseLog | None:
        return case_log.read_with_log(self._conn, case_id, budget)

    def save(self, case: Case) -> None:
        key = id_param(case.id)
        params = saved_case_params(case, key)
        if key is None or execute(self._conn, _UPDATE, params) == 0:
            raise NotFound("Case not found")

    def get_many(self, case_ids: Sequence[str]) -> list[Case]:
        keys = [key for key in map(id_param, case_ids) if key is not None]
        rows = fetch_all(self._conn, _SELECT_MANY, (keys,))
        # Matched as canonical text: the connections load uuids as text (connections.py).
        found = {str(row["id"]): case_from_row(row) for row in rows}
        return [found[str(key)] for key in keys if str(key) in found]

    def count_by(self, query: ListQuery, field: str) -> list[tuple[str | None, int]]:
        statement, params = count_by_statement(query, field, *where_clause(query))
        rows = fetch_all(self._conn, statement, params, prepare=_prepare(query))
        return [(row["value"], row["count"]) for row in rows]

    def list(self, query: ListQuery, *, budget: int | None = None) -> ListPage:
        if budget is None:
            statement, params = list_statement(query)
        else:
            statement, params = budgeted_list_statement(query, budget)
        cases: list[Case] = []
        count, deferred = _read_page(
            self._conn,
            statement,
            params,
            _prepare(query),
            lambda row: cases.append(case_from_row(row)),
        )
        return ListPage(cases=cases, count=count, deferred=deferred)

    def list_encoded(
        self, query: ListQuery, *, budget: int, as_stored: bool = False
    ) -> EncodedPage:
        cases: list[str] = []
        written = _as_it_is if as_stored else as_javascript

        def read(row: DictRow) -> None:
            if row["json"] is None:
                # Not a case the server could write (rows.py): read as the worker reads it,
                # which fails as it always has for such a row. Gone since (deleted by hand
                # in between: reads here are in autocommit), it is left out, as listing.py
                # leaves out a case gone before its batch.
                cases.extend(encode_json(case_to_wire(c)) for c in self.get_many([str(row["id"])]))
            else:
                # jsonb writes numbers as it keeps them (1e21 in 22 digits, 1.0 as 1.0):
                # written as every answer writes them, the text is the worker's.
                cases.append(written(row["json"]))

        statement, params = encoded_list_statement(query, budget)
        count, deferred = _read_page(self._conn, statement, params, _prepare(query), read)
        return EncodedPage(cases=cases, count=count, deferred=deferred)


def _prepare(query: ListQuery) -> bool | None:
    """psycopg's ``prepare`` for the query's statement: never with a data filter, or as
    psycopg decides. A prepared statement's plan for any value guesses how many cases
    ``data @> $1`` matches: for a count of a third of the cases, a serial scan where the
    value's own plan is parallel (benchmarks/results/finding-speed-1000000.md); for a page
    of a listing, a plan that made `GET /?data[subject]=` 14 times slower in one run of the
    peer benchmark (benchmarks/README.md, round six). Planned each time, it costs a fraction
    of a millisecond."""
    return False if planned_for_its_values(query) else None


def _as_it_is(text: str) -> str:
    return text


def _read_page(
    conn: Connection[Any],
    statement: Query,
    params: Params,
    prepare: bool | None,
    read: Callable[[DictRow], None],
) -> tuple[int, list[Deferred]]:
    """Run a listing statement: ``read`` each row within its budget (every row without
    one), in order; the count, and the rows past the budget."""
    rows = fetch_all(conn, statement, params, prepare=prepare)
    deferred = []
    for row in rows:
        if row["id"] is None:
            continue  # the page's columns are NULL on the row an empty page still returns
        if row.get("within", True):
            read(row)
        else:
            deferred.append(Deferred(str(row["id"]), row["size"]))
    return rows[0]["total"], deferred
