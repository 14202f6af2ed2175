"""The change feed on PostgreSQL: rows a reader can page through without ever missing one.

Why a plain sequence is not enough: a bigserial is drawn when a row is inserted, not when
its transaction commits. Transaction A draws 7 and is still open when B draws 8 and commits;
a reader sees 8, not 7, and moves its cursor to 8; then A commits, and 7 lies behind the
cursor, skipped for good.

The rule: each row stores ``txid``, a number at least the id of the transaction writing it
(``pg_current_xact_id()``, 64 bits, so it never wraps around). A read serves only rows whose
txid is below ``xmin``, the oldest transaction id still running in the read's own snapshot
(``pg_snapshot_xmin(pg_current_snapshot())``, taken in the same statement, so of the same
snapshot), in ``(txid, id)`` order; a cursor is the ``(txid, id)`` of a row served.

Why no row is missed: every transaction with an id below xmin had ended, committed or
rolled back, when the snapshot was taken, and the snapshot sees every one that committed. A
row with txid < xmin was written by a transaction whose id is at most txid, so below xmin:
if that transaction committed, this read sees the row. So the read sees every row that will
ever exist with txid < xmin, and serves them in order up to its limit. A row that commits
later was written by a transaction still running (or not yet begun) at the snapshot: its id,
hence its txid, is at least xmin, so it sorts after every row the read could serve, and
after the cursor the reader resumes from. The cost is latency: a row is served once every
transaction older than its writer has ended, so a long transaction anywhere on the server
holds the feed back (nothing is lost; the rows come, in order, when it ends).

Per case, commit order: transactions touching one case are serialized by its row lock, but
the one committing second may have got its id first (it wrote another case, then waited
for the lock), and would sort first by its id alone. So a writer stores the greatest of its
own id and the case's latest txid: it holds the case's lock, so every earlier entry of the
case has committed and is visible to it, and its bigserial id, drawn after theirs, breaks
the tie. The argument above needs only txid >= the writer's id, which still holds.
"""

from __future__ import annotations

from typing import Any

from psycopg import Connection, sql

from taskflow_core.domain.model import Change, Position

from .db import fetch_all, fetch_one, render
from .rows import ENTRY_COLUMNS, entry_from_row

# What readers LISTEN on, and writers NOTIFY when they write to the feed.
CHANNEL = "taskflow_change_feed"

# An activity entry and its feed row, in one statement (one round trip, and the feed row can
# only ever name an entry written with it): the rule above, applied as the entry is logged.
# Readers are woken after the commit, not by this statement: notifier.py says why.
LOG_AND_PUBLISH = render(
    sql.SQL(
        """
    WITH entry AS (
        INSERT INTO activity_log ({columns}) VALUES ({values}) RETURNING id, case_id
    )
    INSERT INTO change_feed (txid, case_id, entry_id)
    SELECT greatest(
        pg_current_xact_id()::text::bigint,
        (SELECT max(f.txid) FROM change_feed AS f WHERE f.case_id = entry.case_id)
    ), entry.case_id, entry.id
    FROM entry
    """
    ).format(
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in ENTRY_COLUMNS),
        values=sql.SQL(", ").join(sql.Placeholder() for _ in ENTRY_COLUMNS),
    )
)

_SELECT = sql.SQL(
    "SELECT f.txid AS feed_txid, f.id AS feed_id, {entry}"
    " FROM change_feed AS f JOIN activity_log AS a ON a.id = f.entry_id"
).format(entry=sql.SQL(", ").join(sql.Identifier("a", c) for c in ENTRY_COLUMNS))
_AFTER = render(
    sql.SQL(
        """
    {select}
    WHERE (f.txid, f.id) > (%s, %s)
      AND f.txid < (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint)
    ORDER BY f.txid, f.id
    LIMIT %s
    """
    ).format(select=_SELECT)
)
_AT = render(sql.SQL("{select} WHERE f.txid = %s AND f.id = %s").format(select=_SELECT))
# Everything at or after xmin may still be committing: a position just before it.
_HEAD = render(sql.SQL("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint - 1 AS tx"))
_LAST = 2**63 - 1


class PostgresChangeRepository:
    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn

    def after(self, position: Position | None, limit: int) -> list[Change]:
        start = position or Position(0, 0)
        rows = fetch_all(self._conn, _AFTER, (start.tx, start.seq, limit))
        return [_change_from_row(row) for row in rows]

    def at(self, position: Position) -> Change | None:
        row = fetch_one(self._conn, _AT, (position.tx, position.seq))
        return None if row is None else _change_from_row(row)

    def head(self) -> Position:
        row = fetch_one(self._conn, _HEAD)
        return Position(row["tx"] if row else 0, _LAST)


def _change_from_row(row: dict[str, Any]) -> Change:
    return Change(position=Position(row["feed_txid"], row["feed_id"]), entry=entry_from_row(row))
