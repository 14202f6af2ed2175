"""The OpenAPI 3.1 document of the HTTP API, served at ``/openapi.json``.

Written once here, per route and method; ``tests/integration/test_openapi.py`` checks that it
names exactly the routes and methods the app serves (so neither can drift from the other),
that it validates, and schemathesis sends requests generated from it to the app.
"""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

from taskflow_core import DISTRIBUTION

from .openapi_finding import finding_parameters, finding_paths, finding_schemas

Schema = dict[str, Any]

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema) -> dict[str, Any]:
    return {JSON: {"schema": schema}}


_ERROR = {"description": "", "content": _json(_ref("Error"))}
_ERRORS = {
    "400": "Bad input: a malformed body, field, parameter or header; nothing changed",
    "403": "Refused: a hook or a guard said no (or not the comment's author)",
    "404": "No such case or comment (a malformed id included)",
    "409": "Conflict: a hook refused, the status change is not declared (`errors.status` "
    "lists the allowed next statuses), or the same Idempotency-Key is in flight",
    "412": "If-Match names another version; nothing changed",
    "413": "Body over the size limit",
    "415": "PATCH with a content type other than JSON or merge-patch JSON",
    "422": "Idempotency-Key reused with another request",
    "500": "Internal error: rolled back, details in the server's log only",
    "503": "The database is away or busy: retry after `Retry-After` seconds",
}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: {**_ERROR, "description": _ERRORS[code]} for code in codes}


def _header(name: str, description: str, schema: Schema | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


_CASE_ID = {
    "name": "case_id",
    "in": "path",
    "required": True,
    "description": "The case's id (a UUID)",
    "schema": {"type": "string"},
}
_COMMENT_ID = {
    "name": "comment_id",
    "in": "path",
    "required": True,
    "description": "The id of a `comment` entry of the case's activity log",
    "schema": {"type": "string"},
}
_IF_MATCH = _header(
    "If-Match",
    'Only if the case\'s ETag is one of these (`"3"`, `"3", "4"` or `*`); else 412',
)
_IDEMPOTENCY_KEY = _header(
    "Idempotency-Key",
    "1 to 255 printable ASCII characters: a retry with the same key and request answers the "
    "first answer again (with `Idempotent-Replayed: true`) and changes nothing",
    {"type": "string", "minLength": 1, "maxLength": 255},
)
_REQUEST_ID = _header("X-Request-Id", "Echoed in the answer; made up when absent")

_ETAG = {"description": 'The case\'s version as a strong ETag: `"3"`', "schema": {"type": "string"}}
_REPLAYED = {
    "description": "`true` when this answers a replayed Idempotency-Key",
    "schema": {"type": "string"},
}


def _case_answer(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"ETag": _ETAG, "Idempotent-Replayed": _REPLAYED},
        "content": _json(
            {"type": "object", "required": ["data"], "properties": {"data": _ref("CaseWithLog")}}
        ),
    }


def _body(schema: Schema, *, required: bool = True, types: tuple[str, ...] = (JSON,)) -> Any:
    return {"required": required, "content": {t: {"schema": schema} for t in types}}


def _meta_object(**properties: Schema) -> Schema:
    return {
        "type": "object",
        "properties": {
            **properties,
            "meta": {"type": "object", "description": "`comment` is logged"},
        },
    }


_MUTATION_ERRORS = ("400", "403", "404", "409", "412", "413", "422", "500", "503")


def _mutation(summary: str, body: Any | None, *extra_errors: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [_IF_MATCH, _IDEMPOTENCY_KEY],
        "responses": {
            "200": _case_answer("The case after the request, after every hook"),
            **_errors(*_MUTATION_ERRORS, *extra_errors),
        },
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


# NUL cannot be stored, so it cannot be looked for either (a 400).
_FILTER_VALUE = {"type": "string", "pattern": "^[^\\u0000]*$"}


def _listing_parameters() -> list[dict[str, Any]]:
    strings = {"type": "array", "items": _FILTER_VALUE}
    return [
        {
            "name": "status",
            "in": "query",
            "schema": strings,
            "explode": True,
            "description": "Any of these statuses",
        },
        {
            "name": "assignedTo",
            "in": "query",
            "schema": strings,
            "explode": True,
            "description": "Assigned to any of these",
        },
        {
            "name": "data",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "schema": {
                "type": "object",
                # As the original's query parser reads them, `data[]` and `data[0]` make a list,
                # not an object key: such names are not filters.
                "propertyNames": {"pattern": "^(?![0-9]*$)[^\\[\\]]+$"},
                "additionalProperties": _FILTER_VALUE,
            },
            "description": "JSON containment: `data[key]=value`, nested `data[a][b]=value`",
        },
        {
            "name": "exclude",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "schema": {
                "type": "object",
                "properties": {"status": {"type": "string"}, "assignedTo": {"type": "string"}},
                "additionalProperties": False,
            },
            "description": "`exclude[status]=x`, `exclude[assignedTo]=y`",
        },
        {
            "name": "sort",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "schema": {
                "type": "object",
                "properties": {
                    "column": {
                        "enum": ["createdAt", "updatedAt", "status", "assignedTo", "id", "due"]
                    },
                    "ascending": {"enum": ["true", "false"]},
                },
                # Other keys are ignored, as the original ignored them.
            },
            "description": "`sort[column]=...&sort[ascending]=true|false`; `due` (the earliest"
            " due of a case's running or overdue deadlines) is ascending by default, cases"
            " without one last",
        },
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": 1000},
        },
        {
            "name": "offset",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
        },
        *finding_parameters(),
        {
            "name": "overdue",
            "in": "query",
            "schema": {"enum": ["true", "false"]},
            "description": "`true`: only cases with an overdue deadline",
        },
        {
            "name": "due",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "schema": {"type": "object", "properties": {"to": {"type": "string"}}},
            "description": "`due[to]=<ISO 8601>`: only cases with a running deadline due before",
        },
    ]


def _schemas() -> dict[str, Schema]:
    text_or_null = {"type": ["string", "null"]}
    return {
        "Error": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}, "errors": {"type": "object"}},
            "additionalProperties": False,
        },
        "Case": {
            "type": "object",
            "required": ["id", "status", "data", "assignedTo", "createdAt", "updatedAt"],
            "properties": {
                "id": {"type": "string"},
                "status": {"type": "string"},
                "data": {"type": "object"},
                "assignedTo": text_or_null,
                "createdAt": {"type": "string"},
                "updatedAt": {"type": "string"},
                "version": {"type": "integer", "minimum": 1},
                "deadlines": {
                    "type": "array",
                    "items": _ref("Deadline"),
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
            "allOf": [_ref("Case")],
            "type": "object",
            "required": ["activityLog"],
            "properties": {
                "activityLog": {"type": "array", "items": _ref("ActivityEntry")},
                "nextStatuses": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "When a workflow is declared",
                },
            },
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
                "data": {"type": "array", "items": _ref("Case")},
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
                            "entry": _ref("ActivityEntry"),
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


def _paths() -> dict[str, dict[str, Any]]:
    comment = _meta_object(comment={"type": "string", "minLength": 1})
    comment["required"] = ["comment"]
    status = _meta_object(status={"type": "string", "pattern": "^[a-z-]+$"})
    status["required"] = ["status"]
    comment_ops = {
        "parameters": [_CASE_ID, _COMMENT_ID],
        "put": _mutation("Edit a comment (its author only)", _body(comment)),
        "delete": _mutation("Delete a comment (its author only)", None),
    }
    add_comment = {
        "parameters": [_CASE_ID],
        "post": _mutation("Comment on the case", _body(comment)),
    }
    return {
        "/": {
            "get": {
                "summary": "List cases",
                "parameters": _listing_parameters(),
                "responses": {
                    "200": {
                        "description": "A page, and how many match in all",
                        "content": _json(_ref("Listing")),
                    },
                    # 403: a named view may refuse the user (docs/finding.md).
                    **_errors("400", "403", "500", "503"),
                },
            },
            "post": {
                "summary": "Create a case; the body is its data (an empty body is `{}`)",
                "parameters": [_IDEMPOTENCY_KEY],
                "requestBody": _body({"type": "object"}, required=False),
                "responses": {
                    "200": _case_answer("The new case (or the one a hook redirected to)"),
                    **_errors("400", "403", "404", "409", "413", "422", "500", "503"),
                },
            },
        },
        "/{case_id}": {
            "parameters": [_CASE_ID],
            "get": {
                "summary": "One case with its activity log",
                "parameters": [
                    _header("If-None-Match", "304 when the case still has this ETag (or `*`)")
                ],
                "responses": {
                    "200": _case_answer("The case"),
                    "304": {"description": "Not modified since the ETag given"},
                    **_errors("400", "404", "500", "503"),
                },
            },
            "put": _mutation(
                "Deep-merge `data` into the case's data (lodash's merge)",
                _body(_meta_object(data={"type": ["object", "null"]})),
            ),
            "patch": _mutation(
                "Apply a JSON Merge Patch (RFC 7396) to the case's data",
                _body({"type": "object"}, types=(MERGE_PATCH, JSON)),
                "415",
            ),
        },
        "/{case_id}/status": {
            "parameters": [_CASE_ID],
            "put": _mutation("Change the status", _body(status)),
        },
        "/{case_id}/assign": {
            "parameters": [_CASE_ID],
            "put": _mutation(
                "Assign (`profileId` null unassigns; missing keeps the assignee, logs `assign`)",
                _body(_meta_object(profileId={"type": ["string", "null"]})),
            ),
        },
        "/{case_id}/comment": add_comment,
        "/{case_id}/comments": add_comment,
        "/{case_id}/comment/{comment_id}": comment_ops,
        "/{case_id}/comments/{comment_id}": comment_ops,
        "/{case_id}/deadlines/{name}": {
            "parameters": [
                _CASE_ID,
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "put": _mutation(
                "Extend, remove or reinstate a deadline, with a reason (404: no such deadline;"
                " 409: its state does not allow the action)",
                _body(
                    {
                        "type": "object",
                        "required": ["action", "reason"],
                        "properties": {
                            "action": {"enum": ["extend", "remove", "reinstate"]},
                            "reason": {"type": "string", "minLength": 1},
                            "by": {
                                "oneOf": [
                                    {
                                        "type": "object",
                                        "required": ["businessDays"],
                                        "properties": {
                                            "businessDays": {"type": "integer", "minimum": 1}
                                        },
                                    },
                                    {
                                        "type": "object",
                                        "required": ["days"],
                                        "properties": {"days": {"type": "number"}},
                                    },
                                ]
                            },
                            "until": {"type": "string", "format": "date-time"},
                        },
                    }
                ),
            ),
        },
        "/{case_id}/timers": {
            "parameters": [_CASE_ID],
            "get": {
                "summary": "The case's pending timers, soonest first",
                "responses": {
                    "200": {
                        "description": "",
                        "content": _json(
                            {
                                "type": "object",
                                "required": ["data"],
                                "properties": {"data": {"type": "array", "items": _ref("Timer")}},
                            }
                        ),
                    },
                    **_errors("404", "500", "503"),
                },
            },
        },
        "/_workflow": {
            "get": {
                "summary": "The declared statuses and transitions",
                "responses": {
                    "200": {
                        "description": "",
                        "content": _json(
                            {
                                "type": "object",
                                "required": ["data"],
                                "properties": {"data": _ref("Workflow")},
                            }
                        ),
                    },
                    **_errors("500"),
                },
            },
        },
        **finding_paths(
            _listing_parameters(),
            lambda name: {"description": "", "content": _json(_ref(name))},
            _errors,
        ),
        "/_changes": {
            "get": {
                "summary": "The change feed, in commit order",
                "description": "Off unless the host turned it on (create_app(flow, feed=True) "
                "or taskflow serve --feed): 403 otherwise, as it shows every case's entries.",
                "parameters": [
                    {
                        "name": "after",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "A cursor from an earlier answer",
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                    {
                        "name": "wait",
                        "in": "query",
                        "schema": {"type": "number", "minimum": 0, "maximum": 30},
                        "description": "Seconds to wait for something after the cursor",
                    },
                ],
                "responses": {
                    "200": {"description": "", "content": _json(_ref("ChangesPage"))},
                    **_errors("400", "403", "500", "503"),
                },
            },
        },
        "/_health": {
            "get": {
                "summary": "The process runs",
                "responses": {"200": {"description": "", "content": _json({"type": "object"})}},
            },
        },
        "/_ready": {
            "get": {
                "summary": "The store answers a query",
                "responses": {
                    "200": {"description": "", "content": _json({"type": "object"})},
                    **_errors("503"),
                },
            },
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": {"description": "", "content": _json({"type": "object"})}},
            },
        },
        "/docs": {
            "get": {
                "summary": "This document as a page",
                "responses": {
                    "200": {
                        "description": "",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The whole document; every operation also takes ``X-Request-Id``."""
    # Copied through JSON: the two spellings of the comment routes share their operations, and
    # each must get its own list of parameters (a deep copy would keep them shared).
    paths = json.loads(json.dumps(_paths()))
    for item in paths.values():
        for method, operation in item.items():
            if method != "parameters":
                operation.setdefault("parameters", [])
                operation["parameters"] = [*operation["parameters"], _REQUEST_ID]
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        version = "0"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "taskflow",
            "version": version,
            "description": "Cases with a status, an assignee and an activity log, moved "
            "through a workflow; wire-compatible with the original Node.js taskflow.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": paths,
        "components": {"schemas": {**_schemas(), **finding_schemas()}},
    }
