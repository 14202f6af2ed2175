"""JSON helpers shared by the service and the stores: deep merge, containment, normalising."""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Nested objects merge key by key; arrays and scalars in ``changes`` replace."""
    merged = dict(base)
    for key, value in changes.items():
        current = merged.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def json_contains(document: Any, pattern: Any) -> bool:
    """PostgreSQL's ``jsonb @> jsonb`` for values nested inside an object.

    Objects contain objects key by key; an array contains an array when every element of the
    pattern is contained in some element of the document; scalars must be equal and of the
    same JSON type (``"1"`` is not ``1``, ``true`` is not ``1``).
    """
    if isinstance(pattern, dict):
        return isinstance(document, dict) and all(
            key in document and json_contains(document[key], value)
            for key, value in pattern.items()
        )
    if isinstance(pattern, list):
        return isinstance(document, list) and all(
            any(json_contains(item, wanted) for item in document) for wanted in pattern
        )
    return _json_type(document) == _json_type(pattern) and document == pattern


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def json_default(value: Any) -> Any:
    """How JSON answers render what hosts' decorators commonly add: dates and times in ISO
    form and UUIDs as text, as JavaScript's JSON.stringify would; anything else is an error."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def check_encodable(value: Any) -> None:
    """Raise TypeError or ValueError unless ``value`` can be sent as a JSON answer."""
    json.dumps(value, ensure_ascii=False, allow_nan=False, default=json_default).encode()


def to_json(value: Any) -> Any:
    """A JSON-safe copy: whatever JSON cannot hold becomes its string form (as a hook's
    ``meta.user`` is logged)."""
    return json.loads(json.dumps(value, default=str))
