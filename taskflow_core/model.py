"""The domain objects: a case and an activity-log entry, immutable, plus id and status rules."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import attrs

from .errors import InvalidRequest, NotFound

STATUS_RE = re.compile(r"^[a-z-]+$")
NEW_STATUS = "new"
# The original's columns are varchar(255), and the event name `status:<old>:<new>` must fit
# in one too: two statuses of at most 120 characters do.
MAX_STATUS_LENGTH = 120
MAX_ASSIGNEE_LENGTH = 255
# What no store can keep in text: NUL (PostgreSQL refuses it) and unpaired surrogates (not
# encodable as UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _aware(_: Any, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    # Naive datetimes would compare and serialise inconsistently between stores.
    if value.tzinfo is None:
        raise ValueError(f"{attribute.name} must be timezone-aware")


def _is_object(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, dict):
        raise ValueError(f"{attribute.name} must be a JSON object")


@attrs.frozen
class Case:
    id: str
    status: str
    data: dict[str, Any] = attrs.field(validator=_is_object)
    assigned_to: str | None
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)


@attrs.frozen
class ActivityEntry:
    id: str
    case_id: str
    changed_by: str | None
    event_name: str
    event: dict[str, Any]
    comment: str | None
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)


def new_id() -> str:
    return str(uuid.uuid4())


def canonical_id(value: object, what: str = "Case") -> str:
    """The canonical text of a UUID; anything else is an id that cannot exist, so NotFound."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise NotFound(f"{what} not found")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise NotFound(f"{what} not found") from None


def check_status(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest("status is required", {"status": "required"})
    if len(value) > MAX_STATUS_LENGTH:
        raise InvalidRequest(
            f"status must be at most {MAX_STATUS_LENGTH} characters", {"status": "too long"}
        )
    if not STATUS_RE.match(value):
        raise InvalidRequest(
            "status must contain only lowercase letters and hyphens",
            {"status": "invalid"},
        )
    return value


def check_data(value: object, field: str = "data") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{field} must be a JSON object", {field: "invalid"})
    check_storable(value, field)
    return value


def check_comment(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("comment must be a non-empty string", {"comment": "required"})
    check_storable(value, "comment")
    return value


def check_assignee(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest("profileId must be a string or null", {"profileId": "invalid"})
    if len(value) > MAX_ASSIGNEE_LENGTH:
        raise InvalidRequest(
            f"profileId must be at most {MAX_ASSIGNEE_LENGTH} characters",
            {"profileId": "too long"},
        )
    check_storable(value, "profileId")
    return value


def check_storable(value: object, field: str) -> None:
    """Refuse what a store could not keep: NUL or unpaired surrogates in any string (keys
    included), and numbers JSON cannot hold (NaN, infinities). Every store refuses them alike,
    as bad input, instead of one store failing on them with an internal error."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise InvalidRequest(
                f"{field} must not contain NUL characters or unpaired surrogates",
                {field: "invalid"},
            )
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidRequest(f"{field} must not contain NaN or Infinity", {field: "invalid"})
    elif isinstance(value, dict):
        for key, item in value.items():
            check_storable(key, field)
            check_storable(item, field)
    elif isinstance(value, list | tuple):
        for item in value:
            check_storable(item, field)
