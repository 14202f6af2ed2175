"""The OpenAPI part of finding the work (docs/finding.md): the listing's ``q``,
``unassigned``, ranges and ``view``, and ``GET /_views`` and ``GET /_counts``; merged into
the document by ``openapi.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Schema = dict[str, Any]


def _range(name: str) -> dict[str, Any]:
    bound = {
        "type": "string",
        "description": "ISO 8601 with an offset (`2026-12-01T10:00:00Z`), or a date (midnight UTC)",
    }
    return {
        "name": name,
        "in": "query",
        "style": "deepObject",
        "explode": True,
        "schema": {
            "type": "object",
            "properties": {"from": bound, "to": bound},
            "additionalProperties": False,
        },
        "description": f"`{name}[from]` (inclusive), `{name}[to]` (exclusive)",
    }


def finding_parameters() -> list[dict[str, Any]]:
    """The listing parameters of docs/finding.md, taken wherever the listing's are."""
    return [
        {
            "name": "q",
            "in": "query",
            "schema": {"type": "string", "maxLength": 500},
            "description": "Search: every word must start a word of the case's data strings "
            "or of its comments (at most 16 words)",
        },
        {
            "name": "unassigned",
            "in": "query",
            "schema": {"enum": ["true", "false"]},
            "description": "`true`: only cases with no assignee",
        },
        _range("createdAt"),
        _range("updatedAt"),
        {
            "name": "view",
            "in": "query",
            "schema": {"type": "string"},
            "description": "A named view's query, ANDed with the other parameters",
        },
    ]


def finding_schemas() -> dict[str, Schema]:
    return {
        "Views": {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "title", "count"],
                        "properties": {
                            "name": {"type": "string"},
                            "title": {"type": "string"},
                            "count": {"type": "integer", "minimum": 0},
                        },
                    },
                }
            },
        },
        "Counts": {
            "type": "object",
            "required": ["data", "meta"],
            "properties": {
                "data": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["value", "count"],
                        "properties": {
                            "value": {"type": ["string", "null"]},
                            "count": {"type": "integer", "minimum": 1},
                        },
                    },
                },
                "meta": {
                    "type": "object",
                    "required": ["count"],
                    "properties": {"count": {"type": "integer", "minimum": 0}},
                },
            },
        },
    }


def finding_paths(
    listing_parameters: list[dict[str, Any]],
    answer: Callable[[str], dict[str, Any]],
    errors: Callable[..., dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """``/_views`` and ``/_counts``; ``answer(schema name)`` is a 200 with that schema."""
    filters = [p for p in listing_parameters if p["name"] not in ("sort", "limit", "offset")]
    by = {
        "name": "by",
        "in": "query",
        "required": True,
        "schema": {"enum": ["status", "assignedTo"]},
    }
    return {
        "/_views": {
            "get": {
                "summary": "The named views, each with its count for the requesting user",
                "responses": {"200": answer("Views"), **errors("403", "500", "503")},
            },
        },
        "/_counts": {
            "get": {
                "summary": "The listing's cases counted by status or assignee",
                "parameters": [by, *filters],
                "responses": {"200": answer("Counts"), **errors("400", "403", "500", "503")},
            },
        },
    }
