"""One request's transaction: a pooled connection, held from enter to exit, and its repositories."""

from __future__ import annotations

import logging
import time
import weakref
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import Connection
from psycopg_pool import ConnectionPool, PoolTimeout

from .activity import PostgresActivityRepository
from .cases import PostgresCaseRepository
from .changes import PostgresChangeRepository
from .errors import DatabaseUnavailable, one_line, translated
from .timers import PostgresTimerRepository
from .webhooks import PostgresDeliveryRepository, PostgresWebhookRepository

logger = logging.getLogger(__name__)

# A connection used moments ago is as alive as a check could show; one that sat idle may have
# been cut by a server restart or a proxy. Checking only those keeps the check's round trip
# (a sixth of a read's cost) off the busy path.
IDLE_CHECK_AFTER = 1.0  # seconds
_returned_at: weakref.WeakKeyDictionary[Connection[Any], float] = weakref.WeakKeyDictionary()


def check_if_idle(conn: Connection[Any]) -> None:
    """The pool's check: a round trip only for a connection idle longer than a second."""
    if time.monotonic() - _returned_at.get(conn, 0.0) > IDLE_CHECK_AFTER:
        ConnectionPool.check_connection(conn)


class PostgresUnitOfWork:
    """Every repository shares the one connection: a request never takes a second one while
    holding the first, which is how a pool runs dry and deadlocks under load.

    The connection is in psycopg's default non-autocommit mode: the first statement opens the
    transaction, ``commit()`` ends it. ``conn.transaction()`` blocks do not fit here, because
    the service decides when to commit from inside the block.
    """

    cases: PostgresCaseRepository
    activity: PostgresActivityRepository
    timers: PostgresTimerRepository
    changes: PostgresChangeRepository
    webhooks: PostgresWebhookRepository
    deliveries: PostgresDeliveryRepository

    def __init__(
        self,
        pool: ConnectionPool[Connection[Any]],
        *,
        read_only: bool = False,
        notify: bool = True,
    ) -> None:
        self._pool = pool
        # Whether writing to the change feed also wakes the readers waiting on it.
        self._notify = notify
        self._conn: Connection[Any] | None = None
        # A reader runs in autocommit: each of its statements is one snapshot of its own (the
        # repositories read a case with its log, or a page with its count, in one statement),
        # and it saves the BEGIN and ROLLBACK round trips, a third of a read's cost.
        self._read_only = read_only

    def __enter__(self) -> Self:
        try:
            conn = self._pool.getconn()
        except PoolTimeout as exc:
            # The server is down, or every connection is busy for that long.
            waited = f"{self._pool.timeout:g}s"
            raise DatabaseUnavailable(f"no database connection available within {waited}") from exc
        self._conn = conn
        if self._read_only:
            conn.autocommit = True
        self.cases = PostgresCaseRepository(conn)
        self.activity = PostgresActivityRepository(conn)
        self.timers = PostgresTimerRepository(conn)
        self.changes = PostgresChangeRepository(conn, notify=self._notify)
        self.webhooks = PostgresWebhookRepository(conn)
        self.deliveries = PostgresDeliveryRepository(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._connection(), None
        try:
            if self._read_only:
                conn.autocommit = False
            # Whatever was not committed is discarded; after a commit this is a no-op.
            conn.rollback()
        except psycopg.Error as error:
            if exc is None:
                raise DatabaseUnavailable(one_line(error)) from error
            # The request has failed already, and its own error says more than this one.
            logger.warning("rollback after a failed request failed too: %s", one_line(error))
        finally:
            _returned_at[conn] = time.monotonic()
            # The pool replaces the connection if the server dropped it.
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
