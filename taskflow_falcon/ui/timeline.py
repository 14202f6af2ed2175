"""The case's activity log as a person reads it: one line per event, comments set apart."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs


@attrs.frozen
class Entry:
    id: str
    at: str
    by: str | None
    is_comment: bool
    text: str
    edited: bool = False
    deleted: bool = False
    reason: str | None = None


def timeline(log: Iterable[dict[str, Any]]) -> list[Entry]:
    """The entries, in the log's order (newest first)."""
    return [_entry(entry) for entry in log]


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _entry(entry: dict[str, Any]) -> Entry:
    name = str(entry.get("eventName") or "")
    event = _mapping(entry.get("event"))
    meta = _mapping(event.get("meta"))
    entry_id = str(entry.get("id") or "")
    at = str(entry.get("createdAt") or "")
    by = entry.get("changedBy")
    by = by if isinstance(by, str) else None
    if name == "comment":
        original = event.get("comment")
        current = entry.get("comment")
        deleted = bool(entry.get("deleted"))
        return Entry(
            entry_id,
            at,
            by,
            is_comment=True,
            text="" if deleted else str(current if current is not None else original or ""),
            edited=not deleted and current is not None and current != original,
            deleted=deleted,
        )
    reason = meta.get("reason")
    return Entry(
        entry_id,
        at,
        by,
        is_comment=False,
        text=describe(name, meta),
        reason=reason if isinstance(reason, str) else None,
    )


def describe(name: str, meta: dict[str, Any]) -> str:
    parts = name.split(":")
    if name == "create":
        return "Case created"
    if name == "update":
        return "Data updated"
    if name == "assign":
        to = meta.get("assignedTo")
        return f"Assigned to {to}" if to else "Unassigned"
    if parts[0] == "status" and len(parts) == 3:
        return f"Status changed from {parts[1]} to {parts[2]}"
    if parts[0] == "deadline" and len(parts) == 3:
        return f"Deadline {parts[1]}: {parts[2]}"
    return name
