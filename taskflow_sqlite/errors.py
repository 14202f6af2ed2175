"""Where sqlite3's errors become the core's, as the PostgreSQL store translates psycopg's."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from taskflow_core.errors import Conflict, NotFound


@contextmanager
def translated() -> Iterator[None]:
    """Run a statement, turning the constraint errors that mean something to the service into
    the core's errors; any other error is a bug or an outage and propagates as it is."""
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
