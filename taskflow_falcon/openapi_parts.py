"""The pieces the OpenAPI document is made of (openapi.py): answers, errors, headers, path
and listing parameters, with the limits the code enforces taken from where it enforces them.
"""

from __future__ import annotations

from typing import Any

from taskflow_core.application.idempotency import MAX_KEY_LENGTH
from taskflow_core.application.query import MAX_LIMIT, MAX_OFFSET

from .openapi_finding import finding_parameters

Schema = dict[str, Any]

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: Schema) -> dict[str, Any]:
    return {JSON: {"schema": schema}}


ERROR = {"description": "", "content": json_content(ref("Error"))}
ERRORS = {
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


def errors(*codes: str) -> dict[str, Any]:
    return {code: {**ERROR, "description": ERRORS[code]} for code in codes}


def header(name: str, description: str, schema: Schema | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


CASE_ID = {
    "name": "case_id",
    "in": "path",
    "required": True,
    "description": "The case's id (a UUID)",
    "schema": {"type": "string"},
}
COMMENT_ID = {
    "name": "comment_id",
    "in": "path",
    "required": True,
    "description": "The id of a `comment` entry of the case's activity log",
    "schema": {"type": "string"},
}
IF_MATCH = header(
    "If-Match",
    'Only if the case\'s ETag is one of these (`"3"`, `"3", "4"` or `*`); else 412',
)
IDEMPOTENCY_KEY = header(
    "Idempotency-Key",
    f"1 to {MAX_KEY_LENGTH} printable ASCII characters: a retry with the same key and request "
    "answers the first answer again (with `Idempotent-Replayed: true`) and changes nothing",
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
)
REQUEST_ID = header("X-Request-Id", "Echoed in the answer; made up when absent")

ETAG = {"description": 'The case\'s version as a strong ETag: `"3"`', "schema": {"type": "string"}}
REPLAYED = {
    "description": "`true` when this answers a replayed Idempotency-Key",
    "schema": {"type": "string"},
}


def case_answer(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"ETag": ETAG, "Idempotent-Replayed": REPLAYED},
        "content": json_content(
            {"type": "object", "required": ["data"], "properties": {"data": ref("CaseWithLog")}}
        ),
    }


def body(schema: Schema, *, required: bool = True, types: tuple[str, ...] = (JSON,)) -> Any:
    return {"required": required, "content": {t: {"schema": schema} for t in types}}


def meta_object(**properties: Schema) -> Schema:
    return {
        "type": "object",
        "properties": {
            **properties,
            "meta": {"type": "object", "description": "`comment` is logged"},
        },
    }


MUTATION_ERRORS = ("400", "403", "404", "409", "412", "413", "422", "500", "503")


def mutation(summary: str, body: Any | None, *extra_errors: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [IF_MATCH, IDEMPOTENCY_KEY],
        "responses": {
            "200": case_answer("The case after the request, after every hook"),
            **errors(*MUTATION_ERRORS, *extra_errors),
        },
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


# NUL cannot be stored, so it cannot be looked for either (a 400).
FILTER_VALUE = {"type": "string", "pattern": "^[^\\u0000]*$"}


def listing_parameters() -> list[dict[str, Any]]:
    strings = {"type": "array", "items": FILTER_VALUE}
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
                "additionalProperties": FILTER_VALUE,
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
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT},
        },
        {
            "name": "offset",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
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


OBJECT_ANSWER = {"description": "", "content": json_content({"type": "object"})}

TAGS = {
    "cases": "Cases: list, create, read, change",
    "comments": "A case's comments",
    "deadlines": "A case's deadlines (docs/deadlines.md)",
    "finding": "Views and counts (docs/finding.md)",
    "feed": "The change feed (docs/integrations.md)",
    "bulk": "Acting on many cases, and taking them out (docs/bulk.md)",
    "operations": "Health, readiness and this reference",
}

# Each operation's name for code generators, and its group. Both spellings of the comment
# routes are served (as the original did): the second gets its own name.
OPERATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("get", "/"): ("listCases", "cases"),
    ("post", "/"): ("createCase", "cases"),
    ("get", "/{case_id}"): ("getCase", "cases"),
    ("put", "/{case_id}"): ("updateCase", "cases"),
    ("patch", "/{case_id}"): ("patchCase", "cases"),
    ("put", "/{case_id}/status"): ("setStatus", "cases"),
    ("put", "/{case_id}/assign"): ("assignCase", "cases"),
    ("get", "/{case_id}/timers"): ("listTimers", "cases"),
    ("get", "/_workflow"): ("getWorkflow", "cases"),
    ("post", "/{case_id}/comment"): ("addComment", "comments"),
    ("post", "/{case_id}/comments"): ("addCommentPlural", "comments"),
    ("put", "/{case_id}/comment/{comment_id}"): ("editComment", "comments"),
    ("delete", "/{case_id}/comment/{comment_id}"): ("deleteComment", "comments"),
    ("put", "/{case_id}/comments/{comment_id}"): ("editCommentPlural", "comments"),
    ("delete", "/{case_id}/comments/{comment_id}"): ("deleteCommentPlural", "comments"),
    ("put", "/{case_id}/deadlines/{name}"): ("actOnDeadline", "deadlines"),
    ("get", "/_views"): ("listViews", "finding"),
    ("get", "/_counts"): ("countCases", "finding"),
    ("post", "/_bulk"): ("bulkAction", "bulk"),
    ("get", "/_export"): ("exportCases", "bulk"),
    ("get", "/_changes"): ("readChanges", "feed"),
    ("get", "/_health"): ("health", "operations"),
    ("get", "/_ready"): ("ready", "operations"),
    ("get", "/metrics"): ("metrics", "operations"),
    ("get", "/openapi.json"): ("openapiDocument", "operations"),
    ("get", "/docs"): ("docsPage", "operations"),
    ("get", "/docs/assets/{name}"): ("docsAsset", "operations"),
}
