"""PostgresStore: the production store, a connection pool per process and its units of work."""

from __future__ import annotations

import os
import threading
from typing import Any

import psycopg
from psycopg import Connection
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool

from taskflow_core.feed import poll

from .errors import one_line
from .listener import ChangeListener
from .migrate import migrate
from .unit_of_work import PostgresUnitOfWork, check_if_idle

# Unless the DSN or libpq's environment says otherwise: fail fast on an unreachable host
# instead of waiting for the operating system's TCP timeout, and name ourselves in
# pg_stat_activity. Parameter: (environment variable, our default).
_DEFAULTS = {
    "connect_timeout": ("PGCONNECT_TIMEOUT", "10"),
    "application_name": ("PGAPPNAME", "taskflow"),
}


def _configure(conn: Connection[Any]) -> None:
    # Ids are text in the domain: reading uuid columns as text skips building a UUID object
    # per id only to print it again (PostgreSQL prints them in canonical lowercase).
    conn.adapters.register_loader("uuid", TextLoader)
    # Timestamps then arrive as UTC datetimes, which the domain keeps and prints as they are;
    # converting every one from the server's zone cost a tenth of a listing's CPU.
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()


class PostgresStore:
    """A ``Store`` on PostgreSQL 13+.

    ``PostgresStore("postgresql://user:pw@host:5432/db")``, or the parts as keywords; a keyword
    overrides the same part of the DSN, and what neither gives comes from the ``PG*``
    environment variables, as in every libpq client.

    The pool is opened on first use, in the process that uses it: a gunicorn worker forked
    from a master that built the store opens its own, since connections cannot cross a fork.

    ``notify``: writers NOTIFY and readers of the change feed waiting for changes LISTEN, on a
    connection of their own (one per process). False: no NOTIFY, and waiting readers poll,
    as they must where LISTEN is unavailable (through a transaction-pooling PgBouncer). A
    transaction that notified holds a server-wide lock from just before its commit until the
    commit is on disk, so such commits take turns rather than share disk flushes: a heavy
    write load may notice, and False trades that for polling.
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        host: str | None = None,
        port: int | str | None = None,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 30.0,
        notify: bool = True,
    ) -> None:
        try:
            params = conninfo_to_dict(
                dsn or "", host=host, port=port, user=user, password=password, dbname=database
            )
        except psycopg.ProgrammingError as exc:
            raise ValueError(f"invalid PostgreSQL connection string: {one_line(exc)}") from exc
        for key, (variable, default) in _DEFAULTS.items():
            if key not in params and variable not in os.environ:
                params[key] = default
        self._conninfo = make_conninfo("", **params)
        self._min_size = min_size
        self._max_size = max_size
        self._timeout = timeout
        self._lock = threading.Lock()
        self._pool: ConnectionPool[Connection[Any]] | None = None
        self._pid = os.getpid()
        self._closed = False
        # Pools inherited through a fork. Their sockets are the parent's: closing them (or
        # letting them be collected) would end the parent's sessions, so they are kept, unused.
        self._inherited: list[ConnectionPool[Connection[Any]]] = []
        self._notify = notify
        self._listener = ChangeListener(self._conninfo) if notify else None

    def unit_of_work(self, *, read_only: bool = False) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self._current_pool(), read_only=read_only, notify=self._notify)

    def wait_for_changes(self, timeout: float) -> None:
        """Return when a change may have committed to the feed, or after ``timeout``."""
        if self._listener is None:
            poll(timeout)
        else:
            self._listener.wait(timeout)

    def migrate(self) -> list[str]:
        """Apply the pending migrations over a connection of its own; their names."""
        return migrate(self._conninfo)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            pool.close()
        if self._listener is not None:
            self._listener.close()

    def _current_pool(self) -> ConnectionPool[Connection[Any]]:
        pid = os.getpid()
        with self._lock:
            if self._closed:
                raise RuntimeError("the store is closed")
            if self._pool is not None and self._pid != pid:
                self._inherited.append(self._pool)
                self._pool = None
            if self._pool is None:
                self._pool = self._open_pool()
                self._pid = pid
            return self._pool

    def _open_pool(self) -> ConnectionPool[Connection[Any]]:
        pool: ConnectionPool[Connection[Any]] = ConnectionPool(
            self._conninfo,
            open=False,
            min_size=self._min_size,
            max_size=self._max_size,
            timeout=self._timeout,
            check=check_if_idle,
            configure=_configure,
            name="taskflow",
        )
        # Without waiting: connections are made in the background, and the first request
        # waits (up to the timeout) only for the one it needs.
        pool.open(wait=False)
        return pool

    def __repr__(self) -> str:
        # The conninfo may hold a password.
        params = conninfo_to_dict(self._conninfo)
        where = f"{params.get('host', '')}:{params.get('port', '')}/{params.get('dbname', '')}"
        return f"PostgresStore({where})"
