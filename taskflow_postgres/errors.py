"""What this adapter raises, and where psycopg's errors become the core's (the adapter's edge)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors

from taskflow_core.errors import (
    Conflict,
    NotFound,
    NotMigrated,
    StoreError,
    StoreUnavailable,
    one_line,
)
from taskflow_core.errors import DatabaseMissing as CoreDatabaseMissing
from taskflow_core.errors import MigrationFailed as CoreMigrationFailed

__all__ = [
    "DatabaseMissing",
    "DatabaseUnavailable",
    "MigrationFailed",
    "PostgresStoreError",
    "connect_error",
    "one_line",
    "translated",
]

# libpq reports a failed connection as text alone, with no SQLSTATE to test.
_NO_SUCH_DATABASE = re.compile(r'database "[^"]*" does not exist')


class PostgresStoreError(StoreError):
    """Base of this adapter's own errors; the message is one line, safe to print."""


class DatabaseUnavailable(PostgresStoreError, StoreUnavailable):
    """The server cannot be reached, refused the credentials, or dropped the connection."""


class DatabaseMissing(DatabaseUnavailable, CoreDatabaseMissing):
    """The server answers, but has no database of the name given."""


class MigrationFailed(PostgresStoreError, CoreMigrationFailed):
    """A migration's SQL failed; it was rolled back and the ones after it were not applied."""


def connect_error(exc: psycopg.OperationalError) -> DatabaseUnavailable:
    """What a failed connection attempt raises: ``DatabaseMissing`` when the server answered
    that the database does not exist, else ``DatabaseUnavailable``."""
    if _NO_SUCH_DATABASE.search(str(exc)):
        return DatabaseMissing(one_line(exc))
    return DatabaseUnavailable(one_line(exc))


@contextmanager
def translated() -> Iterator[None]:
    """Run a statement of a unit of work, turning the errors that have a meaning for the
    service into the core's errors; any other is a bug and propagates as it is (a 500)."""
    try:
        yield
    except errors.ForeignKeyViolation as exc:
        # Only the log refers to another row: an entry for a case that does not exist.
        raise NotFound("Case not found") from exc
    except errors.UniqueViolation as exc:
        raise Conflict("A record with this id already exists") from exc
    except (errors.UndefinedTable, errors.UndefinedFunction) as exc:
        # A table, or the feed's sequencing function (changes.py), not created yet.
        raise NotMigrated(f"no taskflow schema: {one_line(exc)}") from exc
    except errors.TransactionRollback as exc:
        # A deadlock between two requests locking the same cases in opposite orders: the
        # server has already rolled this one back, and the client may retry it.
        raise Conflict("The case was changed concurrently; retry the request") from exc
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(one_line(exc)) from exc
