"""Each store's migration runner checks its history first: a migration edited or renumbered
after it was applied stops ``migrate`` with a clear message, instead of being skipped."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from taskflow_core.application.migrations import Recorded, Shipped, check_history
from taskflow_core.errors import MigrationFailed
from taskflow_postgres import PostgresStore
from taskflow_sqlite import SqliteStore

Execute = Callable[[str], None]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Callable[[], list[str]], Execute]]:
    """A way to migrate a store, and to run SQL on its database behind its back."""
    if request.param == "sqlite":
        path = tmp_path / "taskflow.db"

        def migrate() -> list[str]:
            store = SqliteStore(path)
            try:
                return store.migrate()
            finally:
                store.close()

        def execute(statement: str) -> None:
            with sqlite3.connect(path) as conn:
                conn.execute(statement)

        yield migrate, execute
        return
    dsn = request.getfixturevalue("postgres_empty_dsn")

    def migrate_pg() -> list[str]:
        store = PostgresStore(dsn)
        try:
            return store.migrate()
        finally:
            store.close()

    def execute_pg(statement: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(statement.encode())

    yield migrate_pg, execute_pg


def test_a_migration_edited_after_it_was_applied_stops_migrate(
    database: tuple[Callable[[], list[str]], Execute],
) -> None:
    migrate, execute = database
    migrate()
    execute("UPDATE taskflow_migrations SET checksum = 'not-what-was-shipped'")

    with pytest.raises(MigrationFailed, match="edited after it was applied"):
        migrate()


def test_a_migration_renumbered_onto_one_applied_stops_migrate(
    database: tuple[Callable[[], list[str]], Execute],
) -> None:
    migrate, execute = database
    migrate()
    execute("UPDATE taskflow_migrations SET name = '0002_something_else' WHERE name LIKE '0002%'")

    with pytest.raises(MigrationFailed, match=r"migration 2 was applied as 0002_something_else"):
        migrate()


def test_a_history_without_checksums_gets_them_and_goes_on(
    database: tuple[Callable[[], list[str]], Execute],
) -> None:
    migrate, execute = database
    migrate()
    # As a release before checksums left the table.
    execute("ALTER TABLE taskflow_migrations DROP COLUMN checksum")

    assert migrate() == []
    execute("UPDATE taskflow_migrations SET checksum = checksum || 'x'")
    with pytest.raises(MigrationFailed, match="edited"):
        migrate()


def test_two_shipped_migrations_with_one_number_are_refused() -> None:
    shipped = [Shipped(1, "0001_a", "x"), Shipped(1, "0001_b", "y")]
    with pytest.raises(MigrationFailed, match="two migrations are numbered 1: 0001_a and 0001_b"):
        check_history(shipped, {})


def test_a_history_that_matches_passes() -> None:
    shipped = [Shipped(1, "0001_a", "x"), Shipped(2, "0002_b", "y")]
    check_history(shipped, {1: Recorded("0001_a", "x"), 2: Recorded("0002_b", None)})
