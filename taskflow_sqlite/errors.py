"""Where sqlite3's errors become the core's, as the PostgreSQL store translates psycopg's."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from taskflow_core.errors import Conflict, NotFound, NotMigrated, StoreUnavailable, one_line


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether SQLite gave up waiting for another connection's lock (SQLITE_BUSY and its
    extended codes): the database is fine, only busy, and the same work may succeed later."""
    return getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY")


def busy_error(exc: sqlite3.Error) -> StoreUnavailable:
    return StoreUnavailable(f"the database stayed locked past the busy timeout: {one_line(exc)}")


@contextmanager
def translated() -> Iterator[None]:
    """Run a statement, turning the errors that mean something to the service into the
    core's errors: constraint violations, and a lock held by another writer past the busy
    timeout. Any other error is a bug or a broken file and propagates as it is."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if name == "SQLITE_CONSTRAINT_FOREIGNKEY":
            # Only the log refers to another row: an entry for a case that does not exist.
            raise NotFound("Case not found") from exc
        if name in ("SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"):
            raise Conflict("A record with this id already exists") from exc
        raise
    except sqlite3.OperationalError as exc:
        if is_busy(exc):
            raise busy_error(exc) from exc
        if str(exc).startswith("no such table"):
            # Only a file that was never migrated lacks one of the store's tables.
            raise NotMigrated(f"the file has no taskflow schema: {one_line(exc)}") from exc
        raise
