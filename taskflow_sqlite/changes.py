"""The change feed over SQLite: a row per activity entry, numbered in commit order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from taskflow_core.domain.model import Change, Position

from .repositories import ENTRY_COLUMNS, Execute, entry_from_row

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

    def head(self) -> Position:
        (last,) = self._execute("SELECT coalesce(max(id), 0) FROM change_feed", ()).fetchone()
        return Position(0, last)


def _change_from_row(row: Sequence[Any]) -> Change:
    return Change(position=Position(0, row[0]), entry=entry_from_row(row[1:]))
