"""Waking readers of the change feed: one LISTEN connection per process, outside the pool.

A sequencing step NOTIFYs when it gives rows positions (``sequencer.py``); a thread here
listens and wakes every waiting reader, which then reads the feed again. A reader that
waits holds no pooled connection, so a thousand of them cost one connection, not the pool.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import psycopg
from psycopg import Connection, sql

from taskflow_core.application.feed import poll

from .changes import CHANNEL
from .errors import one_line

logger = logging.getLogger(__name__)

# A notification says rows of the feed got their positions. One can be lost (the notifying
# process died after its step, this connection failed meanwhile): so a reader also looks
# again this often, and its look runs a step of its own (changes.py).
RECHECK = 1.0
# How often the listening thread looks up from waiting, to notice it should stop.
_TICK = 0.5
_LONGEST_RECONNECT_DELAY = 30.0


class ChangeListener:
    """Started on first use, in the process using it: a thread does not survive a fork."""

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._changed = threading.Condition()
        self._generation = 0
        self._listening = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def wait(self, timeout: float) -> None:
        """Return when a change may have committed, or after at most ``timeout`` seconds."""
        self._start()
        with self._changed:
            if self._listening:
                seen = self._generation
                self._changed.wait_for(
                    lambda: self._generation != seen or self._stop.is_set(),
                    timeout=max(0.0, min(timeout, RECHECK)),
                )
                return
        # Not connected (yet, or any more): look as often as a store without LISTEN does.
        poll(timeout)

    def close(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        thread = self._thread
        if thread is not None and self._pid == os.getpid():
            thread.join(timeout=2 * _TICK + 1)

    def _start(self) -> None:
        with self._changed:
            if self._stop.is_set():
                return
            if self._thread is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._listening = False
            self._thread = threading.Thread(
                target=self._listen, name="taskflow-change-listener", daemon=True
            )
            self._thread.start()

    def _wake(self, *, listening: bool) -> None:
        with self._changed:
            self._listening = listening
            self._generation += 1
            self._changed.notify_all()

    def _listen(self) -> None:
        delay = _TICK
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    # Readers may have missed a change while nobody listened: wake them.
                    self._wake(listening=True)
                    delay = _TICK
                    self._relay_notifications(conn)
            except psycopg.Error as exc:
                if self._stop.is_set():
                    break
                logger.warning(
                    "not listening for changes (readers poll meanwhile): %s", one_line(exc)
                )
            except Exception:
                # Never let the thread die: readers would wait a second for every change.
                logger.exception("listening for changes failed (readers poll meanwhile)")
            self._wake(listening=False)
            self._stop.wait(delay)
            delay = min(delay * 2, _LONGEST_RECONNECT_DELAY)

    def _relay_notifications(self, conn: Connection[Any]) -> None:
        while not self._stop.is_set():
            for _ in conn.notifies(timeout=_TICK):
                self._wake(listening=True)
