"""The record step: what an event leaves in the activity log (and, from there, in feeds).

An entry holds the event as it stood when recorded: its name and meta, the case's state after
the change, the actor, and one request id shared by every entry of the request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .json_values import to_json
from .model import ActivityEntry, Case, new_id
from .redaction import Redactor

# The parts of an event's meta that come from the request rather than from the case.
_FROM_THE_REQUEST = ("user", "payload")


def entry_comment(meta: dict[str, Any]) -> Any:
    """``meta.comment``, else the request body's ``meta.comment``, as the original logs it."""
    comment = meta.get("comment")
    if comment is None:
        payload = meta.get("payload")
        nested = payload.get("meta") if isinstance(payload, dict) else None
        comment = nested.get("comment") if isinstance(nested, dict) else None
    return comment


def activity_entry(
    case: Case,
    event_name: str,
    meta: dict[str, Any],
    *,
    actor: str | None,
    request_id: str,
    at: datetime,
    redact: Redactor,
) -> ActivityEntry:
    logged_meta = to_json(meta)
    # Credentials a host's user object or a client's body carries are not the log's to keep.
    for key in _FROM_THE_REQUEST:
        if key in logged_meta:
            logged_meta[key] = redact(logged_meta[key])
    comment = entry_comment(logged_meta)
    logged = {
        "id": case.id,
        "event": str(event_name),  # a plain str, as JSON would give it back: never the enum
        "meta": logged_meta,
        "status": case.status,
        "data": case.data,
        "assignedTo": case.assigned_to,
        "req": request_id,
    }
    if comment is not None:
        # As the original: the key is there only when there is a comment.
        logged["comment"] = comment
    return ActivityEntry(
        id=new_id(),
        case_id=case.id,
        changed_by=actor,
        event_name=str(event_name),
        event=logged,
        comment=comment if isinstance(comment, str) or comment is None else str(comment),
        created_at=at,
        updated_at=at,
    )
