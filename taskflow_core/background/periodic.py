"""A background loop: one piece of work every interval, in a thread of its own, until
stopped; a store that is away is waited out with a warning, not a crash. The timers'
sweeper and the scheduled prune run on it."""

from __future__ import annotations

import logging
import random
import threading

from ..errors import StoreError

logger = logging.getLogger(__name__)


class Periodic:
    """Runs ``work()`` every ``interval`` seconds (jittered, so loops started together do not
    run in lockstep) until ``stop()``. A subclass names its work (``what``, for the log and
    the thread's name) and logs what the work did."""

    what = "work"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def work(self) -> None:
        raise NotImplementedError

    def once(self) -> None:
        """``work()``, a failure logged rather than raised."""
        try:
            self.work()
        except StoreError as exc:
            logger.warning("%s not done: %s", self.what, exc)
        except Exception:
            logger.exception("%s not done", self.what)

    def run(self) -> None:
        """Work until ``stop()``; in the calling thread."""
        while not self._stop.is_set():
            self.once()
            self._stop.wait(self.interval * random.uniform(0.8, 1.2))

    def start(self) -> Periodic:
        """Work in a daemon thread of its own."""
        name = f"taskflow-{self.what}"
        self._thread = threading.Thread(target=self.run, name=name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
