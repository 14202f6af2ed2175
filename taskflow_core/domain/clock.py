"""Time: the flow's clock (injectable, so tests need not sleep), one transaction's readings, and
how a moment is written in answers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime; ``Taskflow(store, clock=...)`` takes one."""

# The finest step an answer shows: timestamps are written in milliseconds (timestamp()).
_TICK = timedelta(milliseconds=1)
_MICROSECOND = timedelta(microseconds=1)  # the finest step every store keeps


def system_clock() -> datetime:
    return datetime.now(UTC)


def utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is refused, since its zone is a guess."""
    if moment.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


class Timeline:
    """The readings of every transaction of one flow: none earlier than one taken before.

    A request whose events come faster than a millisecond each writes them a millisecond
    apart (TransactionClock), a little ahead of the clock; the next request on the case
    must not then write entries that sort before them. Per process, as the flow is: requests
    served by other processes within those milliseconds may still interleave.
    """

    def __init__(self, clock: Clock = system_clock) -> None:
        self.clock = clock
        self._last: datetime | None = None
        self._lock = threading.Lock()

    def reading(self, at_least: datetime | None = None) -> datetime:
        """The clock's reading, at least ``at_least``, and later than every earlier one."""
        current = utc(self.clock())
        with self._lock:
            if at_least is not None and current < at_least:
                current = at_least
            if self._last is not None and current <= self._last:
                current = self._last + _MICROSECOND
            self._last = current
        return current


class TransactionClock:
    """The readings one transaction takes: UTC, and a millisecond apart as written."""

    def __init__(self, clock: Clock | Timeline = system_clock) -> None:
        self._timeline = clock if isinstance(clock, Timeline) else Timeline(clock)
        self._last: datetime | None = None

    def wall(self) -> datetime:
        """The clock's reading as it is, for times a caller reckons from ("in 7 days")."""
        return utc(self._timeline.clock())

    def now(self) -> datetime:
        # Two events in one request can land in the same millisecond, and an injected clock
        # may stand still; the log's order as written must not depend on a tie-break, so
        # each reading is in a later millisecond than the previous one. Readings otherwise
        # keep their microseconds: the order of cases made by different requests in one
        # millisecond is still the order they were made in.
        floor = None if self._last is None else _millisecond(self._last) + _TICK
        self._last = self._timeline.reading(floor)
        return self._last


def _millisecond(moment: datetime) -> datetime:
    """``moment`` cut to the millisecond it is written in."""
    return moment.replace(microsecond=moment.microsecond - moment.microsecond % 1000)


def timestamp(value: datetime) -> str:
    """A moment as JavaScript's ``Date.toISOString`` writes it, as the original's answers
    did: UTC, milliseconds, ``Z`` (``2026-01-05T10:00:00.123Z``). Fixed width: text order is
    time order. Microseconds are cut, not rounded, so no moment is written later than it is;
    TransactionClock keeps one request's entries apart in milliseconds."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    text = value.isoformat()  # without timespec=: a third faster, and lists print hundreds
    return f"{text[:23]}Z" if value.microsecond else f"{text[:19]}.000Z"
