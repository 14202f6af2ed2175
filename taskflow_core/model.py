"""The domain objects: a case and an activity-log entry, immutable and keyword-built."""

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


# The stored fields, in declaration order: stores name their columns after them.
CASE_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(Case))
ENTRY_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(ActivityEntry))
TIMER_FIELDS: tuple[str, ...] = tuple(field.name for field in attrs.fields(Timer))


def new_id() -> str:
    return str(uuid.uuid4())
