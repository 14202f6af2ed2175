"""The OpenAPI document's pieces for acting on many cases and taking them out (SPEC §18):
``POST /_bulk`` and ``GET /_export``; merged into the document by openapi.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from taskflow_core.application.bulk_request import MAX_CASES
from taskflow_core.application.export import FORMATS

Schema = dict[str, Any]

_ACTION = {
    "description": "Exactly one verb: what each case's own route would do",
    "oneOf": [
        {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"type": "string", "pattern": "^[a-z-]+$"}},
            "additionalProperties": False,
        },
        {
            "type": "object",
            "required": ["assign"],
            "properties": {"assign": {"type": ["string", "null"]}},
            "additionalProperties": False,
        },
        {
            "type": "object",
            "required": ["comment"],
            "properties": {"comment": {"type": "string", "minLength": 1}},
            "additionalProperties": False,
        },
    ],
}


def bulk_schemas() -> dict[str, Schema]:
    return {
        "BulkRequest": {
            "type": "object",
            "required": ["action"],
            "properties": {
                "ids": {
                    "type": ["array", "null"],
                    "items": {"type": "string", "format": "uuid"},
                    "description": f"The cases (at most {MAX_CASES} distinct; a duplicate is "
                    "acted on once, a malformed id refuses the whole request); null is absent",
                },
                "query": {
                    "type": ["object", "null"],
                    "description": "Or: the listing's parameters as a JSON object "
                    '(`{"status": ["new"], "data": {"kind": "dog"}, "view": "mine"}`), '
                    f"without `limit` or `offset`; matching more than {MAX_CASES}: 400; null is "
                    "absent. Exactly one of `ids` and `query`",
                },
                "action": _ACTION,
                "dryRun": {"type": "boolean", "default": False},
            },
            "additionalProperties": False,
        },
        "BulkAnswer": {
            "type": "object",
            "required": ["data", "meta"],
            "properties": {
                "data": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "status"],
                        "properties": {
                            "id": {"type": "string"},
                            "status": {
                                "type": "integer",
                                "description": "What the case's own route would answer",
                            },
                            "message": {"type": "string"},
                        },
                    },
                },
                "meta": {
                    "type": "object",
                    "required": ["bulk", "count", "succeeded", "failed"],
                    "properties": {
                        "bulk": {
                            "type": "string",
                            "description": "The batch's id, each entry's `meta.bulk`",
                        },
                        "count": {"type": "integer", "minimum": 0},
                        "succeeded": {"type": "integer", "minimum": 0},
                        "failed": {"type": "integer", "minimum": 0},
                        "dryRun": {"type": "boolean"},
                    },
                },
            },
        },
    }


def bulk_paths(
    listing_parameters: list[dict[str, Any]],
    answer: Callable[[str], dict[str, Any]],
    errors: Callable[..., dict[str, Any]],
    idempotency_key: dict[str, Any],
    json_body: Callable[[Schema], Any],
    ref: Callable[[str], Schema],
) -> dict[str, dict[str, Any]]:
    filters = [p for p in listing_parameters if p["name"] not in ("sort", "limit", "offset")]
    fmt = {"name": "format", "in": "query", "required": True, "schema": {"enum": list(FORMATS)}}
    disposition = {
        "description": 'attachment; filename="cases-<UTC timestamp>.<format>"',
        "schema": {"type": "string"},
    }
    return {
        "/_bulk": {
            "post": {
                "summary": "One action on many cases, each in a transaction of its own",
                "parameters": [idempotency_key],
                "requestBody": json_body(ref("BulkRequest")),
                "responses": {
                    "200": answer("BulkAnswer"),
                    **errors("400", "413", "422", "500", "503"),
                },
            },
        },
        "/_export": {
            "get": {
                "summary": "Every case the filters match, streamed as NDJSON or CSV",
                "parameters": [fmt, *filters],
                "responses": {
                    "200": {
                        "description": "NDJSON: a case a line; CSV: a header, then a row a case",
                        "headers": {"Content-Disposition": disposition},
                        "content": {
                            "application/x-ndjson": {"schema": {"type": "string"}},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    **errors("400", "500", "503"),
                },
            },
        },
    }
