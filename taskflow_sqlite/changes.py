"""The change feed over SQLite: a row per activity entry, numbered in commit order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from taskflow_core.domain.model import Change, Position

from .repositories import ENTRY_COLUMNS, Execute, entry_from_row
from .timestamps import parse_timestamp

_ENTRIES = ", ".join(f"a.{column}" for column in ENTRY_COLUMNS)
_SELECT = (
    f"SELECT f.id, {_ENTRIES} FROM change_feed AS f JOIN activity_log AS a ON a.id = f.entry_id"
)


class SqliteChangeRepository:
    """Positions are ``(0, id)``. SQLite lets one transaction write at a time and a reader
    sees only what committed, so ids grow in commit order and no reader can see a higher one
    before a lower one: resuming after the last id read misses nothing."""

    def __init__(self, execute: Execute) -> None:
        self._execute = execute

    def after(self, position: Position | None, limit: int) -> list[Change]:
        if position is not None and position.tx > 0:
            return []  # every position here is (0, id): none comes after this one
        start = 0 if position is None else position.seq
        rows = self._execute(f"{_SELECT} WHERE f.id > ? ORDER BY f.id LIMIT ?", (start, limit))
        return [_change_from_row(row) for row in rows.fetchall()]

    def at(self, position: Position) -> Change | None:
        if position.tx != 0:
            return None
        row = self._execute(f"{_SELECT} WHERE f.id = ?", (position.seq,)).fetchone()
        return None if row is None else _change_from_row(row)

    def prune(self, before: datetime, upto: Position, limit: int) -> list[Position]:
        if upto.tx != 0:
            return []
        rows = self._execute(
            "SELECT f.id, a.created_at FROM change_feed AS f JOIN activity_log AS a"
            " ON a.id = f.entry_id WHERE f.id <= ? AND f.id < (SELECT max(id) FROM change_feed)"
            " ORDER BY f.id LIMIT ?",
            (upto.seq, limit),
        ).fetchall()
        doomed = []
        for feed_id, created_at in rows:
            if parse_timestamp(created_at) >= before:
                break  # the feed loses only its oldest changes, with no gap
            doomed.append(feed_id)
        if not doomed:
            return []
        self._execute("DELETE FROM change_feed WHERE id <= ?", (doomed[-1],))
        self._execute(
            "INSERT INTO change_feed_pruned (id, last_id) VALUES (1, ?)"
            " ON CONFLICT (id) DO UPDATE SET last_id = excluded.last_id",
            (doomed[-1],),
        )
        return [Position(0, feed_id) for feed_id in doomed]

    def pruned(self) -> Position | None:
        row = self._execute("SELECT last_id FROM change_feed_pruned", ()).fetchone()
        return None if row is None else Position(0, row[0])

    def head(self) -> Position:
        (last,) = self._execute("SELECT coalesce(max(id), 0) FROM change_feed", ()).fetchone()
        return Position(0, last)


def _change_from_row(row: Sequence[Any]) -> Change:
    return Change(position=Position(0, row[0]), entry=entry_from_row(row[1:]))
