"""A small pool of SQLite connections: one per unit of work at a time, new ones after fork."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable

# Connections inherited from the parent across a fork. SQLite must not touch them in the
# child (closing one may checkpoint or drop the parent's locks), and letting them be garbage
# collected would close them, so they are kept referenced here for the life of the process.
_INHERITED: list[sqlite3.Connection] = []


class ConnectionPool:
    """Hands out connections, never the same one to two holders at once.

    A connection in use belongs to exactly one unit of work; released, it is kept idle for
    the next one (up to ``max_idle``). After a fork the process starts afresh, as a gunicorn
    worker must: connections opened by the parent are abandoned, never used.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], max_idle: int = 4) -> None:
        self._connect = connect
        self._max_idle = max_idle
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._closed = False
        self._held = threading.local()

    def acquire(self) -> sqlite3.Connection:
        with self._lock:
            self._forget_parent()
            if self._closed:
                raise RuntimeError("the SQLite store is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        self.held_by_this_thread().append(conn)
        return conn

    def release(self, conn: sqlite3.Connection) -> None:
        held = self.held_by_this_thread()
        if conn in held:
            held.remove(conn)
        with self._lock:
            if os.getpid() != self._pid:
                # Acquired before a fork: the parent still owns the file handle.
                _INHERITED.append(conn)
                return
            if not self._closed and not conn.in_transaction and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def held_by_this_thread(self) -> list[sqlite3.Connection]:
        """The connections the calling thread holds now (in the order it acquired them)."""
        held: list[sqlite3.Connection] | None = getattr(self._held, "connections", None)
        if held is None:
            held = self._held.connections = []
        return held

    def close(self) -> None:
        with self._lock:
            self._forget_parent()
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _forget_parent(self) -> None:
        # Called with the lock held. threading.local survives fork only for the forking
        # thread, whose list then names the parent's connections: reset it as well.
        if os.getpid() != self._pid:
            _INHERITED.extend(self._idle)
            self._idle = []
            self._held = threading.local()
            self._pid = os.getpid()
