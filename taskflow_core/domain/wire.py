"""The wire form: camelCase dicts of cases and activity entries, comment edits folded, and
the JSON text every answer is sent as."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import attrs

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


@attrs.define
class CommentEdits:
    """What a log's edits and deletions do to its comments: each edited comment's latest
    text, and the deleted comments."""

    latest: dict[str, str | None] = attrs.field(factory=dict)
    deleted: set[str] = attrs.field(factory=set)

    def add(self, entries: Iterable[ActivityEntry]) -> None:
        """Take in ``entries``, newest first (so the first edit seen of a comment is its
        latest); entries that edit no comment are passed over."""
        for entry in entries:
            target = edited_comment_id(entry)
            if target is None:
                continue
            if entry.event_name == Event.UPDATE_COMMENT:
                self.latest.setdefault(target, entry.comment)
            elif entry.event_name == Event.DELETE_COMMENT:
                self.deleted.add(target)


def fold_comments(entries: list[ActivityEntry]) -> list[dict[str, Any]]:
    """Wire entries, newest first, with edits and deletions applied to the comments they name.

    ``entries`` must be newest first, so the first edit seen for a comment is its latest.
    """
    edits = CommentEdits()
    edits.add(entries)
    return folded(entries, edits)


def folded(entries: Iterable[ActivityEntry], edits: CommentEdits) -> list[dict[str, Any]]:
    """Wire entries of ``entries`` (a log or a page of it), with ``edits`` (of the whole
    log) applied to their comments, and the edits themselves left out."""
    wires = []
    for entry in entries:
        if entry.event_name in (Event.UPDATE_COMMENT, Event.DELETE_COMMENT):
            continue
        wire = entry_to_wire(entry)
        if entry.event_name == Event.COMMENT:
            if entry.id in edits.deleted:
                wire["comment"] = None
                wire["deleted"] = True
            elif entry.id in edits.latest:
                # The text of the latest edit; updatedAt stays the comment's, as the original.
                wire["comment"] = edits.latest[entry.id]
        wires.append(wire)
    return wires


def delivery_to_wire(delivery: Delivery) -> dict[str, Any]:
    return {
        # Its key: a URL's credentials hidden (domain/webhooks.py).
        "webhookUrl": shown_url(delivery.webhook_url),
        "eventName": delivery.event_name,
        "attempts": delivery.attempts,
        "status": delivery.status,
        "lastError": delivery.last_error,
    }
