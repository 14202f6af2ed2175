"""Opening a SQLite connection the way every part of the store expects it to be set up."""

from __future__ import annotations

import logging
import sqlite3
import time

from .errors import is_busy
from .json_contains import SQL_NAME, json_contains

logger = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT = 30.0

# NULLS FIRST/LAST in ORDER BY, which the listing uses to order NULLs as PostgreSQL does.
MIN_SQLITE_VERSION = (3, 30, 0)


def connect(path: str, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> sqlite3.Connection:
    """A connection in autocommit mode (the unit of work issues BEGIN/COMMIT itself).

    ``check_same_thread=False`` because the pool hands a connection to whichever thread asks
    next; the pool guarantees no two threads ever use one at the same time.
    """
    if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
        raise RuntimeError(
            f"taskflow_sqlite needs SQLite {'.'.join(map(str, MIN_SQLITE_VERSION))} or later; "
            f"this Python has {sqlite3.sqlite_version}"
        )
    # ``timeout`` is SQLite's busy timeout: a locked database is waited for, not an error.
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        _use_wal(conn, path, busy_timeout)
        # In WAL mode NORMAL is still safe against corruption; a power loss may only drop
        # the last transactions, and each commit avoids an fsync.
        conn.execute("PRAGMA synchronous=NORMAL")
        # Off by default in SQLite, per connection.
        conn.execute("PRAGMA foreign_keys=ON")
        conn.create_function(SQL_NAME, 2, json_contains, deterministic=True)
    except BaseException:
        conn.close()
        raise
    return conn


def _use_wal(conn: sqlite3.Connection, path: str, busy_timeout: float) -> None:
    """Put the file in WAL mode, which lets readers proceed while one writer writes.

    It is a property of the file, so on an existing database this is a no-op. Switching a new
    file needs an exclusive lock and SQLite answers "database is locked" at once, without
    its busy handler, when several processes do it together: wait and retry here instead.
    """
    deadline = time.monotonic() + busy_timeout
    delay = 0.001
    while True:
        try:
            (mode,) = conn.execute("PRAGMA journal_mode=WAL").fetchone()
            break
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
    if str(mode).lower() != "wal":
        # E.g. a file system without shared memory: still correct, readers just wait more.
        logger.warning("%s stays in %s journal mode: WAL is not available", path, mode)
