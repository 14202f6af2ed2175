"""The store's gauges (SPEC §17): how many cases of each status, deadlines overdue, timers
due, webhook deliveries pending, and how long the oldest change has waited for its place in
the feed; read in one read-only unit of work, and kept a few seconds so that scrapes from
several Prometheus servers, or every few seconds, cost the database one read per interval.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

import attrs

from ..ports import Store

# Statuses are the host's (a workflow has a handful), but a status is a string any caller
# may set where no workflow is declared: past this many, the least used are summed as one.
MAX_STATUSES = 50
# What they are summed under: no status can be spelled so (statuses match ^[a-z-]+$).
OTHER_STATUSES = "_other"
# How long a reading is served before the store is read again.
DEFAULT_TTL = 5.0


@attrs.frozen
class Gauges:
    cases: tuple[tuple[str, int], ...]
    deadlines_overdue: int
    timers_due: int
    webhooks_pending: int
    feed_oldest_pending: float


def read_gauges(store: Store, now: datetime, max_statuses: int = MAX_STATUSES) -> Gauges:
    """The gauges at ``now``: at most ``max_statuses`` statuses, the most used first, and
    the rest, if any, summed under ``OTHER_STATUSES``."""
    with store.unit_of_work(read_only=True) as uow:
        by_status = uow.stats.cases_by_status()
        overdue = uow.stats.deadlines_overdue(now)
        timers = uow.stats.timers_due(now)
        pending = uow.stats.webhooks_pending()
        oldest = uow.stats.feed_oldest_pending(now)
    ranked = sorted(by_status, key=lambda pair: (-pair[1], pair[0]))
    cases = ranked
    if len(ranked) > max_statuses:
        rest = sum(count for _, count in ranked[max_statuses - 1 :])
        cases = [*ranked[: max_statuses - 1], (OTHER_STATUSES, rest)]
    return Gauges(tuple(cases), overdue, timers, pending, oldest)


class CachedGauges:
    """``read()``'s last answer, read again once it is ``ttl`` seconds old. One reader at a
    time: scrapes arriving together wait for one read instead of each making its own."""

    def __init__(
        self,
        read: Callable[[], Gauges],
        ttl: float = DEFAULT_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._value: Gauges | None = None
        self._read_at = 0.0

    def get(self) -> Gauges:
        with self._lock:
            now = self._monotonic()
            if self._value is None or now - self._read_at >= self._ttl:
                self._value = self._read()
                self._read_at = now
            return self._value
