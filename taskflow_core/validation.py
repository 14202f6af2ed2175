"""Checking what callers pass in: ids, statuses, data, comments, assignees.

Each check names the argument as the caller passed it (``field``), so a Python caller reads
``assigned_to`` where an HTTP client reads ``profileId``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from .errors import InvalidRequest, NotFound

STATUS_RE = re.compile(r"[a-z-]+")
# The original's columns are varchar(255), and the event name `status:<old>:<new>` must fit
# in one too: two statuses of at most 120 characters do.
MAX_STATUS_LENGTH = 120
MAX_ASSIGNEE_LENGTH = 255
# What no store can keep in text: NUL (PostgreSQL refuses it) and unpaired surrogates (not
# encodable as UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


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


def is_status(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_STATUS_LENGTH
        and STATUS_RE.fullmatch(value) is not None
    )


def check_status(value: object, field: str = "status") -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{field} is required", {field: "required"})
    if len(value) > MAX_STATUS_LENGTH:
        raise InvalidRequest(
            f"{field} must be at most {MAX_STATUS_LENGTH} characters", {field: "too long"}
        )
    if not STATUS_RE.fullmatch(value):
        raise InvalidRequest(
            f"{field} must contain only lowercase letters and hyphens", {field: "invalid"}
        )
    return value


def check_data(value: object, field: str = "data") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{field} must be a JSON object", {field: "invalid"})
    check_storable(value, field)
    return value


def check_comment(value: object, field: str = "comment") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{field} must be a non-empty string", {field: "required"})
    check_storable(value, field)
    return value


def check_assignee(value: object, field: str = "assigned_to") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{field} must be a string or null", {field: "invalid"})
    if len(value) > MAX_ASSIGNEE_LENGTH:
        raise InvalidRequest(
            f"{field} must be at most {MAX_ASSIGNEE_LENGTH} characters", {field: "too long"}
        )
    check_storable(value, field)
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
