"""Webhooks and their deliveries on PostgreSQL: relays in many processes share the work.

Fanning out the feed locks a webhook's row (other relays skip it, and do another's); a
delivery is claimed with FOR UPDATE SKIP LOCKED and a lease, so two relays never take the
same one, and neither waits for the other.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from psycopg import Connection, sql

from taskflow_core.domain.model import FAILED, PENDING, Delivery, Position, Webhook

from .db import execute, execute_many, fetch_all, fetch_one, render
from .rows import delivery_from_row, json_param, webhook_from_row

_WEBHOOK = sql.SQL("url, events, secret, cursor_txid, cursor_id, target")
_REGISTER = render(
    sql.SQL(
        "INSERT INTO webhooks ({columns}) VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (url) DO UPDATE SET events = excluded.events, secret = excluded.secret,"
        " target = excluded.target"
    ).format(columns=_WEBHOOK)
)
_GET = render(sql.SQL("SELECT {columns} FROM webhooks WHERE url = %s").format(columns=_WEBHOOK))
_ALL = render(sql.SQL("SELECT {columns} FROM webhooks ORDER BY url").format(columns=_WEBHOOK))
_REMOVE = render(sql.SQL("DELETE FROM webhooks WHERE url = %s"))
_RENAME = render(sql.SQL("UPDATE webhooks SET url = %s WHERE url = %s"))
_RENAME_DELIVERIES = render(
    sql.SQL("UPDATE webhook_deliveries SET webhook_url = %s WHERE webhook_url = %s")
)
_CLAIM_ALL = render(
    sql.SQL("SELECT {columns} FROM webhooks ORDER BY url FOR UPDATE SKIP LOCKED").format(
        columns=_WEBHOOK
    )
)
_ADVANCE = render(sql.SQL("UPDATE webhooks SET cursor_txid = %s, cursor_id = %s WHERE url = %s"))

_DELIVERY = sql.SQL(
    "id, webhook_url, change_txid, change_id, case_id, event_name, status, attempts,"
    " created_at, next_attempt_at, claim, claimed_until, last_error"
)
# Due at once unless an earlier event of its case is pending for the webhook (one this
# batch inserted a moment ago included: each row is its own statement of the transaction).
_ENQUEUE = render(
    sql.SQL(
        """
    INSERT INTO webhook_deliveries ({columns})
    SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s,
        CASE WHEN EXISTS (
            SELECT 1 FROM webhook_deliveries
            WHERE webhook_url = %s AND case_id = %s AND status = 'pending'
        ) THEN NULL ELSE %s::timestamptz END,
        NULL, NULL, %s
    """
    ).format(columns=_DELIVERY)
)
_CLAIM_NEXT = render(
    sql.SQL(
        """
    UPDATE webhook_deliveries SET claim = %s, claimed_until = %s
    WHERE id = (
        SELECT id FROM webhook_deliveries
        WHERE status = 'pending' AND next_attempt_at <= %s
          AND (claimed_until IS NULL OR claimed_until <= %s)
          AND webhook_url <> ALL(%s)
        ORDER BY next_attempt_at
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING {columns}
    """
    ).format(columns=_DELIVERY)
)
# Taken before finishing a delivery: a relay fanning out holds the webhook's row for update
# while it decides which new deliveries wait, so finishing one (and making the next due)
# and queueing one behind it never run at once, each unaware of the other.
_HOLD_WEBHOOK = render(sql.SQL("SELECT 1 FROM webhooks WHERE url = %s FOR SHARE"))
_FINISH = render(
    sql.SQL(
        "UPDATE webhook_deliveries SET status = %s, attempts = %s, next_attempt_at = %s,"
        " last_error = %s, claim = NULL, claimed_until = NULL WHERE id = %s AND claim = %s"
    )
)
_MAKE_NEXT_DUE = render(
    sql.SQL(
        """
    UPDATE webhook_deliveries SET next_attempt_at = %s
    WHERE id = (
        SELECT id FROM webhook_deliveries
        WHERE webhook_url = %s AND case_id = %s AND status = 'pending'
        ORDER BY change_txid, change_id
        LIMIT 1
    )
    """
    )
)
_CANCEL_PENDING = render(
    sql.SQL(
        "UPDATE webhook_deliveries SET status = %s, last_error = %s, claim = NULL,"
        " claimed_until = NULL WHERE webhook_url = %s AND status = 'pending'"
    )
)
_FOR_CASE = render(
    sql.SQL(
        "SELECT {columns} FROM webhook_deliveries WHERE case_id = %s"
        " ORDER BY change_txid, change_id, webhook_url"
    ).format(columns=_DELIVERY)
)


_PRUNE_ENDED = render(
    sql.SQL(
        "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries"
        " WHERE status <> %s AND created_at < %s ORDER BY created_at LIMIT %s)"
    )
)


class PostgresWebhookRepository:
    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn

    def register(self, webhook: Webhook) -> None:
        cursor = webhook.cursor
        params = (
            webhook.url,
            json_param(list(webhook.events)),
            webhook.secret,
            None if cursor is None else cursor.tx,
            None if cursor is None else cursor.seq,
            webhook.target,
        )
        execute(self._conn, _REGISTER, params)

    def get(self, url: str) -> Webhook | None:
        row = fetch_one(self._conn, _GET, (url,))
        return None if row is None else webhook_from_row(row)

    def all(self) -> list[Webhook]:
        return [webhook_from_row(row) for row in fetch_all(self._conn, _ALL)]

    def remove(self, url: str) -> bool:
        return bool(execute(self._conn, _REMOVE, (url,)))

    def rename(self, url: str, new_url: str) -> None:
        execute(self._conn, _RENAME, (new_url, url))
        execute(self._conn, _RENAME_DELIVERIES, (new_url, url))

    def claim_all(self) -> list[Webhook]:
        return [webhook_from_row(row) for row in fetch_all(self._conn, _CLAIM_ALL)]

    def advance(self, url: str, cursor: Position) -> None:
        execute(self._conn, _ADVANCE, (cursor.tx, cursor.seq, url))


class PostgresDeliveryRepository:
    def __init__(self, conn: Connection[Any]) -> None:
        self._conn = conn

    def enqueue(self, deliveries: list[Delivery]) -> None:
        execute_many(
            self._conn,
            _ENQUEUE,
            [
                (
                    d.id,
                    d.webhook_url,
                    d.change.tx,
                    d.change.seq,
                    d.case_id,
                    d.event_name,
                    d.status,
                    d.attempts,
                    d.created_at,
                    d.webhook_url,
                    d.case_id,
                    d.next_attempt_at,
                    d.last_error,
                )
                for d in deliveries
            ],
        )

    def claim_next(
        self, now: datetime, claim: str, until: datetime, skip: Collection[str] = ()
    ) -> Delivery | None:
        row = fetch_one(self._conn, _CLAIM_NEXT, (claim, until, now, now, list(skip)))
        return None if row is None else delivery_from_row(row)

    def finish(self, delivery: Delivery, now: datetime) -> bool:
        fetch_one(self._conn, _HOLD_WEBHOOK, (delivery.webhook_url,))
        params = (
            delivery.status,
            delivery.attempts,
            delivery.next_attempt_at,
            delivery.last_error,
            delivery.id,
            delivery.claim,
        )
        if not execute(self._conn, _FINISH, params):
            return False
        if delivery.status != PENDING:
            execute(self._conn, _MAKE_NEXT_DUE, (now, delivery.webhook_url, delivery.case_id))
        return True

    def prune(self, before: datetime, limit: int) -> int:
        return execute(self._conn, _PRUNE_ENDED, (PENDING, before, limit))

    def cancel_pending(self, url: str, now: datetime, reason: str) -> int:
        return execute(self._conn, _CANCEL_PENDING, (FAILED, reason, url))

    def for_case(self, case_id: str) -> list[Delivery]:
        return [delivery_from_row(row) for row in fetch_all(self._conn, _FOR_CASE, (case_id,))]
