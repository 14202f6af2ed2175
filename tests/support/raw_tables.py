"""What a dump of the database shows of webhooks: every row of ``webhooks`` and
``webhook_deliveries``, read past the store (SQL on the SQL stores; the in-memory store's
own state), so that a test can say a credential is nowhere in it."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import psycopg
import pytest

from taskflow_core.memory import MemoryStore
from taskflow_core.ports import Store
from taskflow_sqlite import SqliteStore

TABLES = ("webhooks", "webhook_deliveries")


def webhook_rows(store: Store, request: pytest.FixtureRequest) -> str:
    """Every row of the two tables as text; ``request`` gives the PostgreSQL store's URL."""
    if isinstance(store, MemoryStore):
        feed = store._state.feed
        return repr(feed.webhooks) + repr(feed.deliveries)
    if isinstance(store, SqliteStore):
        with closing(sqlite3.connect(store.path)) as conn:
            return repr([conn.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES])
    name = request.node.callspec.params["store"]  # postgres, or pgbouncer
    with psycopg.connect(request.getfixturevalue(f"{name}_dsn")) as conn:
        return repr([conn.execute(f"SELECT * FROM {t}").fetchall() for t in TABLES])
