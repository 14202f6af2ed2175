"""A background loop that fires due timers: what `taskflow serve` runs in each worker and
`taskflow timers` runs on its own."""

from __future__ import annotations

import logging
from typing import Protocol

from ..errors import StoreError
from .periodic import Periodic

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 0.5  # seconds: a timer fires within about a second of its due time


class Sweepable(Protocol):
    def run_due_timers(self) -> int: ...


class Sweeper(Periodic):
    """Calls ``flow.run_due_timers()`` every ``interval`` seconds until stopped.

    Several sweepers (threads, processes, machines) may run against one store: each timer
    still fires once, since firing claims it in the store. A store that is away is waited
    out with a warning, not a crash.
    """

    what = "timers"

    def __init__(self, flow: Sweepable, interval: float = DEFAULT_INTERVAL) -> None:
        super().__init__(interval)
        self.flow = flow

    def sweep_once(self) -> int:
        try:
            return self.flow.run_due_timers()
        except StoreError as exc:
            logger.warning("timers not swept: %s", exc)
        except Exception:
            logger.exception("timers not swept")
        return 0

    def work(self) -> None:
        fired = self.sweep_once()
        if fired:
            logger.info("fired %d timer(s)", fired)
