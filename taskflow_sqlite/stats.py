"""What the metrics read over SQLite (SPEC §17): one aggregate statement each."""

from __future__ import annotations

from datetime import datetime

from taskflow_core.domain.deadlines import OVERDUE, RUNNING
from taskflow_core.domain.model import PENDING

from .repositories import Execute
from .timestamps import timestamp


class SqliteStatsRepository:
    def __init__(self, execute: Execute) -> None:
        self._execute = execute

    def cases_by_status(self) -> list[tuple[str, int]]:
        rows = self._execute("SELECT status, count(*) FROM cases GROUP BY status", ())
        return [(str(status), int(count)) for status, count in rows if status is not None]

    def deadlines_overdue(self, now: datetime) -> int:
        return self._count(
            "SELECT count(*) FROM deadlines WHERE state = ? OR (state = ? AND due <= ?)",
            (OVERDUE, RUNNING, timestamp(now)),
        )

    def timers_due(self, now: datetime) -> int:
        return self._count("SELECT count(*) FROM timers WHERE fire_at <= ?", (timestamp(now),))

    def webhooks_pending(self) -> int:
        return self._count("SELECT count(*) FROM webhook_deliveries WHERE status = ?", (PENDING,))

    def feed_oldest_pending(self, now: datetime) -> float:
        # A change has its place in the feed as it is written: SQLite has one writer at a
        # time, so no later commit can take a place before an earlier one.
        return 0.0

    def _count(self, statement: str, params: tuple[object, ...]) -> int:
        row = self._execute(statement, params).fetchone()
        return int(row[0]) if row else 0
