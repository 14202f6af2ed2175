"""PostgresStore: the production store, a connection pool per process and its units of work."""

from __future__ import annotations

import os

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from taskflow_core.application.feed import poll

from .connections import DEFAULT_TIMEOUT, Connections
from .conninfo import display
from .errors import one_line
from .listener import ChangeListener
from .migrate import create_database, migrate
from .pgbouncer import take_switch
from .sequencer import Sequencer
from .unit_of_work import PostgresUnitOfWork

# Unless the DSN or libpq's environment says otherwise: fail fast on an unreachable host
# instead of waiting for the operating system's TCP timeout, and name ourselves in
# pg_stat_activity. Parameter: (environment variable, our default).
_DEFAULTS = {
    "connect_timeout": ("PGCONNECT_TIMEOUT", "10"),
    "application_name": ("PGAPPNAME", "taskflow"),
}
# The most cases of one bulk action in flight at once (docs/bulk.md), within half the pool:
# 5 with the default pool. On the benchmark's shared 2-core machine a batch took 3-4 ms a
# case with 8 at once, 6-7 ms with 4, 11-16 ms one at a time.
BULK_WRITERS = 8


class PostgresStore:
    """A ``Store`` on PostgreSQL 13+.

    ``PostgresStore("postgresql://user:pw@host:5432/db")``, or the parts as keywords; a keyword
    overrides the same part of the DSN, and what neither gives comes from the ``PG*``
    environment variables, as in every libpq client.

    The pool is opened on first use, in the process that uses it: a gunicorn worker forked
    from a master that built the store opens its own, since connections cannot cross a fork.

    ``timeout`` (seconds) bounds how long a unit of work waits for a connection, in all:
    past it, or within a fraction of a second while the server is known to be away, it
    raises ``DatabaseUnavailable`` (a ``StoreUnavailable``: the HTTP API answers 503).

    After writers commit to the change feed, a thread of the process gives their rows their
    positions, one step for however many commits, on a connection of its own (sequencer.py).
    ``notify``: that step also sends a NOTIFY, which wakes the readers waiting for changes,
    which LISTEN (one connection per process). False: no NOTIFY, and waiting readers poll, as
    they must where LISTEN is unavailable. Default: True, unless through PgBouncer.

    ``pgbouncer=True`` (or ``?pgbouncer=true`` on a ``postgresql://`` DSN): the connections go
    through a PgBouncer in transaction pooling mode, so the store keeps no state on a server
    session between transactions: no prepared statements, no session settings, no LISTEN
    (readers poll), and ``migrate()`` locks per transaction.
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
        timeout: float = DEFAULT_TIMEOUT,
        notify: bool | None = None,
        pgbouncer: bool = False,
    ) -> None:
        try:
            dsn, switched_on = take_switch(dsn or "")
            params = conninfo_to_dict(
                dsn, host=host, port=port, user=user, password=password, dbname=database
            )
        except psycopg.ProgrammingError as exc:
            raise ValueError(f"invalid PostgreSQL connection string: {one_line(exc)}") from exc
        for key, (variable, default) in _DEFAULTS.items():
            if key not in params and variable not in os.environ:
                params[key] = default
        self._conninfo = make_conninfo("", **params)
        self._min_size, self._max_size, self._timeout = min_size, max_size, timeout
        self.pgbouncer = pgbouncer or switched_on
        if notify and self.pgbouncer:
            raise ValueError(
                "notify=True needs LISTEN, which a transaction-pooling PgBouncer cannot carry"
            )
        self._connections = Connections(
            self._conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            pgbouncer=self.pgbouncer,
        )
        notifying = not self.pgbouncer if notify is None else notify
        self._listener = ChangeListener(self._conninfo) if notifying else None
        self._notifying = notifying
        self._sequencer = Sequencer(self._conninfo, wake=notifying, pgbouncer=self.pgbouncer)

    def unit_of_work(self, *, read_only: bool = False) -> PostgresUnitOfWork:
        if self._connections.closed:
            raise RuntimeError("the store is closed")
        return PostgresUnitOfWork(
            self._connections,
            read_only=read_only,
            sequencer=self._sequencer,
            wake=self._notifying,
        )

    @property
    def concurrent_writers(self) -> int:
        """How many cases of a bulk action run at once (``ConcurrentWriters``): a few,
        within half the pool, so that the requests beside a batch still find connections;
        a case's time goes mostly to round trips and the commit, which overlap."""
        return max(1, min(BULK_WRITERS, self._max_size // 2))

    def wait_for_changes(self, timeout: float) -> None:
        """Return when a change may have committed to the feed, or after ``timeout``."""
        # A relay reads in a transaction, which runs no sequencing step (changes.py): make
        # sure one runs now and then, should a writer have died before its own.
        self._sequencer.nudge()
        if self._listener is None:
            poll(timeout)
        else:
            self._listener.wait(timeout)

    def migrate(self) -> list[str]:
        """Apply the pending migrations over a connection of its own; their names."""
        return migrate(self._conninfo, pgbouncer=self.pgbouncer)

    def create_database(self) -> str:
        """Create the database this store names, which ``migrate()`` found missing (raising
        ``DatabaseMissing``): over the server's maintenance database, with the same
        credentials. Return its name."""
        return create_database(self._conninfo)

    def close(self) -> None:
        self._connections.close()
        if self._listener is not None:
            self._listener.close()
        self._sequencer.close()

    def __str__(self) -> str:
        # For messages: the database as libpq resolves it, without the password.
        return display(self._conninfo)

    def __repr__(self) -> str:
        # The conninfo may hold a password.
        params = conninfo_to_dict(self._conninfo)
        where = f"{params.get('host', '')}:{params.get('port', '')}/{params.get('dbname', '')}"
        return f"PostgresStore({where})"
