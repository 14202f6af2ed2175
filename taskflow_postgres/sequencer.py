"""Sequencing the change feed after writers commit, one step for many commits, and waking
the readers on LISTEN.

A writer's row gets its position from a sequencing step (changes.py says why after the
commit, and why no reader then waits for anything else). The writer does not run the step
itself: steps take turns on one lock, and each one's commit waits for its disk flush, so
a step per request would make every writer of every node take its turn on that lock. The
writer only pokes this after its commit; a thread of the process runs one step, on a
connection of its own, for however many commits poked it meanwhile. The step sends the
NOTIFY itself, in its transaction: readers are woken when the rows have positions, not
before, and the transactions that notify (so take turns on PostgreSQL's notification queue
lock through their commit) are only the steps, which take turns anyway.

A lost poke (the process dies between commit and step, the connection fails) costs a
reader nothing: readers run a step before they look (changes.py). A relay, which reads in
a transaction and runs none, pokes this when it waits (``nudge``), at most once a
``NUDGE_INTERVAL``.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import psycopg

from taskflow_core.errors import StoreError

from .changes import sequence
from .connections import connect_options
from .errors import one_line

logger = logging.getLogger(__name__)

# A waiting relay's nudge runs a step at most this often.
NUDGE_INTERVAL = 1.0
# After a failure, the thread waits this long before it connects again, doubling to the cap.
_FIRST_DELAY = 0.25
_LONGEST_DELAY = 30.0


class Sequencer:
    """Started on first use, in the process using it: a thread does not survive a fork.

    ``wake``: whether steps NOTIFY readers on LISTEN. ``pgbouncer``: the connection goes
    through a transaction-pooling PgBouncer (a step is one statement, so one transaction)."""

    def __init__(self, conninfo: str, *, wake: bool = True, pgbouncer: bool = False) -> None:
        self._conninfo = conninfo
        self._wake = wake
        self._pgbouncer = pgbouncer
        self._poked = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._last_step = 0.0

    def poke(self) -> None:
        """Say that a transaction has committed rows to the feed."""
        if self._thread is None or self._pid != os.getpid():
            self._start()
        self._poked.set()

    def nudge(self) -> None:
        """Say that someone waits for the feed: a step runs unless one ran a moment ago."""
        if time.monotonic() - self._last_step >= NUDGE_INTERVAL:
            self.poke()

    def close(self) -> None:
        self._stop.set()
        self._poked.set()
        thread = self._thread
        if thread is not None and self._pid == os.getpid():
            thread.join(timeout=2)

    def _start(self) -> None:
        with self._lock:
            if self._stop.is_set() or (self._thread is not None and self._pid == os.getpid()):
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, name="taskflow-change-sequencer", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        delay = _FIRST_DELAY
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._conninfo, autocommit=True, **connect_options(pgbouncer=self._pgbouncer)
                ) as conn:
                    while True:
                        self._poked.wait()
                        if self._stop.is_set():
                            return
                        # Cleared before the step: a commit poking meanwhile gets a step of
                        # its own, whose snapshot is taken after it committed.
                        self._poked.clear()
                        self._last_step = time.monotonic()
                        sequence(conn, wake=self._wake)
                        delay = _FIRST_DELAY
            except (psycopg.Error, StoreError) as exc:
                if self._stop.is_set():
                    return
                # The commits that poked are sequenced by the next step: poke again.
                self._poked.set()
                logger.warning(
                    "could not sequence the change feed (readers do it as they look): %s",
                    one_line(exc),
                )
            except Exception:
                # Never let the thread die: relays would wait a second for every change.
                self._poked.set()
                logger.exception("sequencing the change feed failed")
            self._stop.wait(delay)
            delay = min(delay * 2, _LONGEST_DELAY)
