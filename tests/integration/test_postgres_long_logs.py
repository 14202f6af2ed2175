"""A long log's answer on PostgreSQL when its read fails after the first bytes: the answer is
cut short (never completed with a wrong end), the failure is logged, and the connection goes
back to the pool for the next request (taskflow_core/application/case_body.py)."""

from __future__ import annotations

import secrets

import psycopg
import pytest

from taskflow_core import Taskflow
from taskflow_core.errors import StoreError
from taskflow_postgres import PostgresStore


def test_a_read_lost_mid_answer_cuts_it_short_and_the_store_serves_on(
    postgres_store: PostgresStore, postgres_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    flow = Taskflow(postgres_store)
    case = flow.create({})
    for _ in range(40):
        # Random text: PostgreSQL would compress a repeated one, and the pages with it.
        flow.comment(case["id"], secrets.token_hex(1000), user={"profile": {"id": "a"}})
    body = flow.read_body(case["id"], budget=3000)
    assert body.whole is None
    chunks = iter(body)
    sent = next(chunks)

    # The server ends the session holding the answer's snapshot, as a restart or a network
    # failure would.
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_xid IS NULL AND state = 'idle in transaction'"
        ).fetchall()
    assert ended == [(True,)]
    rest: list[bytes] = []
    with pytest.raises(StoreError):
        rest.extend(chunks)
    sent += b"".join(rest)

    assert not sent.endswith(b"}}")
    assert "a case's answer failed after it began to be sent" in caplog.text
    # The pool replaces the lost connection: reads and writes go on.
    assert flow.comment(case["id"], "after", user={"profile": {"id": "a"}})["version"] == 42
    assert len(flow.get(case["id"])["activityLog"]) == 42
