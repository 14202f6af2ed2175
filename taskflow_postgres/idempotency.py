"""The idempotency repository: requests made under idempotency keys, and their answers.

Two requests with one key are kept apart by the database, not by a lock in this process, so
that it holds across processes and machines: the claim is an INSERT, and a second INSERT of
the same key waits on the primary key until the first transaction ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from psycopg import Connection

from taskflow_core.application.idempotency import PURGE_BATCH
from taskflow_core.domain.model import IdempotencyRecord

from .db import execute, fetch_one
from .rows import utc

_COLUMNS = "scope, key, fingerprint, status, body, version, created_at, expires_at"

# An expired row is taken over as if it were not there; a live one is left as it is (the
# WHERE fails) and returns nothing, and is then locked by this transaction all the same,
# so that no purge deletes it before it is read.
_CLAIM = f"""
    INSERT INTO idempotency_keys ({_COLUMNS})
    VALUES (%s, %s, %s, NULL, NULL, NULL, %s, %s)
    ON CONFLICT (scope, key) DO UPDATE SET
        fingerprint = excluded.fingerprint,
        status = NULL,
        body = NULL,
        version = NULL,
        created_at = excluded.created_at,
        expires_at = excluded.expires_at
    WHERE idempotency_keys.expires_at <= excluded.created_at
    RETURNING true AS claimed
""".encode()

_GET = f"SELECT {_COLUMNS} FROM idempotency_keys WHERE scope = %s AND key = %s".encode()

# The answer, and the purge folded into the same statement, so that it costs no round trip.
# SKIP LOCKED: a row another request is taking over is its business, not worth a wait.
_COMPLETE = f"""
    WITH expired AS (
        DELETE FROM idempotency_keys
        WHERE (scope, key) IN (
            SELECT scope, key FROM idempotency_keys
            WHERE expires_at <= %s
            ORDER BY expires_at
            LIMIT {PURGE_BATCH:d}
            FOR UPDATE SKIP LOCKED
        )
    )
    UPDATE idempotency_keys SET status = %s, body = %s, version = %s
    WHERE scope = %s AND key = %s
""".encode()


_PRUNE = (
    b"DELETE FROM idempotency_keys WHERE (scope, key) IN (SELECT scope, key"
    b" FROM idempotency_keys WHERE expires_at <= %s ORDER BY expires_at LIMIT %s)"
)


class PostgresIdempotencyRepository:
    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        params = (
            record.scope,
            record.key,
            record.fingerprint,
            record.created_at,
            record.expires_at,
        )
        if fetch_one(self._conn, _CLAIM, params) is not None:
            return None
        # A new statement, so a new snapshot in READ COMMITTED: it sees the row of the
        # transaction the claim waited for, which the claim's own snapshot could not.
        stored = self.get(record.scope, record.key)
        if stored is None:
            raise RuntimeError("an idempotency key claimed by another request vanished")
        return stored

    def complete(self, record: IdempotencyRecord) -> None:
        params = (
            record.created_at,
            record.status,
            record.body,
            record.version,
            record.scope,
            record.key,
        )
        if execute(self._conn, _COMPLETE, params) != 1:
            raise RuntimeError("completing an idempotency key this request did not claim")

    def prune(self, now: datetime, limit: int) -> int:
        return execute(self._conn, _PRUNE, (now, limit))

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        # Binary: a stored answer of many MB comes as its bytes, which a replay sends as
        # they are, not as hex text twice their size (tests/e2e/test_big_replays.py).
        row = fetch_one(self._conn, _GET, (scope, key), binary=True)
        return None if row is None else _record_from_row(row)


def _record_from_row(row: Mapping[str, Any]) -> IdempotencyRecord:
    body = row["body"]
    return IdempotencyRecord(
        scope=row["scope"],
        key=row["key"],
        fingerprint=row["fingerprint"],
        created_at=utc(row["created_at"]),
        expires_at=utc(row["expires_at"]),
        status=row["status"],
        body=None if body is None else bytes(body),
        version=row["version"],
    )
