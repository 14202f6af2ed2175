"""A stranger on the test server: a transaction left open, with a transaction id of its own,
in a database that is not taskflow's, for as long as it runs.

The change feed must not wait for it (taskflow_postgres/changes.py). The tests hold one
with ``HeldTransaction``; .ci/run keeps one open during the whole suite with

    python -m tests.support.hold_transaction [--dsn URL] [--seconds N]

which prints ``holding <xid> in <database>`` once it holds it, and ends the transaction
(rolled back) when N seconds have passed (default: until it is stopped).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType, TracebackType
from typing import Any, Self

import psycopg
from psycopg.conninfo import make_conninfo

# Where the stranger's transaction runs unless told: the maintenance database of the server
# the tests use (tests/stores/postgres.py), never one of taskflow's test databases.
DEFAULT_DSN = make_conninfo(
    "",
    host=os.environ.get("PGHOST", "127.0.0.1"),
    port=os.environ.get("PGPORT", "5432"),
    user=os.environ.get("PGUSER", "postgres"),
    dbname="postgres",
)


class HeldTransaction:
    """``with HeldTransaction(dsn) as held:`` a transaction open on ``dsn`` for the block,
    holding a transaction id (``held.xid``); ``table``: it also writes a row there (a table
    it creates when missing), as a transaction doing unrelated work would."""

    def __init__(self, dsn: str, *, table: str | None = None) -> None:
        self._dsn = dsn
        self._table = table
        self._conn: psycopg.Connection[Any] | None = None
        self.xid = 0
        self.database = ""

    def __enter__(self) -> Self:
        conn = psycopg.connect(self._dsn)
        try:
            if self._table is not None:
                with conn.transaction():
                    conn.execute(
                        psycopg.sql.SQL("CREATE TABLE IF NOT EXISTS {} (note text)").format(
                            psycopg.sql.Identifier(self._table)
                        )
                    )
                conn.execute(
                    psycopg.sql.SQL("INSERT INTO {} VALUES ('held open')").format(
                        psycopg.sql.Identifier(self._table)
                    )
                )
            row = conn.execute(
                "SELECT pg_current_xact_id()::text::bigint, current_database()"
            ).fetchone()
        except BaseException:
            conn.close()
            raise
        assert row is not None
        self.xid, self.database = int(row[0]), str(row[1])
        self._conn = conn
        return self

    def still_open(self) -> bool:
        """Whether the server still runs the transaction (nothing has ended it meanwhile)."""
        with psycopg.connect(self._dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_xid::text::bigint = %s",
                (self.xid,),
            ).fetchone()
        return bool(row and row[0])

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._conn is not None:
            self._conn.rollback()
            self._conn.close()
            self._conn = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default=DEFAULT_DSN, help=f"default: {DEFAULT_DSN}")
    parser.add_argument("--seconds", type=float, default=None, help="default: until stopped")
    args = parser.parse_args(argv)
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    with HeldTransaction(args.dsn) as held:
        print(f"holding {held.xid} in {held.database}", flush=True)
        stop.wait(args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
