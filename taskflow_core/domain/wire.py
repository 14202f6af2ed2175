"""The wire form: camelCase dicts of cases and activity entries, comment edits folded, and
the JSON text every answer is sent as."""

from __future__ import annotations

import json
from typing import Any

from .clock import timestamp
from .jsnumbers import as_javascript
from .json_values import json_default
from .model import ActivityEntry, Case, Delivery
from .names import Event
from .webhooks import shown_url

# allow_nan=False: NaN and Infinity are not JSON, and a client's parser would choke. Built
# once: json.dumps with options builds an encoder per call. check_circular=False because a
# cycle cannot come from JSON stores; a decorator's cycle still fails, as RecursionError.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, default=json_default, check_circular=False
)


def encode_json(value: Any) -> str:
    """An answer as JSON text, its numbers as JavaScript writes them (jsnumbers.py); raises
    TypeError or ValueError if it cannot be JSON."""
    return as_javascript(_ENCODER.encode(value))


def case_to_wire(case: Case, activity: list[ActivityEntry] | None = None) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "id": case.id,
        "status": case.status,
        "data": case.data,
        "assignedTo": case.assigned_to,
        "createdAt": timestamp(case.created_at),
        "updatedAt": timestamp(case.updated_at),
        "version": case.version,
    }
    if activity is not None:
        wire["activityLog"] = fold_comments(activity)
    return wire


def entry_to_wire(entry: ActivityEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "caseId": entry.case_id,
        "changedBy": entry.changed_by,
        "eventName": entry.event_name,
        "event": entry.event,
        "comment": entry.comment,
        "createdAt": timestamp(entry.created_at),
        "updatedAt": timestamp(entry.updated_at),
    }


def edited_comment_id(entry: ActivityEntry) -> str | None:
    """The comment an update-comment or delete-comment entry acts on."""
    meta = entry.event.get("meta")
    target = meta.get("id") if isinstance(meta, dict) else None
    return target if isinstance(target, str) else None


def fold_comments(entries: list[ActivityEntry]) -> list[dict[str, Any]]:
    """Wire entries, newest first, with edits and deletions applied to the comments they name.

    ``entries`` must be newest first, so the first edit seen for a comment is its latest.
    """
    latest_edit: dict[str, ActivityEntry] = {}
    deleted: set[str] = set()
    for entry in entries:
        target = edited_comment_id(entry)
        if target is None:
            continue
        if entry.event_name == Event.UPDATE_COMMENT:
            latest_edit.setdefault(target, entry)
        elif entry.event_name == Event.DELETE_COMMENT:
            deleted.add(target)

    folded = []
    for entry in entries:
        if entry.event_name in (Event.UPDATE_COMMENT, Event.DELETE_COMMENT):
            continue
        wire = entry_to_wire(entry)
        if entry.event_name == Event.COMMENT:
            if entry.id in deleted:
                wire["comment"] = None
                wire["deleted"] = True
            elif entry.id in latest_edit:
                # The text of the latest edit; updatedAt stays the comment's, as the original.
                wire["comment"] = latest_edit[entry.id].comment
        folded.append(wire)
    return folded


def delivery_to_wire(delivery: Delivery) -> dict[str, Any]:
    return {
        # Its key: a URL's credentials hidden (domain/webhooks.py).
        "webhookUrl": shown_url(delivery.webhook_url),
        "eventName": delivery.event_name,
        "attempts": delivery.attempts,
        "status": delivery.status,
        "lastError": delivery.last_error,
    }
