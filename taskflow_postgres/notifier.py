"""Waking readers of the change feed after writers commit: one NOTIFY for many commits.

Why not NOTIFY inside the writing transaction: PostgreSQL lets transactions that notify
commit one at a time, holding a lock on the notification queue from just before the commit
until its record is flushed to disk. Every writer of every node then took its turn on that
one lock for its disk flush: the write ceiling for a status change fell from about 925 to
about 550 transactions/s on the benchmark machine (pgbench, benchmarks/pgbench/status.sql,
with and without the NOTIFY). A NOTIFY sent by a transaction of its own that writes nothing
holds the lock for microseconds, as it has no record to flush.

So a writer only pokes this after its commit; a thread of the process sends one NOTIFY on a
connection of its own for however many commits poked it meanwhile. A lost notification
(the process dies between commit and NOTIFY, the connection fails) costs a waiting reader
at most ``listener.RECHECK``: readers look again that often anyway.
"""

from __future__ import annotations

import logging
import os
import threading

import psycopg
from psycopg import sql

from .changes import CHANNEL
from .errors import one_line

logger = logging.getLogger(__name__)

_NOTIFY = sql.SQL("NOTIFY {}").format(sql.Identifier(CHANNEL))
# After a failure, the thread waits this long before it connects again, doubling to the cap.
_FIRST_DELAY = 0.25
_LONGEST_DELAY = 30.0


class Notifier:
    """Started on first use, in the process using it: a thread does not survive a fork."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._poked = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def poke(self) -> None:
        """Say that a transaction has committed entries to the feed."""
        if self._thread is None or self._pid != os.getpid():
            self._start()
        self._poked.set()

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
                target=self._run, name="taskflow-change-notifier", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        delay = _FIRST_DELAY
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    while True:
                        self._poked.wait()
                        if self._stop.is_set():
                            return
                        # Cleared before sending: a commit poking meanwhile gets a NOTIFY
                        # of its own, sent after it committed.
                        self._poked.clear()
                        conn.execute(_NOTIFY)
                        delay = _FIRST_DELAY
            except psycopg.Error as exc:
                if self._stop.is_set():
                    return
                logger.warning(
                    "could not notify readers of the change feed (they look again within"
                    " a second): %s",
                    one_line(exc),
                )
            except Exception:
                # Never let the thread die: readers would wait a second for every change.
                logger.exception("notifying readers of the change feed failed")
            self._stop.wait(delay)
            delay = min(delay * 2, _LONGEST_DELAY)
