"""What the metrics read over PostgreSQL (SPEC §17): one statement each, on an index or on
the kept counts, so a scrape costs the database a few index probes however many cases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import Connection, sql

from taskflow_core.domain.deadlines import OVERDUE, RUNNING
from taskflow_core.domain.model import PENDING

from .db import fetch_all, fetch_one, render

# The counts the triggers keep for the listing (migrations/0009_status_counts.sql): a few
# rows per status, instead of every case.
_BY_STATUS = render(
    sql.SQL(
        "SELECT status, sum(cases)::bigint AS n FROM case_status_counts"
        " GROUP BY status HAVING sum(cases) > 0"
    )
)
# On deadlines_due_index, which holds only running and overdue deadlines.
_OVERDUE = render(
    sql.SQL(
        "SELECT count(*) AS n FROM deadlines WHERE state IN (%s, %s) AND (state = %s OR due <= %s)"
    )
)
_TIMERS_DUE = render(sql.SQL("SELECT count(*) AS n FROM timers WHERE fire_at <= %s"))
# On the partial indexes of pending deliveries: the delivered history costs nothing.
_PENDING = render(sql.SQL("SELECT count(*) AS n FROM webhook_deliveries WHERE status = %s"))
# Committed feed rows still without a place (changes.py), on the partial index of those.
_OLDEST_UNSEQUENCED = render(
    sql.SQL(
        "SELECT min(a.created_at) AS oldest FROM change_feed AS f"
        " JOIN activity_log AS a ON a.id = f.entry_id WHERE f.seq IS NULL"
    )
)


class PostgresStatsRepository:
    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn

    def cases_by_status(self) -> list[tuple[str, int]]:
        return [(row["status"], int(row["n"])) for row in fetch_all(self._conn, _BY_STATUS)]

    def deadlines_overdue(self, now: datetime) -> int:
        return self._count(_OVERDUE, (RUNNING, OVERDUE, OVERDUE, now))

    def timers_due(self, now: datetime) -> int:
        return self._count(_TIMERS_DUE, (now,))

    def webhooks_pending(self) -> int:
        return self._count(_PENDING, (PENDING,))

    def feed_oldest_pending(self, now: datetime) -> float:
        row = fetch_one(self._conn, _OLDEST_UNSEQUENCED)
        oldest = None if row is None else row["oldest"]
        return 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())

    def _count(self, query: bytes, params: tuple[object, ...]) -> int:
        row = fetch_one(self._conn, query, params)
        return int(row["n"]) if row else 0
