"""A process's database connections: a pool while the server answers, a quick probe while not.

psycopg_pool alone serves an outage badly. A request waits in the pool's queue for its whole
timeout, since the pool fails no waiting client when it cannot connect; the pool sleeps 1 s,
2 s, 4 s... between checks of dead connections; and it reconnects in the background with the
same doubling backoff, so it may notice that the server is back many seconds late. Here the
pool exists only while the server is known to answer. A connection found dead, or a pool
that cannot connect, ends it at once (its waiting requests fail then, not at their timeout),
and until a direct connection attempt succeeds requests fail fast; the first that succeeds
opens a fresh pool, whose first connections are made at once, with no backoff to sit out.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import weakref
from typing import Any

import psycopg
from psycopg import Connection
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from .errors import DatabaseUnavailable, connect_error, one_line

logger = logging.getLogger(__name__)

Pool = ConnectionPool[Connection[Any]]

# How long a request waits for a connection, in all, before it is answered "unavailable": a
# pool whose connections are all busy frees one within milliseconds under a normal load, and a
# client is better told to retry than left waiting behind a server that is not there.
DEFAULT_TIMEOUT = 5.0  # seconds

# A connection used moments ago is as alive as a check could show; one that sat idle may have
# been cut by a server restart or a proxy. Checking only those keeps the check's round trip
# (a sixth of a read's cost) off the busy path.
IDLE_CHECK_AFTER = 1.0  # seconds
_returned_at: weakref.WeakKeyDictionary[Connection[Any], float] = weakref.WeakKeyDictionary()

# Connection attempts while the server is away are this far apart at least: a server that is
# starting up forks a process to refuse each one. Requests that arrive while one is made
# share its outcome. It is also about the longest a recovery goes unnoticed.
PROBE_INTERVAL = 0.25  # seconds

# libpq (and psycopg after it) waits at least this long for a connection, in whole seconds,
# so a shorter timeout cannot cut an attempt shorter.
_MIN_CONNECT_TIMEOUT = 2

# How long closing a pool waits for its threads; it runs in a thread of its own, so no
# request waits for a pool thread stuck connecting to a host that does not answer.
_CLOSE_TIMEOUT = 5.0


def _configure(conn: Connection[Any]) -> None:
    _load_uuids_as_text(conn)
    # Timestamps then arrive as UTC datetimes, which the domain keeps and prints as they are;
    # converting every one from the server's zone cost a tenth of a listing's CPU.
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


def _configure_for_pgbouncer(conn: Connection[Any]) -> None:
    # No SET: in transaction pooling the next transaction may run on another server session,
    # and PgBouncer carries a session's settings over only for the few parameters it tracks.
    # Timestamps stay right without it: a timestamptz is an instant whatever zone it is
    # printed in, and rows.utc() turns each into UTC (test_postgres_pgbouncer.py reads them
    # through server sessions set to other zones).
    _load_uuids_as_text(conn)


def _load_uuids_as_text(conn: Connection[Any]) -> None:
    # Ids are text in the domain: reading uuid columns as text skips building a UUID object
    # per id only to print it again (PostgreSQL prints them in canonical lowercase).
    conn.adapters.register_loader("uuid", TextLoader)


class Connections:
    """Hands out pooled connections, waiting ``timeout`` seconds at most for one in all.

    The pool is opened in the process that uses it, after a fork too: a gunicorn worker
    forked from a master that built the store opens its own, since connections cannot cross
    a fork.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        min_size: int,
        max_size: int,
        timeout: float,
        pgbouncer: bool = False,
    ) -> None:
        self._conninfo = conninfo
        self._pgbouncer = pgbouncer
        self._min_size = min_size
        self._max_size = max_size
        self.timeout = timeout
        configured = conninfo_to_dict(conninfo).get("connect_timeout")
        self._connect_timeout = int(configured) if configured and int(configured) > 0 else None
        self._lock = threading.Lock()
        # One connection attempt at a time: the others wait for its outcome rather than
        # all knocking on the server's door together.
        self._probe_lock = threading.Lock()
        self._pool: Pool | None = None
        self._pid = os.getpid()
        self._closed = False
        # When the last connection attempt began, and why it failed (None: it succeeded).
        self._probed_at = -math.inf
        self._probe_failure: str | None = None
        self._probe_kind: type[DatabaseUnavailable] = DatabaseUnavailable
        # Pools inherited through a fork. Their sockets are the parent's: closing them (or
        # letting them be collected) would end the parent's sessions, so they are kept, unused.
        self._inherited: list[Pool] = []

    @property
    def closed(self) -> bool:
        return self._closed

    def acquire(self) -> tuple[Pool, Connection[Any]]:
        """A live connection and the pool to give it back to; ``DatabaseUnavailable`` when
        none is to be had within the timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            pool = self._current_pool() or self._reconnect(deadline)
            try:
                conn = pool.getconn(timeout=deadline - time.monotonic())
            except PoolClosed:
                # Another request found the server gone while this one waited: try anew.
                continue
            except PoolTimeout as exc:
                self._after_timeout(pool)
                raise DatabaseUnavailable(
                    f"no database connection available within {self.timeout:g}s"
                ) from exc
            if _is_alive(conn):
                return pool, conn
            # Dead while idle: the server restarted or went away, and so, most likely, did
            # every other idle connection of the pool. Start afresh (or fail fast).
            self._drop(pool, "a pooled connection was found dead")
            pool.putconn(conn)

    def release(self, pool: Pool, conn: Connection[Any]) -> None:
        _returned_at[conn] = time.monotonic()
        if conn.closed:
            self._drop(pool, "the connection to the database was lost")
        # A closed pool closes what it is given back; an open one replaces a lost connection.
        pool.putconn(conn)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            pool.close()

    def _current_pool(self) -> Pool | None:
        pid = os.getpid()
        with self._lock:
            if self._closed:
                raise RuntimeError("the store is closed")
            if self._pid != pid:
                if self._pool is not None:
                    self._inherited.append(self._pool)
                self._pool = None
                self._probed_at, self._probe_failure = -math.inf, None
                # Another thread of the parent may have held it at the fork, for good.
                self._probe_lock = threading.Lock()
                self._pid = pid
            return self._pool

    def _reconnect(self, deadline: float) -> Pool:
        """Open a pool once a connection attempt shows the server answering; else fail."""
        arrived = time.monotonic()
        if self._probe_failure is not None:
            # The server is known to be away: one request at a time waits for the next
            # attempt, and the others are answered at once rather than queueing behind it.
            if not self._probe_lock.acquire(blocking=False):
                raise self._probe_kind(self._probe_failure)
        elif not self._probe_lock.acquire(timeout=max(deadline - arrived, 0)):
            raise DatabaseUnavailable(f"could not reach the database within {self.timeout:g}s")
        try:
            pool = self._current_pool()
            if pool is not None:
                return pool  # opened by the attempt this request waited for
            if self._probe_failure is not None:
                if self._probed_at >= arrived:
                    # An attempt begun since this request arrived failed: as fresh an answer
                    # as another attempt would give.
                    raise self._probe_kind(self._probe_failure)
                # Waiting out the interval rather than failing at once: the first request
                # after the server is back is then served, not told to retry.
                time.sleep(max(self._probed_at + PROBE_INTERVAL - time.monotonic(), 0))
            self._probe(deadline)
            return self._open_pool()
        finally:
            self._probe_lock.release()

    def _probe(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DatabaseUnavailable(f"could not reach the database within {self.timeout:g}s")
        seconds = math.floor(remaining)
        if self._connect_timeout is not None:
            seconds = min(seconds, self._connect_timeout)
        # Only a host that answers nothing at all makes the attempt last that long; a
        # refused or reset connection fails at once, whatever the timeout.
        seconds = max(seconds, _MIN_CONNECT_TIMEOUT)
        self._probed_at = time.monotonic()
        options = connect_options(pgbouncer=self._pgbouncer)
        try:
            with psycopg.connect(self._conninfo, connect_timeout=seconds, **options) as conn:
                if self._pgbouncer:
                    # PgBouncer accepts a connection whether or not PostgreSQL is there;
                    # only a statement reaches the server. Without it every request of an
                    # outage would connect, find the connection dead, and connect again
                    # until its timeout (test_postgres_pgbouncer.py, TestAnOutage).
                    conn.execute("SELECT 1")
        except psycopg.Error as exc:
            failure = (
                connect_error(exc)
                if isinstance(exc, psycopg.OperationalError)
                else DatabaseUnavailable(one_line(exc))
            )
            # Kept, with its kind (a missing database is told apart), for the requests that
            # arrive before the next attempt.
            self._probe_failure, self._probe_kind = str(failure), type(failure)
            raise failure from exc
        self._probe_failure = None

    def _open_pool(self) -> Pool:
        pool: Pool = ConnectionPool(
            self._conninfo,
            open=False,
            min_size=self._min_size,
            max_size=self._max_size,
            timeout=self.timeout,
            configure=_configure_for_pgbouncer if self._pgbouncer else _configure,
            kwargs=connect_options(pgbouncer=self._pgbouncer),
            name="taskflow",
        )
        with self._lock:
            if self._closed:
                raise RuntimeError("the store is closed")
            # Without waiting: connections are made in the background, and the request
            # waits (up to the timeout) only for the one it needs.
            pool.open(wait=False)
            self._pool = pool
        return pool

    def _after_timeout(self, pool: Pool) -> None:
        # A pool that has failed to connect and had nothing to give for a whole timeout is
        # retrying with its backoff: start afresh instead. One that merely has every
        # connection busy is kept, or each timeout would add a pool's worth of connections.
        stats = pool.get_stats()
        if stats.get("connections_errors", 0) and not stats.get("pool_available", 0):
            self._drop(pool, "the pool could not connect to the database")

    def _drop(self, pool: Pool, reason: str) -> None:
        with self._lock:
            if self._pool is not pool:
                return  # already dropped, by a request that saw the same outage
            self._pool = None
        logger.warning("%s; connecting anew on the next request", reason)
        # Closing fails the requests waiting for a connection at once, and ends the pool's
        # background reconnection, which the next request's connection attempt replaces.
        threading.Thread(
            target=pool.close, args=(_CLOSE_TIMEOUT,), name="taskflow-pool-close", daemon=True
        ).start()


def connect_options(*, pgbouncer: bool) -> dict[str, Any]:
    """``psycopg.connect`` keywords for the mode: through a transaction-pooling PgBouncer no
    server-side prepared statements, since the next execution of a statement may land on a
    server session that never saw it prepared (test_postgres_pgbouncer.py shows it fail)."""
    return {"prepare_threshold": None} if pgbouncer else {}


def _is_alive(conn: Connection[Any]) -> bool:
    if time.monotonic() - _returned_at.get(conn, 0.0) <= IDLE_CHECK_AFTER:
        return True
    try:
        ConnectionPool.check_connection(conn)
    except psycopg.Error:
        return False
    return True
