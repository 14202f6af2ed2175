"""The idempotency repository over SQLite: requests made under idempotency keys, and their
answers. Every writing unit of work holds the database's write lock from its start (BEGIN
IMMEDIATE), so a claim never meets another request's claim still running."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from taskflow_core.application.idempotency import PURGE_BATCH
from taskflow_core.domain.model import IdempotencyRecord

from .repositories import Execute
from .timestamps import parse_timestamp, timestamp

_COLUMNS = "scope, key, fingerprint, status, body, version, created_at, expires_at"


class SqliteIdempotencyRepository:
    def __init__(self, execute: Execute) -> None:
        self._execute = execute

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        # An expired row is taken over as if it were not there; a live one is left alone,
        # and then no row changes.
        claimed = self._execute(
            f"INSERT INTO idempotency_keys ({_COLUMNS}) VALUES (?, ?, ?, NULL, NULL, NULL, ?, ?)"
            " ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint,"
            " status = NULL, body = NULL, version = NULL, created_at = excluded.created_at,"
            " expires_at = excluded.expires_at"
            " WHERE idempotency_keys.expires_at <= excluded.created_at",
            (
                record.scope,
                record.key,
                record.fingerprint,
                timestamp(record.created_at),
                timestamp(record.expires_at),
            ),
        ).rowcount
        if claimed:
            return None
        return self.get(record.scope, record.key)

    def complete(self, record: IdempotencyRecord) -> None:
        self._execute(
            "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys"
            " WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
            (timestamp(record.created_at), PURGE_BATCH),
        )
        updated = self._execute(
            "UPDATE idempotency_keys SET status = ?, body = ?, version = ?"
            " WHERE scope = ? AND key = ?",
            (record.status, record.body, record.version, record.scope, record.key),
        ).rowcount
        if updated != 1:
            raise RuntimeError("completing an idempotency key this request did not claim")

    def prune(self, now: datetime, limit: int) -> int:
        return int(
            self._execute(
                "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys"
                " WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)",
                (timestamp(now), limit),
            ).rowcount
        )

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        row = self._execute(
            f"SELECT {_COLUMNS} FROM idempotency_keys WHERE scope = ? AND key = ?", (scope, key)
        ).fetchone()
        return None if row is None else _record_from_row(row)


def _record_from_row(row: Sequence[Any]) -> IdempotencyRecord:
    scope, key, fingerprint, status, body, version, created_at, expires_at = row
    return IdempotencyRecord(
        scope=scope,
        key=key,
        fingerprint=fingerprint,
        created_at=parse_timestamp(created_at),
        expires_at=parse_timestamp(expires_at),
        status=status,
        body=None if body is None else bytes(body),
        version=version,
    )
