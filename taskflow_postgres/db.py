"""Running one statement on a unit of work's connection: rows as dicts, errors translated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import Connection, sql
from psycopg.rows import DictRow, dict_row

from .errors import translated

Query = bytes | sql.SQL | sql.Composed
Params = Sequence[Any]


def render(statement: sql.Composable) -> bytes:
    """A statement composed once, at import: composing it again for every execution cost a
    tenth of a write request's CPU in the benchmark's profile."""
    return statement.as_bytes(None)


def fetch_one(
    conn: Connection[Any], query: Query, params: Params = (), *, binary: bool = False
) -> DictRow | None:
    """The first row; ``binary``: in PostgreSQL's binary format (a bytea as its bytes, not
    as hex text twice their size)."""
    with translated(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params, binary=binary)
        return cur.fetchone()


def fetch_all(
    conn: Connection[Any], query: Query, params: Params = (), *, prepare: bool | None = None
) -> list[DictRow]:
    """Every row; ``prepare=False``: planned for this execution's values, never as a
    prepared statement (whose generic plan is the same for every value)."""
    with translated(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params, prepare=prepare)
        return cur.fetchall()


def execute(conn: Connection[Any], query: Query, params: Params = ()) -> int:
    """Run a write; the number of rows it touched."""
    with translated(), conn.cursor() as cur:
        cur.execute(query, params)
        return cur.rowcount


def execute_many(conn: Connection[Any], query: Query, params: Sequence[Params]) -> None:
    """Run a write once per set of parameters, in one batch of round trips."""
    with translated(), conn.cursor() as cur:
        cur.executemany(query, params)
