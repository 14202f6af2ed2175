"""The change feed on PostgreSQL: rows a reader can page through without ever missing one,
served as soon as this database's own writers have committed them.

Why a plain sequence is not enough: a bigserial is drawn when a row is inserted, not when
its transaction commits. Transaction A draws 7 and is still open when B draws 8 and commits;
a reader sees 8, not 7, and moves its cursor to 8; then A commits, and 7 lies behind the
cursor, skipped for good.

The rule: a writer inserts its feed row with no position (``seq`` null). A row gets its
position after it has committed, from a sequencing step (``taskflow_sequence_change_feed``,
migrations/0010_change_feed_sequencer.sql): one transaction that takes a transaction-level
advisory lock, then, in a statement of its own (so a snapshot taken with the lock held),
gives every committed row still without a position the next positions after the greatest,
in the order of the rows' ids, and commits. Readers serve rows by position, ``seq > cursor``;
a row without a position is not served yet. A cursor is ``(0, seq)``.

Why no row is missed: steps run one at a time, and each one's snapshot is taken after the
previous one committed, so it sees every position given before it and hands out the next
ones: positions are 1, 2, 3, ... with no gap and no position twice (a unique index says so
too), and a step that dies rolls back whole, leaving its rows to the next one. A reader's
snapshot that sees a step committed sees every earlier step committed, so the positions it
sees are exactly 1..k for some k. A reader that has read up to ``c`` has seen 1..c; every
row it has not seen either has a position above ``c`` or none yet, and a row gets a
position above every position given before, so above ``c``. Nothing from a rolled-back
transaction is ever committed, so never sequenced.

Per case, commit order: transactions touching one case are serialized by its row lock, so
the second one inserts its feed row (drawing its id) after the first one committed. A step
that sees the second row committed sees the first one too (it committed earlier): it has
either sequenced it already or sequences both now, in id order. Either way the first comes
first.

What latency depends on: a step waits for nothing but another step of this database (the
advisory lock is per database); it never waits for a transaction to end, here or in another
database. The row of a writer that is still running is invisible to the step and
gets its position from a later one. Who runs steps: after a commit that wrote to the feed,
a thread of the writer's process (sequencer.py), which also wakes the readers waiting on
LISTEN; and each reader, before it looks (an index probe when nothing waits), so a reader
reading just after a commit is not behind the writer's thread, and a row whose writer died
between its commit and its step is sequenced by the next look.

Cursors from before this design were ``(txid, id)`` with a transaction id, never 0: the
migration gave the rows already in the feed positions in that order and kept their txid, so
such a cursor reads on from the last of those rows at or before it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import Connection, sql

from taskflow_core.domain.model import Change, Position

from .db import execute, fetch_all, fetch_one, render
from .rows import ENTRY_COLUMNS, entry_from_row

# What readers LISTEN on, and sequencing steps NOTIFY when they gave rows positions.
CHANNEL = "taskflow_change_feed"

# An activity entry and its feed row, in one statement (one round trip, and the feed row can
# only ever name an entry written with it). No position yet: a step gives it after commit.
LOG_AND_PUBLISH = render(
    sql.SQL(
        """
    WITH entry AS (
        INSERT INTO activity_log ({columns}) VALUES ({values}) RETURNING id, case_id
    )
    INSERT INTO change_feed (case_id, entry_id) SELECT entry.case_id, entry.id FROM entry
    """
    ).format(
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in ENTRY_COLUMNS),
        values=sql.SQL(", ").join(sql.Placeholder() for _ in ENTRY_COLUMNS),
    )
)

# One sequencing step, a transaction of its own when the connection is in autocommit; the
# number of rows it gave positions. Its argument: whether to NOTIFY the readers on LISTEN.
SEQUENCE = render(sql.SQL("SELECT taskflow_sequence_change_feed(%s) AS sequenced"))

_SELECT = sql.SQL(
    "SELECT f.seq AS feed_seq, {entry}"
    " FROM change_feed AS f JOIN activity_log AS a ON a.id = f.entry_id"
).format(entry=sql.SQL(", ").join(sql.Identifier("a", c) for c in ENTRY_COLUMNS))
_AFTER = render(sql.SQL("{select} WHERE f.seq > %s ORDER BY f.seq LIMIT %s").format(select=_SELECT))
# An old (txid, id) cursor: after the last row, among those the migration gave positions in
# that order, at or before it.
_AFTER_OLD = render(
    sql.SQL(
        """
    {select}
    WHERE f.seq > coalesce((
        SELECT o.seq FROM change_feed AS o
        WHERE o.txid IS NOT NULL AND (o.txid, o.id) <= (%s, %s)
        ORDER BY o.txid DESC, o.id DESC
        LIMIT 1
    ), 0)
    ORDER BY f.seq
    LIMIT %s
    """
    ).format(select=_SELECT)
)
_AT = render(sql.SQL("{select} WHERE f.seq = %s").format(select=_SELECT))
_AT_OLD = render(
    sql.SQL("{select} WHERE f.txid = %s AND f.id = %s AND f.seq IS NOT NULL").format(select=_SELECT)
)
# A row without a position yet gets one above the greatest given.
_HEAD = render(sql.SQL("SELECT coalesce(max(seq), 0) AS seq FROM change_feed"))
# The oldest positioned rows, never the newest (the sequencer numbers on after the greatest).
_PRUNABLE = render(
    sql.SQL(
        "SELECT f.seq, a.created_at FROM change_feed AS f JOIN activity_log AS a"
        " ON a.id = f.entry_id WHERE f.seq <= %s"
        " AND f.seq < (SELECT max(seq) FROM change_feed) ORDER BY f.seq LIMIT %s"
    )
)
_PRUNE = render(sql.SQL("DELETE FROM change_feed WHERE seq <= %s"))
_PRUNED = render(
    sql.SQL(
        "INSERT INTO change_feed_pruned (id, last_seq) VALUES (1, %s)"
        " ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq"
    )
)
_LAST_PRUNED = render(sql.SQL("SELECT last_seq FROM change_feed_pruned"))


def sequence(conn: Connection[Any], *, wake: bool) -> int:
    """Run one sequencing step on ``conn``; how many rows it gave positions."""
    row = fetch_one(conn, SEQUENCE, (wake,))
    return int(row["sequenced"]) if row else 0


class PostgresChangeRepository:
    """``wake``: whether the steps this repository runs NOTIFY readers (on LISTEN)."""

    def __init__(self, conn: Connection[Any], *, wake: bool = True) -> None:
        self._conn = conn
        self._wake = wake

    def after(self, position: Position | None, limit: int) -> list[Change]:
        # Only a reader's look, in autocommit, runs a step: in a transaction (a relay fanning
        # out) the step's lock would be held until that transaction ends, and every writer's
        # step would wait for it. Writers' own steps serve the relay (sequencer.py).
        if self._conn.autocommit:
            sequence(self._conn, wake=self._wake)
        start = position or Position(0, 0)
        if start.tx == 0:
            rows = fetch_all(self._conn, _AFTER, (start.seq, limit))
        else:
            rows = fetch_all(self._conn, _AFTER_OLD, (start.tx, start.seq, limit))
        return [_change_from_row(row) for row in rows]

    def at(self, position: Position) -> Change | None:
        if position.tx == 0:
            row = fetch_one(self._conn, _AT, (position.seq,))
        else:
            row = fetch_one(self._conn, _AT_OLD, (position.tx, position.seq))
        return None if row is None else _change_from_row(row)

    def prune(self, before: datetime, upto: Position, limit: int) -> list[Position]:
        if upto.tx != 0:
            return []
        doomed = []
        for row in fetch_all(self._conn, _PRUNABLE, (upto.seq, limit)):
            if row["created_at"] >= before:
                break  # the feed loses only its oldest changes, with no gap
            doomed.append(row["seq"])
        if not doomed:
            return []
        execute(self._conn, _PRUNE, (doomed[-1],))
        execute(self._conn, _PRUNED, (doomed[-1],))
        return [Position(0, seq) for seq in doomed]

    def pruned(self) -> Position | None:
        row = fetch_one(self._conn, _LAST_PRUNED)
        return None if row is None else Position(0, row["last_seq"])

    def head(self) -> Position:
        # Rows committed but not yet sequenced come after it, so are served after it too: a
        # webhook registered now may get one that committed a moment before, never fewer.
        row = fetch_one(self._conn, _HEAD)
        return Position(0, row["seq"] if row else 0)


def _change_from_row(row: dict[str, Any]) -> Change:
    return Change(position=Position(0, row["feed_seq"]), entry=entry_from_row(row))
