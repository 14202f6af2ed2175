"""Timestamps for one transaction: UTC, and strictly increasing within it (SPEC §3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_TICK = timedelta(microseconds=1)  # the finest step every store keeps


class TransactionClock:
    def __init__(self) -> None:
        self._last: datetime | None = None

    def now(self) -> datetime:
        # Two events in one request can land in the same microsecond; the log's order must not
        # depend on a tie-break, so each reading is at least one tick after the previous one.
        current = datetime.now(UTC)
        if self._last is not None and current <= self._last:
            current = self._last + _TICK
        self._last = current
        return current
