"""SqliteStore: the embedded store, one database file, schema brought up to date on first use."""

from __future__ import annotations

import functools
import os
import sqlite3
import threading

from taskflow_core.errors import DatabaseMissing, MigrationFailed, StoreUnavailable, one_line

from . import migrations
from .connection import DEFAULT_BUSY_TIMEOUT, connect
from .errors import busy_error, is_busy
from .pool import ConnectionPool
from .unit_of_work import SqliteUnitOfWork


class SqliteStore:
    """Cases in a SQLite file, safe to share between threads and forked worker processes.

    ``busy_timeout`` (seconds) is how long a unit of work waits for another writer, in this
    process or another, before failing.

    ``create``: a file that does not exist is created, and the schema brought up to date, on
    first use (the default, so that a new file needs no setup). False: the file must exist
    and be migrated; a unit of work on a missing file raises ``DatabaseMissing`` and on one
    without the schema ``NotMigrated``, creating nothing (what the command line's checks
    and background commands use, so that a typo in a path is an error, not a new database).
    ``migrate()`` creates the file either way.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        create: bool = True,
    ) -> None:
        self.path = os.fspath(path)
        if self.path in ("", ":memory:"):
            # Each pooled connection would get a private, empty database of its own.
            raise ValueError(
                f"SqliteStore needs a file path, not {self.path!r};"
                " taskflow_core.memory.MemoryStore is the in-memory store"
            )
        self._pool = ConnectionPool(functools.partial(connect, self.path, busy_timeout))
        self._migrated = False
        self._create = create
        self._migrate_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    def __str__(self) -> str:
        # For messages: a relative path reads as one, as a shell would show it.
        relative = not (os.path.isabs(self.path) or self.path.startswith(os.curdir))
        shown = os.path.join(os.curdir, self.path) if relative else self.path
        return f"the SQLite file {shown}"

    def unit_of_work(self, *, read_only: bool = False) -> SqliteUnitOfWork:
        # Applied on first use so that `taskflow serve` works on a new file with no setup.
        if not self._migrated:
            if self._create:
                self.migrate()
            else:
                self._check_exists()
        return SqliteUnitOfWork(self._pool, read_only=read_only)

    def _check_exists(self) -> None:
        if os.path.exists(self.path):
            return
        hint = "run `taskflow migrate` to create it"
        if not os.path.isabs(self.path) and os.path.exists(os.sep + self.path):
            # sqlite:///tmp/x.db is the relative tmp/x.db; the absolute one has four slashes.
            hint = f"did you mean the absolute path, sqlite:////{self.path}?"
        raise DatabaseMissing(f"{self} does not exist: {hint}")

    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded in the file; return their names."""
        with self._migrate_lock:
            try:
                conn = self._pool.acquire()
            except (sqlite3.Error, OSError) as exc:
                raise StoreUnavailable(f"cannot open {self.path}: {one_line(exc)}") from exc
            try:
                applied = migrations.apply_pending(conn)
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc):
                    # Another writer held the file past the busy timeout: try again later.
                    raise StoreUnavailable(f"{self.path}: {one_line(exc)}") from exc
                raise MigrationFailed(f"could not migrate {self.path}: {one_line(exc)}") from exc
            except sqlite3.Error as exc:
                # Another process holding the write lock past the busy timeout is not a
                # failed migration: nothing was tried, and trying later may succeed.
                if is_busy(exc):
                    raise busy_error(exc) from exc
                raise MigrationFailed(f"could not migrate {self.path}: {one_line(exc)}") from exc
            finally:
                self._pool.release(conn)
            self._migrated = True
        return applied

    def close(self) -> None:
        self._pool.close()
