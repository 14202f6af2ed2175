"""A background loop that fires due timers: what `taskflow serve` runs in each worker and
`taskflow timers` runs on its own."""

from __future__ import annotations

import logging
import random
import threading
from typing import Protocol

from ..errors import StoreError

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = 0.5  # seconds: a timer fires within about a second of its due time


class Sweepable(Protocol):
    def run_due_timers(self) -> int: ...


class Sweeper:
    """Calls ``flow.run_due_timers()`` every ``interval`` seconds until stopped.

    Several sweepers (threads, processes, machines) may run against one store: each timer
    still fires once, since firing claims it in the store. A store that is away is waited
    out with a warning, not a crash.
    """

    def __init__(self, flow: Sweepable, interval: float = DEFAULT_INTERVAL) -> None:
        self.flow = flow
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sweep_once(self) -> int:
        try:
            return self.flow.run_due_timers()
        except StoreError as exc:
            logger.warning("timers not swept: %s", exc)
        except Exception:
            logger.exception("timers not swept")
        return 0

    def run(self) -> None:
        """Sweep until ``stop()``; in the calling thread."""
        while not self._stop.is_set():
            fired = self.sweep_once()
            if fired:
                logger.info("fired %d timer(s)", fired)
            # Jittered, so sweepers started together do not poll in lockstep.
            self._stop.wait(self.interval * random.uniform(0.8, 1.2))

    def start(self) -> Sweeper:
        """Sweep in a daemon thread of its own."""
        self._thread = threading.Thread(target=self.run, name="taskflow-timers", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
