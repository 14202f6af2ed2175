"""The migration runner: the versioned SQL files of ``migrations/``, each applied once, in order."""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any, NamedTuple

import psycopg
from psycopg import Connection, errors, sql

from taskflow_core.application.migrations import Recorded, Shipped, check_history, checksum

from .connections import connect_options
from .conninfo import resolved
from .errors import (
    DatabaseMissing,
    DatabaseUnavailable,
    MigrationFailed,
    connect_error,
    one_line,
)

logger = logging.getLogger(__name__)

# The key of the advisory lock every migrating process takes: an arbitrary number, fixed so
# that all versions of taskflow agree on it. Advisory locks are per database.
LOCK_KEY = 0x7A5F_10E1

# Where CREATE DATABASE is sent from: the maintenance database every server has, else the
# template database, as PostgreSQL's own createdb falls back to.
_MAINTENANCE_DATABASES = ("postgres", "template1")

_CREATE_TABLE = """
    CREATE TABLE IF NOT EXISTS taskflow_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    );
    -- Releases before checksums made the table without it; their rows get theirs below.
    ALTER TABLE taskflow_migrations ADD COLUMN IF NOT EXISTS checksum text;
"""


class Migration(NamedTuple):
    version: int
    name: str
    script: bytes


def available() -> list[Migration]:
    """Every migration shipped with the package, oldest first (``NNNN_name.sql``)."""
    found = []
    for item in (resources.files("taskflow_postgres") / "migrations").iterdir():
        if item.name.endswith(".sql"):
            name = item.name.removesuffix(".sql")
            found.append(Migration(int(name.split("_", 1)[0]), name, item.read_bytes()))
    return sorted(found)


def migrate(conninfo: str, *, pgbouncer: bool = False) -> list[str]:
    """Connect, apply what is pending, and return the names of what was applied."""
    try:
        conn = psycopg.connect(conninfo, autocommit=True, **connect_options(pgbouncer=pgbouncer))
    except psycopg.OperationalError as exc:
        raise connect_error(exc) from exc
    with conn:
        try:
            return apply_pending(conn, pgbouncer=pgbouncer)
        except psycopg.OperationalError as exc:
            if conn.broken:
                raise DatabaseUnavailable(one_line(exc)) from exc
            raise MigrationFailed(f"could not migrate: {one_line(exc)}") from exc
        except psycopg.Error as exc:
            # The bookkeeping itself failed, e.g. the role may not create tables.
            raise MigrationFailed(f"could not migrate: {one_line(exc)}") from exc


def create_database(conninfo: str) -> str:
    """Create the database ``conninfo`` names, over a maintenance database of the same server
    with the same credentials; return its name. One that exists by now (another process
    created it meanwhile) is left as it is."""
    name = resolved(conninfo)["dbname"]
    conn = _connect_to_maintenance(conninfo)
    with conn:
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except errors.DuplicateDatabase:
            pass
        except psycopg.OperationalError as exc:
            if conn.broken:
                raise DatabaseUnavailable(one_line(exc)) from exc
            raise MigrationFailed(f"could not create database {name}: {one_line(exc)}") from exc
        except psycopg.Error as exc:
            # Typically a role without CREATEDB.
            raise MigrationFailed(f"could not create database {name}: {one_line(exc)}") from exc
    return name


def _connect_to_maintenance(conninfo: str) -> Connection[Any]:
    for dbname in _MAINTENANCE_DATABASES:
        try:
            return psycopg.connect(conninfo, dbname=dbname, autocommit=True)
        except psycopg.OperationalError as exc:
            failure = connect_error(exc)
            if dbname == _MAINTENANCE_DATABASES[-1] or not isinstance(failure, DatabaseMissing):
                raise failure from exc
    raise AssertionError("unreachable: the last attempt returns or raises")


def apply_pending(conn: Connection[Any], *, pgbouncer: bool = False) -> list[str]:
    """On an autocommit connection: apply pending migrations, each in its own transaction.

    The lock is taken before the bookkeeping table is created, so that two processes starting
    at once neither race to create it nor apply a migration twice: the second waits, then
    finds nothing left to do.

    Through a transaction-pooling PgBouncer a session's lock would outlive the migration on a
    server session that other clients go on to use, and the unlock could run on another
    session: there the lock is the transaction's, and every pending migration is applied in
    that one transaction (one that fails undoes the others applied with it).
    """
    if pgbouncer:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            return _apply_all(conn)
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        return _apply_all(conn)
    finally:
        _unlock(conn)


def _apply_all(conn: Connection[Any]) -> list[str]:
    conn.execute(_CREATE_TABLE)
    recorded = {
        version: Recorded(name, digest)
        for version, name, digest in conn.execute(
            "SELECT version, name, checksum FROM taskflow_migrations"
        )
    }
    shipped = available()
    check_history([Shipped(m.version, m.name, checksum(m.script)) for m in shipped], recorded)
    # Rows of a release that kept no checksums: what it applied is what it shipped.
    conn.execute(
        "UPDATE taskflow_migrations AS t SET checksum = s.checksum"
        " FROM unnest(%s::int[], %s::text[]) AS s(version, checksum)"
        " WHERE t.version = s.version AND t.checksum IS NULL",
        ([m.version for m in shipped], [checksum(m.script) for m in shipped]),
    )
    applied = []
    for migration in shipped:
        if migration.version not in recorded:
            _apply(conn, migration)
            applied.append(migration.name)
    return applied


def _apply(conn: Connection[Any], migration: Migration) -> None:
    logger.info("applying migration %s", migration.name)
    try:
        with conn.transaction():
            # Without parameters psycopg sends the script as a simple query, which may hold
            # several statements.
            conn.execute(migration.script)
            conn.execute(
                "INSERT INTO taskflow_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, checksum(migration.script)),
            )
    except psycopg.OperationalError as exc:
        if conn.broken:
            raise DatabaseUnavailable(one_line(exc)) from exc
        raise MigrationFailed(f"migration {migration.name} failed: {one_line(exc)}") from exc
    except psycopg.Error as exc:
        raise MigrationFailed(f"migration {migration.name} failed: {one_line(exc)}") from exc


def _unlock(conn: Connection[Any]) -> None:
    if conn.broken or conn.closed:
        return  # the server released the lock with the session
    try:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    except psycopg.Error:
        # Never hide the error that brought us here; the lock ends with the session anyway.
        logger.warning("could not release the migration lock", exc_info=True)
