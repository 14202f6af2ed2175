"""The listing's SQL: one filter for both the page and the count, and the page's order."""

from __future__ import annotations

import json
from typing import Any, LiteralString

import attrs
from psycopg import sql

from taskflow_core.application.deadline_query import DUE, NO_DEADLINE_FILTERS
from taskflow_core.application.query import ListQuery
from taskflow_core.domain.model import NEW_STATUS

from . import finding
from .rows import CASE_COLUMNS, id_param, json_param

# taskflow_core/domain/clock.py's timestamp(): as JavaScript writes dates, UTC with milliseconds
# (MS cuts the microseconds off, as timestamp() does) and "Z".
_TIMESTAMP = """'"' || to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || '"'"""

# One statement, so the page and the count see the same snapshot in one round trip. The
# count is a subquery joined to the page rather than count(*) OVER (): a window count comes
# with the rows, so an offset past the end would lose it, and it makes the server read every
# matching row before returning the first of a page.
_LIST = sql.SQL(
    """
    SELECT matching.total, {page_columns}
    FROM ({count}) AS matching
    LEFT JOIN ({page}) AS page ON true
    ORDER BY {page_order}
    """
)
_COUNT = sql.SQL("SELECT count(*) AS total FROM cases WHERE {where}")
# A reader going page by page (an export) needs no count: reading every match again for
# each page would make the whole read quadratic.
_NO_COUNT = sql.SQL("SELECT 0::bigint AS total")
# A listing filtered by status alone, the inbox, counts from the counts the triggers of
# migrations/0009_status_counts.sql keep: a few rows per status, however many cases.
_COUNT_BY_STATUS = sql.SQL(
    "SELECT coalesce(sum(cases), 0)::bigint AS total FROM case_status_counts WHERE status = ANY(%s)"
)
_PAGE = sql.SQL("SELECT {columns} FROM cases WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s")
# Sizes are measured on the page's rows only, above its LIMIT: below it, the planner may
# measure every matching row before sorting. ``data`` passes through the window as the
# stored (TOAST) pointer, so the server does not hold the page's data to sum its sizes.
# The size is that of the JSON text the row is sent as, which is what the worker parses.
# Measuring it costs a serialization, which for a page of small cases was half the
# statement's time; so a value stored in under 2 kB counts its stored size (pg_column_size,
# read from the value's header). That is close to its text's unless compressed, and
# PostgreSQL compresses no value until its row passes about 2 kB, so such a value holds at
# most a few times 2 kB of JSON as documents usually compress (docs/deploying.md).
_BUDGETED_PAGE = sql.SQL(
    """
    SELECT {columns}, size, sum(size) OVER (ORDER BY {order} ROWS UNBOUNDED PRECEDING) AS spent
    FROM (
        SELECT {columns}, coalesce(CASE
            WHEN pg_column_size(data) < 2048 THEN pg_column_size(data)
            ELSE octet_length(data::text)
        END, 0) AS size
        FROM ({page}) AS limited
    ) AS sized
    """
)
# A case's answer as taskflow_core/domain/wire.py writes it (case_to_wire, then encode_json), put
# together by the server: the worker then spends no CPU on the case but to send it. Equal
# to the worker's text byte for byte (tests/integration/test_postgres_encoded_listing.py)
# once its numbers, written as jsonb keeps them (0.0000001, 1.50, 1e21 in 22 digits), are
# written as JavaScript writes them, as the worker's are (cases.py, jsnumbers.py).
# Strings are escaped alike (to_json and the encoder both escape only '"', '\\' and
# control characters, and write the rest as it is); jsonb text uses ", " and ": " as the
# encoder does, with the keys in the order the worker would have decoded them; a NULL
# status or data is shown as case_from_row (rows.py) shows it, and data that is not an
# object (edited by hand), or a timestamp outside the years 1 to 9999 (which Python cannot
# hold, nor to_char write as ISO 8601), is left to it, NULL here. Timestamps are UTC with
# milliseconds, whatever the session's time zone.
_CASE_JSON = sql.SQL(
    """CASE WHEN (page.data IS NULL OR jsonb_typeof(page.data) = 'object')
        AND {in_range}
    THEN
    '{{"id": ' || to_json(page.id)::text
    || ', "status": ' || coalesce(to_json(page.status)::text, {new_status})
    || ', "data": ' || coalesce(page.data::text, '{{}}')
    || ', "assignedTo": ' || coalesce(to_json(page.assigned_to)::text, 'null')
    || ', "createdAt": ' || {created_at}
    || ', "updatedAt": ' || {updated_at}
    || ', "version": ' || page.version::text || '}}' END"""
).format(
    new_status=sql.Literal(json.dumps(NEW_STATUS)),
    in_range=sql.SQL(" AND ").join(
        sql.SQL(
            "{column} >= '0001-01-01 00:00:00+00' AND {column} < '10000-01-01 00:00:00+00'"
        ).format(column=sql.SQL(column))
        for column in ("page.created_at", "page.updated_at")
    ),
    created_at=sql.SQL(_TIMESTAMP.format("page.created_at")),
    updated_at=sql.SQL(_TIMESTAMP.format("page.updated_at")),
)
# Whether a row is read within the budget. Only the first row with data has spent = size:
# it is read whatever its size, so that a page always makes progress.
_WITHIN = sql.SQL("(page.spent <= %s OR page.spent = page.size)")


# The listing's deadline parameters (SPEC §14), each a lookup in migrations/0013_deadlines.sql's
# partial indexes, and the earliest due the ``due`` sort orders by. The ids go to cases as an
# array: as an EXISTS, the planner hash-joined them to a scan of every case (35 ms at 100,000
# cases with 1,000 overdue; 6 ms as an array: tests/integration/test_postgres_deadline_indexes.py).
_OVERDUE = "id = ANY(ARRAY(SELECT d.case_id FROM deadlines AS d WHERE d.state = 'overdue'))"
_DUE_BEFORE: LiteralString = (
    "id = ANY(ARRAY(SELECT d.case_id FROM deadlines AS d WHERE d.state = 'running' AND d.due < %s))"
)
_EARLIEST_DUE = (
    "(SELECT min(d.due) FROM deadlines AS d WHERE d.case_id = {case}"
    " AND d.state IN ('running', 'overdue'))"
)
# A page sorted by due of cases that have a deadline filter (overdue, due before) is read by
# walking the due index: each case at its earliest running or overdue deadline (no earlier
# one of its own), its filters checked as it comes, until the page is full. The filters'
# cases are those whose deadlines come first in that order (overdue, or due soon), so the
# walk stops early: at 1,000,000 cases with 10,000 overdue, the ids-as-an-array page sorted
# each match by its earliest due (40 to 90 ms; benchmarks/results/deadlines-1000000.md), the
# walk reads 50. The filters are EXISTS here: as an array, the planner takes the array for
# ten ids and starts from it. Same rows, same order as _PAGE with _order's due sort.
_WALK_PAGE = sql.SQL(
    """
    SELECT {columns} FROM deadlines AS walk JOIN cases ON cases.id = walk.case_id
    WHERE walk.state IN ('running', 'overdue') AND walk.due IS NOT NULL
    AND NOT EXISTS (
        SELECT 1 FROM deadlines AS earlier WHERE earlier.case_id = walk.case_id
        AND earlier.state IN ('running', 'overdue')
        AND (earlier.due, earlier.name) < (walk.due, walk.name)
    )
    AND {where}
    ORDER BY walk.due {direction}, walk.case_id {direction} LIMIT %s OFFSET %s
    """
)
# OFFSET 0 keeps each EXISTS a check of the row the walk has reached (PostgreSQL does not
# turn a subquery with an OFFSET into a join): as a join, the planner hashed every overdue
# case and sorted every running deadline instead of walking (1,000,000 cases, 20,000
# overdue: 65 ms, and 35 ms with the fence; benchmarks/results/deadlines-1000000.md).
_OVERDUE_EXISTS = (
    "EXISTS (SELECT 1 FROM deadlines AS d WHERE d.case_id = cases.id AND d.state = 'overdue'"
    " OFFSET 0)"
)
_DUE_BEFORE_EXISTS: LiteralString = (
    "EXISTS (SELECT 1 FROM deadlines AS d WHERE d.case_id = cases.id"
    " AND d.state = 'running' AND d.due < %s OFFSET 0)"
)
# Filtered by one deadline parameter alone, the count is of the cases that have such a
# deadline, read from deadlines' own partial index: every deadline's case exists (its
# foreign key), so no case need be looked up (20,000 overdue: 39 ms through the cases, a
# few through the index).
_COUNT_OVERDUE = sql.SQL(
    "SELECT count(DISTINCT d.case_id) AS total FROM deadlines AS d WHERE d.state = 'overdue'"
)
_COUNT_DUE_BEFORE = sql.SQL(
    "SELECT count(DISTINCT d.case_id) AS total FROM deadlines AS d"
    " WHERE d.state = 'running' AND d.due < %s"
)


def list_statement(query: ListQuery) -> tuple[sql.Composed, list[Any]]:
    """The statement selecting the page (rows of ``CASE_COLUMNS``) and ``total``, its params.

    When the page is empty the statement still returns one row, with ``total`` and NULLs.
    """
    where, params = where_clause(query)
    count, count_params = _count(query, where, params)
    statement = _LIST.format(
        count=count,
        page_columns=sql.SQL(", ").join(sql.Identifier("page", c) for c in CASE_COLUMNS),
        page=_page(query, where),
        where=where,
        page_order=_order(query, "page"),
    )
    return statement, [*count_params, *params, query.limit, query.offset]


def _count(
    query: ListQuery, where: sql.Composable, params: list[Any]
) -> tuple[sql.Composable, list[Any]]:
    """The subquery counting the query's matches, and its params."""
    if not query.counted:
        return _NO_COUNT, []
    if query.statuses and query.by_status_alone:
        return _COUNT_BY_STATUS, [list(query.statuses)]
    alone = _deadline_count_alone(query) or finding.count_searched_alone(query)
    if alone is not None:
        return alone
    return _COUNT.format(where=where), params


def _deadline_count_alone(query: ListQuery) -> tuple[sql.Composable, list[Any]] | None:
    """The count of a query whose one filter is one deadline parameter, from deadlines."""
    overdue, due_to = query.deadlines.overdue, query.deadlines.due_to
    if overdue == (due_to is not None) or query.also:
        return None  # neither parameter, or both
    others: list[sql.Composable] = []
    _filters(attrs.evolve(query, deadlines=NO_DEADLINE_FILTERS), others, [])
    if others:
        return None
    return (_COUNT_OVERDUE, []) if overdue else (_COUNT_DUE_BEFORE, [due_to])


def budgeted_list_statement(query: ListQuery, budget: int) -> tuple[sql.Composed, list[Any]]:
    """``list_statement`` whose rows hold ``data`` only ``within`` the budget (NULL past
    it), and each row's ``size``: the bytes of its data's JSON text."""
    columns = sql.SQL(", ").join(
        [
            *(sql.Identifier("page", c) for c in CASE_COLUMNS if c != "data"),
            sql.SQL("CASE WHEN {} THEN page.data END AS data").format(_WITHIN),
            sql.SQL("{} AS within, page.size").format(_WITHIN),
        ]
    )
    return _budgeted(query, budget, columns)


def encoded_list_statement(query: ListQuery, budget: int) -> tuple[sql.Composed, list[Any]]:
    """``budgeted_list_statement`` whose rows hold, instead of the case's columns, its id,
    ``size``, ``within``, and ``json``: the case's answer as JSON text, NULL past the
    budget."""
    columns = sql.SQL(
        "page.id, CASE WHEN {within} THEN {json} END AS json, {within} AS within, page.size"
    ).format(within=_WITHIN, json=_CASE_JSON)
    return _budgeted(query, budget, columns)


def _budgeted(
    query: ListQuery, budget: int, page_columns: sql.Composable
) -> tuple[sql.Composed, list[Any]]:
    """The budgeted listing selecting ``page_columns`` (which use ``_WITHIN`` twice)."""
    where, params = where_clause(query)
    count, count_params = _count(query, where, params)
    statement = _LIST.format(
        count=count,
        page_columns=page_columns,
        page=_BUDGETED_PAGE.format(
            page=_page(query, where),
            columns=_columns(),
            order=_order(query, None),
        ),
        where=where,
        page_order=_order(query, "page"),
    )
    return statement, [budget, budget, *count_params, *params, query.limit, query.offset]


def _page(query: ListQuery, where: sql.Composable) -> sql.Composable:
    """The page's statement (its params: the filters', then limit and offset)."""
    if query.sort_field == DUE and query.deadlines:
        direction = sql.SQL("ASC" if query.ascending else "DESC")
        walk_where, _ = where_clause(query, exists=True)  # the same params, in the same places
        return _WALK_PAGE.format(columns=_columns(), where=walk_where, direction=direction)
    return _PAGE.format(columns=_columns(), where=where, order=_order(query, None))


def planned_for_its_values(query: ListQuery) -> bool:
    """Whether the query's statement must be planned for each execution's values rather
    than prepared: it has a ``data`` filter (its own or its view's).

    A prepared statement is planned once for any value after five runs (PostgreSQL's
    generic plan), which guesses that ``data @> $1`` matches 1% of the cases, whatever it
    is: for a filter a third of 1,000,000 cases match, that plan scans in one process
    where the plan made for the value reads the rows in three (a parallel bitmap heap
    scan), measured in benchmarks/results/finding-speed-1000000.md. Planning it each time
    costs a fraction of a millisecond.
    """
    return bool(query.data) or any(planned_for_its_values(also) for also in query.also)


def _columns() -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c) for c in CASE_COLUMNS)


def where_clause(query: ListQuery, *, exists: bool = False) -> tuple[sql.Composable, list[Any]]:
    """Every filter of the query, ANDed, as the condition on ``cases`` and its params; with
    ``exists``, the deadline filters as EXISTS (for ``_WALK_PAGE``)."""
    clauses: list[sql.Composable] = []
    params: list[Any] = []
    _filters(query, clauses, params, exists)
    if not clauses:
        return sql.SQL("true"), params
    return sql.SQL(" AND ").join(clauses), params


def _filters(
    query: ListQuery, clauses: list[sql.Composable], params: list[Any], exists: bool = False
) -> None:
    """Add the query's filters, and those of its view (``also``), to ``clauses``."""

    def add(clause: LiteralString, value: Any) -> None:
        clauses.append(sql.SQL(clause))
        params.append(value)

    def any_of(column: LiteralString, values: tuple[str, ...]) -> None:
        # One value is compared with `=`, not `= ANY(...)`: only then can the planner read
        # the page in order from the (column, created_at, id) index and stop at `limit`.
        if len(values) == 1:
            clauses.append(sql.SQL("{} = %s").format(sql.Identifier(column)))
            params.append(values[0])
        elif values:
            clauses.append(sql.SQL("{} = ANY(%s)").format(sql.Identifier(column)))
            params.append(list(values))

    any_of("status", query.statuses)
    if query.data:
        add("data @> %s", json_param(query.data))
    any_of("assigned_to", query.assigned_to)
    if query.exclude_statuses:
        add("(status IS NULL OR status <> ALL(%s))", list(query.exclude_statuses))
    if query.exclude_assigned_to:
        # A case with no assignee is never excluded by an assignee (docs/http.md).
        add("(assigned_to IS NULL OR assigned_to <> ALL(%s))", list(query.exclude_assigned_to))
    finding.add_filters(query, clauses, params)
    if query.after_id is not None:
        # On the primary key: ordered by id, the next page is read from its index.
        add("id > %s", id_param(query.after_id))
    if query.deadlines.overdue:
        clauses.append(sql.SQL(_OVERDUE_EXISTS if exists else _OVERDUE))
    if query.deadlines.due_to is not None:
        add(_DUE_BEFORE_EXISTS if exists else _DUE_BEFORE, query.deadlines.due_to)
    for also in query.also:
        _filters(also, clauses, params, exists)


def _order(query: ListQuery, table: str | None) -> sql.Composable:
    """The column, then id, in the query's direction; NULLs where PostgreSQL puts them by
    default (last ascending, first descending), which is what the in-memory store mimics."""
    column = query.sort_field  # the columns are named after the Case fields
    direction = sql.SQL("ASC" if query.ascending else "DESC")
    if column == DUE:
        # Cases without a running or overdue deadline last, whichever the direction.
        # Unqualified, ``id`` is the case's of whichever query the order is used in (the
        # deadlines table has none of its own).
        last = sql.Identifier(table, "id") if table else sql.Identifier("id")
        earliest = sql.SQL(_EARLIEST_DUE).format(case=last)
        return sql.SQL("{} {} NULLS LAST, {} {}").format(earliest, direction, last, direction)
    keys = [column] if column == "id" else [column, "id"]
    names = [sql.Identifier(table, key) if table else sql.Identifier(key) for key in keys]
    return sql.SQL(", ").join(sql.SQL("{} {}").format(name, direction) for name in names)
