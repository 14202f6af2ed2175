"""One request's transaction: a pooled connection, held from enter to exit, and its repositories."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import Connection

from .activity import PostgresActivityRepository
from .case_log import end_snapshot
from .cases import PostgresCaseRepository
from .changes import PostgresChangeRepository
from .connections import Connections, Pool
from .deadlines import PostgresDeadlineRepository
from .errors import DatabaseUnavailable, one_line, translated
from .idempotency import PostgresIdempotencyRepository
from .sequencer import Sequencer
from .stats import PostgresStatsRepository
from .timers import PostgresTimerRepository
from .webhooks import PostgresDeliveryRepository, PostgresWebhookRepository

logger = logging.getLogger(__name__)


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
    deadlines: PostgresDeadlineRepository
    idempotency: PostgresIdempotencyRepository

    changes: PostgresChangeRepository
    webhooks: PostgresWebhookRepository
    deliveries: PostgresDeliveryRepository
    stats: PostgresStatsRepository

    def __init__(
        self,
        connections: Connections,
        *,
        read_only: bool = False,
        sequencer: Sequencer | None = None,
        wake: bool = True,
    ) -> None:
        self._connections = connections
        # The connection and the pool it goes back to, while the block runs.
        self._lease: tuple[Pool, Connection[Any]] | None = None
        # What gives the feed rows of a commit that published to it their positions (and
        # wakes the readers); whether the steps this unit of work runs wake them.
        self._sequencer = sequencer
        self._wake = wake
        # A reader runs in autocommit: each of its statements is one snapshot of its own (the
        # repositories read a case with its log, or a page with its count, in one statement),
        # and it saves the BEGIN and ROLLBACK round trips, a third of a read's cost.
        self._read_only = read_only
        # Whether the connection is in autocommit for this unit of work (a reader's, or a
        # command that writes once: autocommit), to set back when it ends.
        self._autocommit = read_only

    def __enter__(self) -> Self:
        self._lease = pool, conn = self._connections.acquire()
        if self._read_only:
            try:
                conn.autocommit = True
            except BaseException:
                self._lease = None
                self._connections.release(pool, conn)
                raise
        self.cases = PostgresCaseRepository(conn)
        self.activity = PostgresActivityRepository(conn)
        self.timers = PostgresTimerRepository(conn)
        self.deadlines = PostgresDeadlineRepository(conn)
        self.idempotency = PostgresIdempotencyRepository(conn)
        self.changes = PostgresChangeRepository(conn, wake=self._wake)
        self.webhooks = PostgresWebhookRepository(conn)
        self.deliveries = PostgresDeliveryRepository(conn)
        self.stats = PostgresStatsRepository(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._lease is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        (pool, conn), self._lease = self._lease, None
        try:
            # A lost connection has nothing left to undo: the server rolled back whatever
            # was not committed when the session ended.
            if not conn.closed:
                if self._autocommit and conn.autocommit:
                    conn.autocommit = False
                # Whatever was not committed is discarded; after a commit this is a no-op.
                conn.rollback()
                if self._read_only:
                    end_snapshot(conn)  # a long log's read may have taken one (case_log.py)
        except psycopg.Error as error:
            if exc is None:
                raise DatabaseUnavailable(one_line(error)) from error
            # The request has failed already, and its own error says more than this one.
            logger.warning("rollback after a failed request failed too: %s", one_line(error))
        finally:
            self._connections.release(pool, conn)

    def autocommit(self) -> None:
        """ports.ImplicitTransaction: autocommit until the unit of work ends, so that each
        statement is a transaction of its own, with no BEGIN before it or COMMIT after."""
        conn = self._connection()
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raise RuntimeError("autocommit() after the transaction has begun")
        with translated():
            conn.autocommit = True
        self._autocommit = True

    def commit(self) -> None:
        with translated():
            self._connection().commit()
        if self.activity.published:
            self.activity.published = False
            if self._sequencer is not None:
                self._sequencer.poke()

    def rollback(self) -> None:
        self.activity.published = False
        with translated():
            self._connection().rollback()

    def _connection(self) -> Connection[Any]:
        if self._lease is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._lease[1]
