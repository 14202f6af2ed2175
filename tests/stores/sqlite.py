"""The SQLite store fixture: a fresh, migrated store on a file of its own."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from taskflow_sqlite import SqliteStore


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "taskflow.db")
    store.migrate()
    yield store
    store.close()
