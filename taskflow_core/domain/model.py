"""The domain objects: cases, activity entries, timers, the change feed and webhook deliveries;
immutable and keyword-built."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import attrs

NEW_STATUS = "new"


def _aware(_: Any, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    # Naive datetimes would compare and serialise inconsistently between stores.
    if value.tzinfo is None:
        raise ValueError(f"{attribute.name} must be timezone-aware")


def _is_object(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, dict):
        raise ValueError(f"{attribute.name} must be a JSON object")


@attrs.frozen(kw_only=True)
class Case:
    id: str
    status: str
    data: dict[str, Any] = attrs.field(validator=_is_object)
    assigned_to: str | None
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)
    # 1 when created; one higher after every request that changes the case or adds to its
    # log, so a client can tell whether what it read is still current (an ETag).
    version: int = 1


@attrs.frozen(kw_only=True)
class ActivityEntry:
    id: str
    case_id: str
    changed_by: str | None
    event_name: str
    event: dict[str, Any]
    comment: str | None
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class Timer:
    """A deadline on a case: at ``due`` the event ``timer:<name>`` fires (once).

    ``fire_at`` is when a sweep next tries it: ``due`` at first, later after a failed attempt
    (``attempts`` counts those, ``last_error`` says what the last one raised).
    """

    case_id: str
    name: str
    due: datetime = attrs.field(validator=_aware)
    fire_at: datetime = attrs.field(validator=_aware)
    attempts: int = 0
    last_error: str | None = None


def _aware_or_none(_: Any, attribute: attrs.Attribute[datetime | None], value: Any) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{attribute.name} must be timezone-aware")


@attrs.frozen(kw_only=True)
class DeadlineState:
    """Where a case's deadline stands (SPEC §14): one per (case, deadline name).

    ``due`` is kept through a pause and a removal (what a reinstate goes back to); ``remaining``
    is what a pause keeps (business days, or seconds, to count from the resume; None when
    it was overdue already); ``prior`` is the state a removal ended.
    """

    case_id: str
    name: str
    state: str
    due: datetime | None = attrs.field(default=None, validator=_aware_or_none)
    started_at: datetime | None = attrs.field(default=None, validator=_aware_or_none)
    remaining: float | None = None
    prior: str | None = None


@attrs.frozen(kw_only=True)
class IdempotencyRecord:
    """A request made under an idempotency key, and its answer once it has succeeded.

    ``scope`` is whose key it is (one actor, or every anonymous caller); ``fingerprint``
    identifies the request, so that the key sent again with another request is refused.
    ``status``, ``body`` and ``version`` are None while the request that claimed the key runs.
    """

    scope: str
    key: str
    fingerprint: str
    created_at: datetime = attrs.field(validator=_aware)
    expires_at: datetime = attrs.field(validator=_aware)
    status: int | None = None
    body: bytes | None = None
    version: int | None = None

    @property
    def answered(self) -> bool:
        return self.status is not None and self.body is not None


@attrs.frozen(order=True)
class Position:
    """Where a change sits in the feed; changes are read in ``(tx, seq)`` order.

    What the numbers mean is the store's business (a plain sequence in ``seq``, ``tx`` 0, on
    every store; PostgreSQL still reads cursors of its earlier design, a transaction id and
    a row id); readers only compare and hand them back.
    """

    tx: int
    seq: int


@attrs.frozen(kw_only=True)
class Change:
    """One item of the change feed: an activity entry that committed, and where it sits."""

    position: Position
    entry: ActivityEntry


@attrs.frozen(kw_only=True)
class Webhook:
    """A subscription, identified by its URL: every process registering the URL shares it.

    ``cursor`` is how far the feed has been turned into deliveries for it (None: from the
    start of the feed). As stored, ``url`` is the subscription's key and ``target`` the URL
    messages go to when the key is not it: a URL with credentials (user, password, query) is
    keyed without them (``domain/webhooks.py``, ``subscription_key``) and kept whole, sealed,
    in ``target`` (``application/sealing.py``).
    """

    url: str
    events: tuple[str, ...]
    secret: str | None = None
    cursor: Position | None = None
    target: str | None = None


PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
DELIVERY_STATUSES = (PENDING, DELIVERED, FAILED)


@attrs.frozen(kw_only=True)
class Delivery:
    """One event on its way to one webhook.

    ``next_attempt_at`` is None while an earlier event of the same case is still pending for
    the same webhook: a receiver gets a case's events in order. A relay sending it holds
    ``claim`` (a token of its own) until ``claimed_until``; past that, another relay may.
    """

    id: str
    webhook_url: str
    change: Position
    case_id: str
    event_name: str
    status: str = attrs.field(default=PENDING, validator=attrs.validators.in_(DELIVERY_STATUSES))
    attempts: int = 0
    created_at: datetime = attrs.field(validator=_aware)
    next_attempt_at: datetime | None = None
    claim: str | None = None
    claimed_until: datetime | None = None
    last_error: str | None = None


# The stored fields, in declaration order: stores name their columns after them.
CASE_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(Case))
ENTRY_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(ActivityEntry))
TIMER_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(Timer))
DEADLINE_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(DeadlineState))


def new_id() -> str:
    return str(uuid.uuid4())
