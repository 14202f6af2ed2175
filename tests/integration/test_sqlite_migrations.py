"""SqliteStore's schema: versioned migrations, applied once, on first use or by migrate()."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from taskflow_core import Taskflow
from taskflow_core.errors import MigrationFailed
from taskflow_sqlite import SqliteStore, migrations


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "taskflow.db"


@pytest.fixture
def store(db: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(db)
    yield store
    store.close()


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def columns(db: Path, table: str) -> list[str]:
    return [str(row[1]) for row in query(db, f"PRAGMA table_info({table})")]


class TestMigrate:
    def test_first_migrate_applies_every_migration_and_records_it(
        self, store: SqliteStore, db: Path
    ) -> None:
        shipped = [name for name, _ in migrations.available()]
        assert store.migrate() == shipped
        assert [row[0] for row in query(db, "SELECT name FROM taskflow_migrations")] == shipped

    def test_migrate_again_applies_nothing(self, store: SqliteStore, db: Path) -> None:
        store.migrate()
        assert store.migrate() == []
        with closing(SqliteStore(db)) as other:
            assert other.migrate() == []
        assert len(query(db, "SELECT name FROM taskflow_migrations")) == len(migrations.available())

    def test_tables_have_the_postgres_stores_columns(self, store: SqliteStore, db: Path) -> None:
        store.migrate()
        assert columns(db, "cases") == [
            "id",
            "status",
            "data",
            "created_at",
            "updated_at",
            "assigned_to",
        ]
        assert columns(db, "activity_log") == [
            "id",
            "case_id",
            "changed_by",
            "event_name",
            "event",
            "comment",
            "created_at",
            "updated_at",
        ]

    def test_listing_and_activity_indexes_exist(self, store: SqliteStore, db: Path) -> None:
        store.migrate()
        indexed = {
            (str(table), str(column))
            for (table,) in query(db, "SELECT name FROM sqlite_master WHERE type = 'table'")
            for (index,) in query(db, f"SELECT name FROM pragma_index_list('{table}')")
            for (column,) in query(db, f"SELECT name FROM pragma_index_info('{index}')")
        }
        assert {
            ("cases", "status"),
            ("cases", "assigned_to"),
            ("cases", "created_at"),
            ("activity_log", "case_id"),
        } <= indexed

    def test_database_is_in_wal_mode(self, store: SqliteStore, db: Path) -> None:
        store.migrate()
        assert query(db, "PRAGMA journal_mode") == [("wal",)]

    def test_failing_migration_leaves_no_trace(
        self, store: SqliteStore, db: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store.migrate()
        shipped = migrations.available()
        broken = ("0002_broken", "CREATE TABLE half_done (x TEXT);\nSELECT * FROM nowhere;\n")
        monkeypatch.setattr(migrations, "available", lambda: [*shipped, broken])

        with pytest.raises(MigrationFailed, match="nowhere"):
            store.migrate()

        assert query(db, "SELECT name FROM sqlite_master WHERE name = 'half_done'") == []
        assert [row[0] for row in query(db, "SELECT name FROM taskflow_migrations")] == [
            name for name, _ in shipped
        ]


class TestFirstUse:
    def test_a_new_file_is_migrated_on_first_use(self, store: SqliteStore, db: Path) -> None:
        case = Taskflow(store).create({"hello": "world"})
        assert Taskflow(store).get(case["id"])["data"] == {"hello": "world"}
        assert store.migrate() == []

    def test_constructing_a_store_creates_no_file(self, store: SqliteStore, db: Path) -> None:
        assert not db.exists()


class TestStatements:
    def test_semicolons_inside_strings_do_not_split_a_statement(self) -> None:
        script = "-- a comment; with a semicolon\nINSERT INTO t VALUES ('a;b');\nSELECT 1;\n"
        assert migrations._statements(script) == [
            "-- a comment; with a semicolon\nINSERT INTO t VALUES ('a;b');",
            "SELECT 1;",
        ]

    def test_an_unterminated_statement_is_refused(self) -> None:
        with pytest.raises(ValueError, match="incomplete"):
            migrations._statements("SELECT 1;\nSELECT 2\n")
