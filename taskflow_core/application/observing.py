"""What a watcher (metrics, traces) may learn of the engine's work, without the core knowing
who watches: events that committed, hooks that failed, webhook deliveries that ended; and,
for a ``Tracer``, a span around each transaction and each hook.

The core calls an ``Observer``; adapters implement it (``taskflow_falcon/metrics.py`` turns
it into Prometheus counters). Every call happens after the fact and outside any transaction,
and an observer that fails is logged, never allowed to fail the work it watches.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Protocol

logger = logging.getLogger(__name__)

# The kinds an event is counted under (SPEC §17): the first part of its name, comments and
# their edits as one. Bounded: an event of any other name is not counted by kind.
EVENT_KINDS = ("create", "update", "status", "assign", "comment", "timer", "deadline", "bulk")
_KIND_OF_FIRST_PART = {
    **{kind: kind for kind in EVENT_KINDS},
    "update-comment": "comment",
    "delete-comment": "comment",
}

# A delivery attempt's outcome: accepted, failed and to be tried again, or given up.
DELIVERED = "delivered"
RETRIED = "retried"
FAILED = "failed"


def event_kind(event_name: str) -> str | None:
    """The kind ``event_name`` is counted under, or None for a name of no kind."""
    return _KIND_OF_FIRST_PART.get(event_name.partition(":")[0])


class Observer(Protocol):
    def events_committed(self, kinds: Sequence[str]) -> None:
        """Events of these kinds (``EVENT_KINDS``, one per event) committed together."""

    def hook_failed(self, pattern: str) -> None:
        """A hook registered for ``pattern`` raised an error that is not a ``TaskflowError``
        (those are answers a hook gives on purpose: a 4xx), so its transaction rolls back."""

    def delivery_finished(self, outcome: str) -> None:
        """A webhook delivery attempt was recorded: ``DELIVERED``, ``RETRIED`` or
        ``FAILED``."""


class Tracer(Protocol):
    def span(
        self, name: str, attributes: Mapping[str, str]
    ) -> contextlib.AbstractContextManager[object]:
        """A span named ``name`` around the block (an error leaving it marks the span)."""


class Observers:
    """The observers a flow tells, added at any time; itself an ``Observer``. Copy on write,
    so a call in progress never sees the tuple change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._observers: tuple[Observer, ...] = ()
        self.tracer: Tracer | None = None

    def add(self, observer: Observer) -> None:
        """Tell ``observer`` too; adding one already told changes nothing (two apps made on
        one flow count its events once)."""
        with self._lock:
            if not any(o is observer for o in self._observers):
                self._observers = (*self._observers, observer)

    def __bool__(self) -> bool:
        return bool(self._observers) or self.tracer is not None

    def span(
        self, name: str, attributes: Mapping[str, str]
    ) -> contextlib.AbstractContextManager[object]:
        """The tracer's span, or nothing when no tracer is set."""
        tracer = self.tracer
        return contextlib.nullcontext() if tracer is None else tracer.span(name, attributes)

    def events_committed(self, kinds: Sequence[str]) -> None:
        for observer in self._observers:
            try:
                observer.events_committed(kinds)
            except Exception:
                logger.exception("an observer failed counting committed events")

    def hook_failed(self, pattern: str) -> None:
        for observer in self._observers:
            try:
                observer.hook_failed(pattern)
            except Exception:
                logger.exception("an observer failed counting a hook failure")

    def delivery_finished(self, outcome: str) -> None:
        for observer in self._observers:
            try:
                observer.delivery_finished(outcome)
            except Exception:
                logger.exception("an observer failed counting a webhook delivery")
