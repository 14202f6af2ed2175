"""The OpenAPI document's schemas (``components.schemas``): the shapes of a case, an activity
entry, a listing, the feed's page and the rest, as the answers carry them."""

from __future__ import annotations

from .openapi_parts import Schema, ref


def schemas() -> dict[str, Schema]:
    text_or_null = {"type": ["string", "null"]}
    return {
        "Error": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}, "errors": {"type": "object"}},
            "additionalProperties": False,
        },
        # Named, not inline: code generators make one model of each inline object, and would
        # make two of this one (Case's and CaseWithLog's).
        "CaseData": {
            "type": "object",
            "description": "The case's data: any JSON object the host's hooks accept",
            "additionalProperties": True,
        },
        "MergePatch": {
            "type": "object",
            "description": "A JSON Merge Patch (RFC 7396): null removes a key",
            "additionalProperties": True,
        },
        "Case": {
            "type": "object",
            "required": ["id", "status", "data", "assignedTo", "createdAt", "updatedAt"],
            "properties": {
                "id": {"type": "string"},
                "status": {"type": "string"},
                "data": ref("CaseData"),
                "assignedTo": text_or_null,
                "createdAt": {"type": "string"},
                "updatedAt": {"type": "string"},
                "version": {"type": "integer", "minimum": 1},
                "deadlines": {
                    "type": "array",
                    "items": ref("Deadline"),
                    "description": "When the flow declares deadlines: every one, in order",
                },
            },
        },
        "Deadline": {
            "type": "object",
            "required": ["name", "state", "due", "startedAt"],
            "properties": {
                "name": {"type": "string"},
                "state": {
                    "type": ["string", "null"],
                    "enum": ["running", "paused", "overdue", "met", "missed", "removed", None],
                },
                "due": text_or_null,
                "startedAt": text_or_null,
            },
        },
        "CaseWithLog": {
            # Both parts inside allOf: generators drop properties set beside an allOf.
            "allOf": [
                ref("Case"),
                {
                    "type": "object",
                    "required": ["activityLog"],
                    "properties": {
                        "activityLog": {"type": "array", "items": ref("ActivityEntry")},
                        "nextStatuses": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "When a workflow is declared",
                        },
                    },
                },
            ],
        },
        "ActivityEntry": {
            "type": "object",
            "required": [
                "id",
                "caseId",
                "changedBy",
                "eventName",
                "event",
                "comment",
                "createdAt",
                "updatedAt",
            ],
            "properties": {
                "id": {"type": "string"},
                "caseId": {"type": "string"},
                "changedBy": text_or_null,
                "eventName": {"type": "string"},
                "event": {"type": "object"},
                "comment": text_or_null,
                "deleted": {"type": "boolean"},
                "createdAt": {"type": "string"},
                "updatedAt": {"type": "string"},
            },
        },
        "Listing": {
            "type": "object",
            "required": ["data", "meta"],
            "properties": {
                "data": {"type": "array", "items": ref("Case")},
                "meta": {
                    "type": "object",
                    "required": ["count"],
                    "properties": {"count": {"type": "integer", "minimum": 0}},
                },
            },
        },
        "Workflow": {
            "type": "object",
            "required": ["statuses", "transitions"],
            "properties": {
                "statuses": {"type": "array", "items": {"type": "string"}},
                "transitions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["from", "to", "guarded"],
                        "properties": {
                            "from": {"type": "string"},
                            "to": {"type": "string"},
                            "guarded": {"type": "boolean"},
                        },
                    },
                },
            },
        },
        "Timer": {
            "type": "object",
            "required": ["name", "due"],
            "properties": {"name": {"type": "string"}, "due": {"type": "string"}},
        },
        "ChangesPage": {
            "type": "object",
            "required": ["data", "meta"],
            "properties": {
                "data": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["cursor", "caseId", "entry"],
                        "properties": {
                            "cursor": {"type": "string"},
                            "caseId": {"type": "string"},
                            "entry": ref("ActivityEntry"),
                        },
                    },
                },
                "meta": {
                    "type": "object",
                    "required": ["next"],
                    "properties": {"next": text_or_null},
                },
            },
        },
    }
