"""Webhooks and their deliveries over SQLite.

Every writing unit of work holds the database's write lock from its first statement
(BEGIN IMMEDIATE), so claiming needs no row locks: two relays take turns, and the second
sees what the first claimed.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import attrs

from taskflow_core.domain.model import FAILED, PENDING, Delivery, Position, Webhook

from .repositories import Execute
from .timestamps import parse_timestamp, timestamp

_WEBHOOK_COLUMNS = "url, events, secret, cursor_tx, cursor_seq, target"
_DELIVERY_COLUMNS = (
    "id, webhook_url, change_tx, change_seq, case_id, event_name, status, attempts,"
    " created_at, next_attempt_at, claim, claimed_until, last_error"
)


class SqliteWebhookRepository:
    def __init__(self, execute: Execute) -> None:
        self._execute = execute

    def register(self, webhook: Webhook) -> None:
        cursor = webhook.cursor
        self._execute(
            f"INSERT INTO webhooks ({_WEBHOOK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (url) DO UPDATE SET events = excluded.events,"
            " secret = excluded.secret, target = excluded.target",
            (
                webhook.url,
                json.dumps(list(webhook.events)),
                webhook.secret,
                None if cursor is None else cursor.tx,
                None if cursor is None else cursor.seq,
                webhook.target,
            ),
        )

    def get(self, url: str) -> Webhook | None:
        row = self._execute(
            f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks WHERE url = ?",
            (url,),
        ).fetchone()
        return None if row is None else _webhook_from_row(row)

    def all(self) -> list[Webhook]:
        # A unit of work of SQLite holds the file against other writers: none is locked.
        return self.claim_all()

    def remove(self, url: str) -> bool:
        return bool(self._execute("DELETE FROM webhooks WHERE url = ?", (url,)).rowcount)

    def rename(self, url: str, new_url: str) -> None:
        self._execute("UPDATE webhooks SET url = ? WHERE url = ?", (new_url, url))
        self._execute(
            "UPDATE webhook_deliveries SET webhook_url = ? WHERE webhook_url = ?", (new_url, url)
        )

    def claim_all(self) -> list[Webhook]:
        rows = self._execute(f"SELECT {_WEBHOOK_COLUMNS} FROM webhooks ORDER BY url", ()).fetchall()
        return [_webhook_from_row(row) for row in rows]

    def advance(self, url: str, cursor: Position) -> None:
        self._execute(
            "UPDATE webhooks SET cursor_tx = ?, cursor_seq = ? WHERE url = ?",
            (cursor.tx, cursor.seq, url),
        )


class SqliteDeliveryRepository:
    def __init__(self, execute: Execute) -> None:
        self._execute = execute

    def enqueue(self, deliveries: list[Delivery]) -> None:
        for d in deliveries:
            due = None if d.next_attempt_at is None else timestamp(d.next_attempt_at)
            # Due only if no earlier event of its case is pending for the webhook: one
            # written by this loop a moment ago included.
            self._execute(
                f"INSERT INTO webhook_deliveries ({_DELIVERY_COLUMNS})"
                " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " CASE WHEN EXISTS (SELECT 1 FROM webhook_deliveries"
                "  WHERE webhook_url = ? AND case_id = ? AND status = ?) THEN NULL ELSE ? END,"
                " NULL, NULL, ?",
                (
                    d.id,
                    d.webhook_url,
                    d.change.tx,
                    d.change.seq,
                    d.case_id,
                    d.event_name,
                    d.status,
                    d.attempts,
                    timestamp(d.created_at),
                    d.webhook_url,
                    d.case_id,
                    PENDING,
                    due,
                    d.last_error,
                ),
            )

    def claim_next(
        self, now: datetime, claim: str, until: datetime, skip: Collection[str] = ()
    ) -> Delivery | None:
        at = timestamp(now)
        skipped = list(skip)
        row = self._execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries"
            " WHERE status = ? AND next_attempt_at <= ?"
            " AND (claimed_until IS NULL OR claimed_until <= ?)"
            f" AND webhook_url NOT IN ({', '.join('?' * len(skipped))})"
            " ORDER BY next_attempt_at, change_tx, change_seq LIMIT 1",
            (PENDING, at, at, *skipped),
        ).fetchone()
        if row is None:
            return None
        found = _delivery_from_row(row)
        self._execute(
            "UPDATE webhook_deliveries SET claim = ?, claimed_until = ? WHERE id = ?",
            (claim, timestamp(until), found.id),
        )
        return attrs.evolve(found, claim=claim, claimed_until=until)

    def finish(self, delivery: Delivery, now: datetime) -> bool:
        due = delivery.next_attempt_at
        finished = self._execute(
            "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,"
            " last_error = ?, claim = NULL, claimed_until = NULL WHERE id = ? AND claim = ?",
            (
                delivery.status,
                delivery.attempts,
                None if due is None else timestamp(due),
                delivery.last_error,
                delivery.id,
                delivery.claim,
            ),
        ).rowcount
        if finished and delivery.status != PENDING:
            self._execute(
                "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ("
                " SELECT id FROM webhook_deliveries"
                " WHERE webhook_url = ? AND case_id = ? AND status = ?"
                " ORDER BY change_tx, change_seq LIMIT 1)",
                (timestamp(now), delivery.webhook_url, delivery.case_id, PENDING),
            )
        return bool(finished)

    def prune(self, before: datetime, limit: int) -> int:
        return int(
            self._execute(
                "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries"
                " WHERE status <> ? AND created_at < ? ORDER BY created_at LIMIT ?)",
                (PENDING, timestamp(before), limit),
            ).rowcount
        )

    def cancel_pending(self, url: str, now: datetime, reason: str) -> int:
        return int(
            self._execute(
                "UPDATE webhook_deliveries SET status = ?, last_error = ?, claim = NULL,"
                " claimed_until = NULL WHERE webhook_url = ? AND status = ?",
                (FAILED, reason, url, PENDING),
            ).rowcount
        )

    def for_case(self, case_id: str) -> list[Delivery]:
        rows = self._execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries WHERE case_id = ?"
            " ORDER BY change_tx, change_seq, webhook_url",
            (case_id,),
        ).fetchall()
        return [_delivery_from_row(row) for row in rows]


def _webhook_from_row(row: Sequence[Any]) -> Webhook:
    url, events, secret, cursor_tx, cursor_seq, target = row
    return Webhook(
        url=url,
        events=tuple(json.loads(events)),
        secret=secret,
        cursor=None if cursor_tx is None else Position(cursor_tx, cursor_seq),
        target=target,
    )


def _delivery_from_row(row: Sequence[Any]) -> Delivery:
    (
        id_,
        webhook_url,
        change_tx,
        change_seq,
        case_id,
        event_name,
        status,
        attempts,
        created_at,
        next_attempt_at,
        claim,
        claimed_until,
        last_error,
    ) = row
    return Delivery(
        id=id_,
        webhook_url=webhook_url,
        change=Position(change_tx, change_seq),
        case_id=case_id,
        event_name=event_name,
        status=status,
        attempts=attempts,
        created_at=parse_timestamp(created_at),
        next_attempt_at=None if next_attempt_at is None else parse_timestamp(next_attempt_at),
        claim=claim,
        claimed_until=None if claimed_until is None else parse_timestamp(claimed_until),
        last_error=last_error,
    )
