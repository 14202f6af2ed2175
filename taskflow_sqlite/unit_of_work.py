"""One transaction on one pooled connection, begun with BEGIN IMMEDIATE (BEGIN for readers)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from taskflow_core.ports import (
    ActivityRepository,
    CaseRepository,
    ChangeRepository,
    DeadlineRepository,
    DeliveryRepository,
    IdempotencyRepository,
    StatsRepository,
    TimerRepository,
    WebhookRepository,
)

from .changes import SqliteChangeRepository
from .deadlines import SqliteDeadlineRepository
from .errors import translated
from .idempotency import SqliteIdempotencyRepository
from .pool import ConnectionPool
from .repositories import SqliteActivityRepository, SqliteCaseRepository
from .stats import SqliteStatsRepository
from .timers import SqliteTimerRepository
from .webhooks import SqliteDeliveryRepository, SqliteWebhookRepository


class NestedTransactionError(RuntimeError):
    """A thread began a unit of work while its own earlier one still held the write lock.

    SQLite has one writer per database, so the inner one would wait for the outer one, which
    waits for it: fail at once rather than after the busy timeout.
    """


class SqliteUnitOfWork:
    """Entering takes a connection and begins a write transaction; leaving without
    ``commit()`` rolls it back and returns the connection to the pool.

    BEGIN IMMEDIATE takes SQLite's write lock up front, so units of work that write are
    serialized across threads and processes: a read-modify-write cannot lose an update, and
    nobody fails half-way with SQLITE_BUSY when upgrading a read lock. Statements run after
    ``commit()`` or ``rollback()`` begin a new transaction, as psycopg's would.
    """

    # Annotated with the port's types: the protocol's attributes are mutable, hence invariant.
    cases: CaseRepository
    activity: ActivityRepository
    timers: TimerRepository
    deadlines: DeadlineRepository
    idempotency: IdempotencyRepository
    changes: ChangeRepository
    webhooks: WebhookRepository
    deliveries: DeliveryRepository
    stats: StatsRepository

    def __init__(self, pool: ConnectionPool, *, read_only: bool = False) -> None:
        self._pool = pool
        # A reader needs no write lock: in WAL mode a deferred transaction reads one snapshot
        # while writers go on, instead of queueing behind them.
        self._begin_statement = "BEGIN" if read_only else "BEGIN IMMEDIATE"
        self._conn: sqlite3.Connection | None = None
        # Whether we began a transaction that commit() or rollback() has not ended yet.
        self._began = False
        self.cases = SqliteCaseRepository(self._execute)
        self.activity = SqliteActivityRepository(self._execute)
        self.timers = SqliteTimerRepository(self._execute)
        self.deadlines = SqliteDeadlineRepository(self._execute)
        self.idempotency = SqliteIdempotencyRepository(self._execute)
        self.changes = SqliteChangeRepository(self._execute)
        self.webhooks = SqliteWebhookRepository(self._execute)
        self.deliveries = SqliteDeliveryRepository(self._execute)
        self.stats = SqliteStatsRepository(self._execute)

    def __enter__(self) -> Self:
        if self._conn is not None:
            raise RuntimeError("this unit of work is already entered")
        # Opening a connection may wait for a lock too (the switch of a new file to WAL).
        with translated():
            self._conn = self._pool.acquire()
        try:
            self._begin(self._conn)
        except BaseException:
            self._pool.release(self._conn)
            self._conn = None
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        self._began = False
        if conn is None:
            return
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            self._pool.release(conn)

    def commit(self) -> None:
        conn = self._connection()
        self._check_not_aborted(conn)
        if conn.in_transaction:
            # Busy only where WAL is not available (readers' locks then hold up a commit);
            # the transaction stays open, and leaving the unit of work rolls it back.
            with translated():
                conn.execute("COMMIT")
        self._began = False

    def rollback(self) -> None:
        conn = self._connection()
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        self._began = False

    def _execute(self, sql: str, params: Sequence[object]) -> sqlite3.Cursor:
        conn = self._connection()
        self._check_not_aborted(conn)
        if not self._began:
            self._begin(conn)
        with translated():
            return conn.execute(sql, params)

    def _begin(self, conn: sqlite3.Connection) -> None:
        held = self._pool.held_by_this_thread()
        if any(other.in_transaction for other in held if other is not conn):
            raise NestedTransactionError(
                "this thread already holds an open SQLite unit of work; commit or leave it"
                " before beginning another"
            )
        # Where a writer waits for another's lock, up to the busy timeout: past it the
        # database is busy, not broken, and the request may be retried (a 503).
        with translated():
            conn.execute(self._begin_statement)
        self._began = True

    def _check_not_aborted(self, conn: sqlite3.Connection) -> None:
        # Some errors (a full disk, an I/O error) make SQLite roll the whole transaction back
        # by itself. Carrying on in a new transaction would commit half a request; refuse, as
        # PostgreSQL refuses every statement of an aborted transaction.
        if self._began and not conn.in_transaction:
            raise sqlite3.OperationalError(
                "the transaction was rolled back after an error; leave the unit of work"
            )

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not entered")
        return self._conn
