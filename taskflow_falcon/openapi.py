"""The OpenAPI 3.1 document of the HTTP API, served at ``/openapi.json``: each route's
operations, named (``operationId``) and grouped (``tags``) for code generators.

Written once here, per route and method, from the pieces of openapi_parts.py and the shapes
of openapi_schemas.py; ``tests/integration/test_openapi.py`` checks that it names exactly
the routes and methods the app serves (so neither can drift from the other), that it
validates, and schemathesis sends requests generated from it to the app.
"""

from __future__ import annotations

import json
from importlib import metadata
from typing import Any

from taskflow_core import DISTRIBUTION
from taskflow_core.application.feed import MAX_WAIT
from taskflow_core.application.query import MAX_LIMIT

from .openapi_bulk import bulk_paths, bulk_schemas
from .openapi_examples import add_examples
from .openapi_finding import finding_paths, finding_schemas
from .openapi_parts import (
    CASE_ID,
    COMMENT_ID,
    IDEMPOTENCY_KEY,
    JSON,
    MERGE_PATCH,
    OPERATIONS,
    REQUEST_ID,
    TAGS,
    body,
    case_answer,
    errors,
    header,
    json_content,
    listing_parameters,
    meta_object,
    mutation,
    ref,
)
from .openapi_schemas import schemas

# Answered whoever asks, whatever authentication is configured.
OPEN_PATHS = frozenset({"/_health", "/_ready"})

SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token of the identity provider (`taskflow serve --auth jwt`)",
    },
    "forwardedUser": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Forwarded-User",
        "description": "Set by an authenticating proxy in front (`taskflow serve --auth "
        "headers`); only safe when the proxy strips it from clients' requests",
    },
}


def _paths() -> dict[str, dict[str, Any]]:
    comment = meta_object(comment={"type": "string", "minLength": 1})
    comment["required"] = ["comment"]
    status = meta_object(status={"type": "string", "pattern": "^[a-z-]+$"})
    status["required"] = ["status"]
    comment_ops = {
        "parameters": [CASE_ID, COMMENT_ID],
        "put": mutation("Edit a comment (its author only)", body(comment)),
        "delete": mutation("Delete a comment (its author only)", None),
    }
    add_comment = {
        "parameters": [CASE_ID],
        "post": mutation("Comment on the case", body(comment)),
    }
    return {
        "/": {
            "get": {
                "summary": "List cases",
                "parameters": listing_parameters(),
                "responses": {
                    "200": {
                        "description": "A page, and how many match in all",
                        "content": json_content(ref("Listing")),
                    },
                    # 403: a named view may refuse the user (docs/finding.md).
                    **errors("400", "403", "500", "503"),
                },
            },
            "post": {
                "summary": "Create a case; the body is its data (an empty body is `{}`)",
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": body({"type": "object"}, required=False),
                "responses": {
                    "200": case_answer("The new case (or the one a hook redirected to)"),
                    **errors("400", "403", "404", "409", "413", "422", "500", "503"),
                },
            },
        },
        "/{case_id}": {
            "parameters": [CASE_ID],
            "get": {
                "summary": "One case with its activity log",
                "parameters": [
                    header("If-None-Match", "304 when the case still has this ETag (or `*`)")
                ],
                "responses": {
                    "200": case_answer("The case"),
                    "304": {"description": "Not modified since the ETag given"},
                    **errors("400", "404", "500", "503"),
                },
            },
            "put": mutation(
                "Deep-merge `data` into the case's data (lodash's merge)",
                body(meta_object(data={"type": ["object", "null"]})),
            ),
            "patch": mutation(
                "Apply a JSON Merge Patch (RFC 7396) to the case's data",
                body(ref("MergePatch"), types=(MERGE_PATCH, JSON)),
                "415",
            ),
        },
        "/{case_id}/status": {
            "parameters": [CASE_ID],
            "put": mutation("Change the status", body(status)),
        },
        "/{case_id}/assign": {
            "parameters": [CASE_ID],
            "put": mutation(
                "Assign (`profileId` null unassigns; missing keeps the assignee, logs `assign`)",
                body(meta_object(profileId={"type": ["string", "null"]})),
            ),
        },
        "/{case_id}/comment": add_comment,
        "/{case_id}/comments": add_comment,
        "/{case_id}/comment/{comment_id}": comment_ops,
        "/{case_id}/comments/{comment_id}": comment_ops,
        "/{case_id}/deadlines/{name}": {
            "parameters": [
                CASE_ID,
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "put": mutation(
                "Extend, remove or reinstate a deadline, with a reason (404: no such deadline;"
                " 409: its state does not allow the action)",
                body(
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
            "parameters": [CASE_ID],
            "get": {
                "summary": "The case's pending timers, soonest first",
                "responses": {
                    "200": {
                        "description": "",
                        "content": json_content(
                            {
                                "type": "object",
                                "required": ["data"],
                                "properties": {"data": {"type": "array", "items": ref("Timer")}},
                            }
                        ),
                    },
                    **errors("404", "500", "503"),
                },
            },
        },
        "/_workflow": {
            "get": {
                "summary": "The declared statuses and transitions",
                "responses": {
                    "200": {
                        "description": "",
                        "content": json_content(
                            {
                                "type": "object",
                                "required": ["data"],
                                "properties": {"data": ref("Workflow")},
                            }
                        ),
                    },
                    **errors("500"),
                },
            },
        },
        **finding_paths(
            listing_parameters(),
            lambda name: {"description": "", "content": json_content(ref(name))},
            errors,
        ),
        **bulk_paths(
            listing_parameters(),
            lambda name: {"description": "", "content": json_content(ref(name))},
            errors,
            IDEMPOTENCY_KEY,
            body,
            ref,
        ),
        "/_changes": {
            "get": {
                "summary": "The change feed, in commit order",
                "description": "Off unless the host turned it on (create_app(flow, feed=True) "
                "or taskflow serve --feed): 403 otherwise, as it shows every case's entries. "
                "With access rules declared (flow.access), their feed rule decides instead.",
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
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                        "description": "At most this many entries; fewer when they would pass "
                        "4 MiB of JSON (a bigger entry comes alone): read on from meta.next",
                    },
                    {
                        "name": "wait",
                        "in": "query",
                        "schema": {"type": "number", "minimum": 0, "maximum": MAX_WAIT},
                        "description": "Seconds to wait for something after the cursor",
                    },
                ],
                "responses": {
                    "200": {"description": "", "content": json_content(ref("ChangesPage"))},
                    **errors("400", "403", "500", "503"),
                },
            },
        },
        "/_health": {
            "get": {
                "summary": "The process runs",
                "responses": {
                    "200": {"description": "", "content": json_content({"type": "object"})}
                },
            },
        },
        "/_ready": {
            "get": {
                "summary": "The store answers a query",
                "responses": {
                    "200": {"description": "", "content": json_content({"type": "object"})},
                    **errors("503"),
                },
            },
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (absent with create_app(metrics=False))",
                "responses": {
                    "200": {
                        "description": "The Prometheus text format, version 0.0.4",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            },
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {
                    "200": {"description": "", "content": json_content({"type": "object"})}
                },
            },
        },
        "/docs": {
            "get": {
                "summary": "This document as a page (Swagger UI, served by this server)",
                "responses": {
                    "200": {
                        "description": "",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    "301": {"description": "From /docs/ to /docs"},
                },
            },
        },
        "/docs/assets/{name}": {
            "parameters": [
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "get": {
                "summary": "A file of the page: Swagger UI's script and stylesheet, its licence",
                "responses": {
                    "200": {
                        "description": "",
                        "content": {
                            kind: {"schema": {"type": "string"}}
                            for kind in ("text/javascript", "text/css", "text/plain")
                        },
                    },
                    **errors("404"),
                },
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The whole document; every operation also takes ``X-Request-Id``."""
    # Copied through JSON: the two spellings of the comment routes share their operations, and
    # each must get its own list of parameters (a deep copy would keep them shared).
    paths = json.loads(json.dumps(_paths()))
    for path, item in paths.items():
        for method, operation in item.items():
            if method != "parameters":
                operation.setdefault("parameters", [])
                operation["parameters"] = [*operation["parameters"], REQUEST_ID]
                operation["operationId"], tag = OPERATIONS[method, path]
                operation["tags"] = [tag]
                add_examples(operation)
                if path in OPEN_PATHS:
                    operation["security"] = []  # load balancers call them unauthenticated
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
            "through a workflow; wire-compatible with the original Node.js taskflow. A "
            "deployment may ask for a bearer token (the `bearer` scheme) or sit behind an "
            "authenticating proxy: then a request that does not authenticate is answered 401 "
            "(`/_health`, `/_ready`, `/openapi.json` and `/docs` excepted), and cases the user "
            "may not read are 404 (docs/access.md).",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "tags": [{"name": name, "description": text} for name, text in TAGS.items()],
        # Relative: "Try it out" and generated clients talk to the server that served it.
        "servers": [{"url": "/", "description": "This server"}],
        # What `taskflow serve --auth` can ask for (docs/access.md); with `--auth none` (the
        # default) nothing is asked, hence the empty alternative.
        "security": [{}, {"bearer": []}, {"forwardedUser": []}],
        "paths": paths,
        "components": {
            "schemas": {**schemas(), **finding_schemas(), **bulk_schemas()},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
