"""Time: the flow's clock (injectable, so tests need not sleep) and one transaction's readings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime; ``Taskflow(store, clock=...)`` takes one."""

_TICK = timedelta(microseconds=1)  # the finest step every store keeps


def system_clock() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is refused, since its zone is a guess."""
    if moment.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


class TransactionClock:
    """The readings one transaction takes: UTC, and strictly increasing."""

    def __init__(self, clock: Clock = system_clock) -> None:
        self._clock = clock
        self._last: datetime | None = None

    def wall(self) -> datetime:
        """The clock's reading as it is, for times a caller reckons from ("in 7 days")."""
        return utc(self._clock())

    def now(self) -> datetime:
        # Two events in one request can land in the same microsecond, and an injected clock
        # may stand still; the log's order must not depend on a tie-break, so each reading is
        # at least one tick after the previous one.
        current = utc(self._clock())
        if self._last is not None and current <= self._last:
            current = self._last + _TICK
        self._last = current
        return current
