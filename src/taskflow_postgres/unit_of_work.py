"""One request's transaction: a pooled connection, held from enter to exit, and its repositories."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import Connection
from psycopg_pool import ConnectionPool, PoolTimeout

from .activity import PostgresActivityRepository
from .cases import PostgresCaseRepository
from .errors import DatabaseUnavailable, one_line, translated

logger = logging.getLogger(__name__)


class PostgresUnitOfWork:
    """Both repositories share the one connection: a request never takes a second one while
    holding the first, which is how a pool runs dry and deadlocks under load.

    The connection is in psycopg's default non-autocommit mode: the first statement opens the
    transaction, ``commit()`` ends it. ``conn.transaction()`` blocks do not fit here, because
    the service decides when to commit from inside the block.
    """

    cases: PostgresCaseRepository
    activity: PostgresActivityRepository

    def __init__(self, pool: ConnectionPool[Connection[Any]]) -> None:
        self._pool = pool
        self._conn: Connection[Any] | None = None

    def __enter__(self) -> Self:
        try:
            conn = self._pool.getconn()
        except PoolTimeout as exc:
            # The server is down, or every connection is busy for that long.
            waited = f"{self._pool.timeout:g}s"
            raise DatabaseUnavailable(f"no database connection available within {waited}") from exc
        self._conn = conn
        self.cases = PostgresCaseRepository(conn)
        self.activity = PostgresActivityRepository(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._connection(), None
        try:
            # Whatever was not committed is discarded; after a commit this is a no-op.
            conn.rollback()
        except psycopg.Error as error:
            if exc is None:
                raise DatabaseUnavailable(one_line(error)) from error
            # The request has failed already, and its own error says more than this one.
            logger.warning("rollback after a failed request failed too: %s", one_line(error))
        finally:
            # The pool checks the connection and replaces it if the server dropped it.
            self._pool.putconn(conn)

    def commit(self) -> None:
        with translated():
            self._connection().commit()

    def rollback(self) -> None:
        with translated():
            self._connection().rollback()

    def _connection(self) -> Connection[Any]:
        if self._conn is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._conn
