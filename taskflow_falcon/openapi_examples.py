"""One example per operation of the OpenAPI document: the answer it gives, and the body it
takes. Code generators and Swagger UI show them; tests/integration/test_openapi.py checks
each against the schema it illustrates, so they cannot drift from the shapes."""

from __future__ import annotations

from typing import Any

_ID = "6f1c7a3e-2b4d-4c1e-9a57-0d3f5b8e2c41"
_AT = "2026-12-01T09:30:00.000Z"
_LATER = "2026-12-02T14:05:12.000Z"

CASE: dict[str, Any] = {
    "id": _ID,
    "status": "submitted",
    "data": {"subject": "Dog licence", "applicant": {"name": "Ada Lovelace"}},
    "assignedTo": "caseworker-7",
    "createdAt": _AT,
    "updatedAt": _LATER,
    "version": 3,
}
ENTRY: dict[str, Any] = {
    "id": "0b8e4d2a-7c61-4f3e-8d1a-5e9c2b7a4f60",
    "caseId": _ID,
    "changedBy": "caseworker-7",
    "eventName": "status:new:submitted",
    "event": {"event": "status:new:submitted", "status": "submitted"},
    "comment": None,
    "createdAt": _LATER,
    "updatedAt": _LATER,
}
CASE_WITH_LOG = {**CASE, "activityLog": [ENTRY], "nextStatuses": ["granted", "refused"]}

TIMER = {"name": "reminder", "due": "2026-12-09T09:00:00.000Z"}

# By the schema an answer names, as the whole answer or as its `data` (or `data`'s items).
VALUES: dict[str, Any] = {
    "Case": CASE,
    "CaseWithLog": CASE_WITH_LOG,
    "Timer": TIMER,
    "Workflow": {
        "statuses": ["new", "submitted", "granted", "refused"],
        "transitions": [
            {"from": "new", "to": "submitted", "guarded": False},
            {"from": "submitted", "to": "granted", "guarded": True},
        ],
    },
    "Listing": {"data": [CASE], "meta": {"count": 1}},
    "Views": {"data": [{"name": "mine", "title": "My cases", "count": 4}]},
    "Counts": {
        "data": [{"value": "submitted", "count": 12}, {"value": "granted", "count": 3}],
        "meta": {"count": 15},
    },
    "BulkAnswer": {
        "data": [
            {"id": _ID, "status": 200},
            {
                "id": "9d2e6b1f-4a3c-4e8d-b7f0-1c5a9e3d2b74",
                "status": 403,
                "message": "Not allowed from refused to granted",
            },
        ],
        "meta": {
            "bulk": "3c9f1e7a-5b2d-4f6e-8a1c-7d4b2e9f0a63",
            "count": 2,
            "succeeded": 1,
            "failed": 1,
        },
    },
    "ChangesPage": {
        "data": [{"cursor": "1.42", "caseId": _ID, "entry": ENTRY}],
        "meta": {"next": "1.42"},
    },
}

# By operation: the request body it takes, when it takes one.
BODIES: dict[str, Any] = {
    "createCase": {"subject": "Dog licence", "applicant": {"name": "Ada Lovelace"}},
    "updateCase": {"subject": "Dog licence (renewal)"},
    "patchCase": {"applicant": {"phone": None}},
    "setStatus": {"status": "submitted"},
    "assignCase": {"profileId": "caseworker-7"},
    "addComment": {"comment": "Called the applicant: documents on their way."},
    "editComment": {"comment": "Called the applicant twice: documents on their way."},
    "bulkAction": {
        "query": {"status": ["submitted"], "data": {"kind": "dog"}},
        "action": {"assign": "caseworker-7"},
        "dryRun": True,
    },
    "actOnDeadline": {
        "action": "extend",
        "by": {"businessDays": 15},
        "reason": "Waiting for the vet's report",
    },
}
BODIES["addCommentPlural"] = BODIES["addComment"]

# By operation: answers whose schema names no shape of VALUES.
ANSWERS: dict[str, Any] = {
    "health": {"data": {"status": "ok"}},
    "ready": {"data": {"status": "ready"}},
    "openapiDocument": {"openapi": "3.1.0", "info": {"title": "taskflow"}, "paths": {}},
}
BODIES["editCommentPlural"] = BODIES["editComment"]


def add_examples(operation: dict[str, Any]) -> None:
    """Sets the example of ``operation``'s JSON answer and body, where it has one."""
    body = operation.get("requestBody")
    if body is not None and operation["operationId"] in BODIES:
        for content in body["content"].values():
            content["example"] = BODIES[operation["operationId"]]
    answer = operation["responses"].get("200", {}).get("content", {}).get("application/json")
    if answer is not None:
        example = ANSWERS.get(operation["operationId"]) or _example(answer["schema"])
        if example is not None:
            answer["example"] = example


def _name(schema: dict[str, Any]) -> str:
    return str(schema.get("$ref", "")).rsplit("/", 1)[-1]


def _example(schema: dict[str, Any]) -> Any:
    if _name(schema) in VALUES:
        return VALUES[_name(schema)]
    data = schema.get("properties", {}).get("data", {})
    if _name(data) in VALUES:
        return {"data": VALUES[_name(data)]}
    if _name(data.get("items", {})) in VALUES:
        return {"data": [VALUES[_name(data["items"])]]}
    return None
