"""A SQLite file another writer holds locked past the busy timeout: the HTTP API answers 503."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import falcon.testing
import pytest

from taskflow_core import Taskflow
from taskflow_falcon import create_app
from taskflow_sqlite import SqliteStore

BUSY_TIMEOUT = 0.2


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "busy.db"


@pytest.fixture
def client(path: Path) -> Iterator[falcon.testing.TestClient]:
    store = SqliteStore(path, busy_timeout=BUSY_TIMEOUT)
    store.migrate()
    yield falcon.testing.TestClient(create_app(Taskflow(store)))
    store.close()


@pytest.fixture
def locked(path: Path, client: falcon.testing.TestClient) -> Iterator[sqlite3.Connection]:
    """Another process's writer, in the middle of a long transaction."""
    with closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        yield holder
        if holder.in_transaction:
            holder.execute("ROLLBACK")


class TestALockHeldPastTheBusyTimeout:
    def test_a_write_answers_503_with_retry_after_once_the_busy_timeout_passes(
        self, client: falcon.testing.TestClient, locked: sqlite3.Connection
    ) -> None:
        started = time.monotonic()
        result = client.simulate_post("/", json={"a": 1})
        waited = time.monotonic() - started

        assert result.status_code == 503, result.text
        assert int(result.headers["Retry-After"]) > 0
        assert set(result.json) == {"message"}
        assert "locked" not in result.json["message"]
        assert BUSY_TIMEOUT <= waited < 5

    def test_reads_go_on_while_another_writer_holds_the_lock(
        self, client: falcon.testing.TestClient, locked: sqlite3.Connection
    ) -> None:
        result = client.simulate_get("/")
        assert result.status_code == 200, result.text

    def test_the_write_succeeds_once_the_lock_is_released(
        self, client: falcon.testing.TestClient, locked: sqlite3.Connection
    ) -> None:
        assert client.simulate_post("/", json={"a": 1}).status_code == 503
        locked.execute("ROLLBACK")

        assert client.simulate_post("/", json={"a": 1}).status_code == 200
        assert client.simulate_get("/").json["meta"] == {"count": 1}
