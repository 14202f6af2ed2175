"""A case with its activity log read a page at a time (ports.CaseRepository.read_with_log):
the case and the first page in one statement, further pages by keyset, only for a log
longer than a page, all in one snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from psycopg import Connection, IsolationLevel, sql

from taskflow_core.application.case_log import CaseLog
from taskflow_core.domain.model import ActivityEntry

from .db import fetch_all, fetch_one, render
from .rows import CASE_COLUMNS, case_from_row, entry_from_row, id_param

# At most this many entries a page, whatever their size: the server sizes and sorts the
# page's candidates, not the whole log.
PAGE_ROWS = 1000
# rows.newest_first, in a form a keyset can compare: seq counts from 1 (migration 0015), so
# 0 for the entries written before it sorts them after those written since among their
# ties on the time, by id among themselves, as NULLS LAST does.
_ORDER = "a.created_at DESC, coalesce(a.seq, 0) DESC, a.id DESC"
_KEY = "(a.created_at, coalesce(a.seq, 0), a.id)"
# Bytes of an event's JSON text, measured as listings measure a case's data
# (listing.py: a value stored in under 2 kB counts its stored size, spared a serialization).
_SIZE = (
    "CASE WHEN pg_column_size(a.event) < 2048 THEN pg_column_size(a.event)"
    " ELSE octet_length(a.event::text) END"
)


def _page(where: str) -> str:
    """The page of a log the rows matching ``where`` start, newest first, each row with its
    ``place`` and whether it is ``within`` the page (parameters: the most rows, the budget,
    ``where``'s, the most rows plus one). The row past the most rows tells that more follow."""
    return f"""
    SELECT sized.*, (sized.place <= %s AND (
        sum(sized.size) OVER (ORDER BY sized.place) <= %s OR sized.place = 1)) AS within
    FROM (
        SELECT a.*, row_number() OVER (ORDER BY {_ORDER}) AS place, {_SIZE} AS size
        FROM (SELECT * FROM activity_log AS a WHERE {where} ORDER BY {_ORDER} LIMIT %s) AS a
    ) AS sized
    """


_CASE_COLUMNS = sql.SQL(", ").join(sql.Identifier("cases", c) for c in CASE_COLUMNS)
# The case and its log's first page, aggregated to a JSON array of objects keyed like rows of
# activity_log; ``more`` when the log goes on.
_FIRST = render(
    sql.SQL(
        """
    SELECT {columns}, log.entries AS activity, log.more
    FROM cases CROSS JOIN LATERAL (
        SELECT coalesce(json_agg(entry ORDER BY entry.place) FILTER (WHERE entry.within), '[]')
                   AS entries,
               coalesce(bool_or(NOT entry.within), false) AS more
        FROM ({page}) AS entry
    ) AS log
    WHERE cases.id = %s
    """
    ).format(columns=_CASE_COLUMNS, page=sql.SQL(_page("a.case_id = cases.id")))
)
# The case and its whole log, when the log fits in one page (``more`` false), as cheaply as a
# read of the whole log: no window over it, only its sizes summed. A log that does not fit is
# read again by ``_FIRST``, in one snapshot with the pages after it.
_WHOLE = render(
    sql.SQL(
        """
    SELECT {columns}, log.entries AS activity, log.more
    FROM cases CROSS JOIN LATERAL (
        SELECT CASE WHEN count(*) <= %s AND coalesce(sum(a.size), 0) <= %s
                    THEN coalesce(json_agg(a ORDER BY {order}), '[]') END AS entries,
               count(*) > %s OR coalesce(sum(a.size), 0) > %s AS more
        FROM (
            SELECT a.*, {size} AS size FROM activity_log AS a
            WHERE a.case_id = cases.id ORDER BY {order} LIMIT %s
        ) AS a
    ) AS log
    WHERE cases.id = %s
    """
    ).format(columns=_CASE_COLUMNS, order=sql.SQL(_ORDER), size=sql.SQL(_SIZE))
)
# The page after an entry (named by its id); ``more`` on each row when the log goes on.
_NEXT = render(
    sql.SQL(
        """
    SELECT * FROM (
        SELECT entry.*, bool_or(NOT entry.within) OVER () AS more FROM ({page}) AS entry
    ) AS page WHERE page.within ORDER BY page.place
    """
    ).format(
        page=sql.SQL(
            _page(
                f"a.case_id = %s AND {_KEY} <"
                " (SELECT created_at, coalesce(seq, 0), id FROM activity_log WHERE id = %s)"
            )
        )
    )
)


def read_with_log(conn: Connection[Any], case_id: str, budget: int) -> CaseLog | None:
    key = id_param(case_id)
    if key is None:
        return None
    whole = (PAGE_ROWS, budget, PAGE_ROWS, budget, PAGE_ROWS + 1, key)
    row = fetch_one(conn, _WHOLE, whole)
    if row is None:
        return None
    if not row["more"]:
        return CaseLog(case_from_row(row), [entry_from_row(e) for e in row["activity"]], None)
    if conn.autocommit:
        # A reader runs in autocommit, each statement a snapshot of its own. A log longer
        # than a page is read again, and the rest of it after, in one snapshot: a small case
        # keeps its one statement, a long log pays for its first page twice.
        begin_snapshot(conn)
    row = fetch_one(conn, _FIRST, (PAGE_ROWS, budget, PAGE_ROWS + 1, key))
    if row is None:
        return None
    first = [entry_from_row(entry) for entry in row["activity"]]
    rest = _rest(conn, key, first[-1].id, budget) if row["more"] else None
    return CaseLog(case_from_row(row), first, rest)


def _rest(
    conn: Connection[Any], key: Any, after: str, budget: int
) -> Iterator[list[ActivityEntry]]:
    more = True
    while more:
        rows = fetch_all(conn, _NEXT, (PAGE_ROWS, budget, key, id_param(after), PAGE_ROWS + 1))
        if not rows:
            return
        more = rows[-1]["more"]
        page = [entry_from_row(row) for row in rows]
        del rows
        after = page[-1].id
        yield page


def begin_snapshot(conn: Connection[Any]) -> None:
    """Make the connection's next statement begin a read-only transaction that sees one
    snapshot throughout (REPEATABLE READ); ``end_snapshot`` once it has ended."""
    conn.autocommit = False
    conn.isolation_level = IsolationLevel.REPEATABLE_READ
    conn.read_only = True


def end_snapshot(conn: Connection[Any]) -> None:
    """Back to the connection's defaults, for the pool's next user."""
    conn.isolation_level = None
    conn.read_only = None
