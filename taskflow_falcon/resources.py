"""The HTTP resources: parse the request, call the ``Taskflow`` service, write the JSON answer.

Thin by design: every rule about cases lives in the service, which also runs each
call in one transaction with the hooks and decorators registered when the request starts.
One instance of each resource serves every request, so they keep no per-request state.
"""

from __future__ import annotations

from typing import Any

import falcon

from taskflow_core import Taskflow
from taskflow_core.application.answers import data, single_case_body
from taskflow_core.application.commands import (
    AddComment,
    Assign,
    Command,
    Context,
    CreateCase,
    DeleteComment,
    EditComment,
    LogAssign,
    MergePatch,
    Outcome,
    SetStatus,
    UpdateData,
    deadline_action_from_json,
)
from taskflow_core.domain.validation import MAX_DEPTH, canonical_id
from taskflow_core.errors import InvalidRequest

from .body import read_json_object, require, require_merge_patch
from .conditions import (
    etag,
    idempotency_key,
    if_match,
    not_modified,
    request_fingerprint,
    tag_listing,
    write_case,
    write_case_body,
)
from .listing import list_query_from_string
from .rendering import write_json, write_listing

# The body's names for the fields whose Python names differ (commands check their fields
# under the Python names: taskflow_core/application/commands.py).
HTTP_NAMES = {"assigned_to": "profileId"}


def user_of(req: falcon.Request) -> Any:
    """The user the host's authentication middleware put on ``req.context``, else None."""
    # getattr, not .get(): a host may give falcon a context_type of its own.
    return getattr(req.context, "user", None)


def respond(resp: falcon.Response, outcome: Outcome) -> None:
    """Answer with one case: the stored bytes of an answer kept under an idempotency key (so
    its replay is byte for byte the same), else the case encoded now."""
    body = outcome.body if outcome.body is not None else single_case_body(outcome.case)
    write_case(resp, outcome, body)


def preserve_updated_at(req: falcon.Request) -> bool:
    """``?preserveUpdatedAt``: any value but ``false`` preserves, as the original read any
    non-empty value (``false`` meaning false is ours); empty or bare does not (SPEC §3)."""
    value = req.get_param("preserveUpdatedAt")
    return value not in (None, "", "false")


class _Resource:
    def __init__(self, flow: Taskflow, *, max_body_size: int) -> None:
        self.flow = flow
        self.max_body_size = max_body_size

    def body(
        self, req: falcon.Request, case_id: str, *, empty: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        # The id first: a request naming no case is a 404 whatever its body.
        canonical_id(case_id)
        return read_json_object(req, self.max_body_size, empty=empty)

    def execute(
        self, req: falcon.Request, resp: falcon.Response, command: Command, payload: Any
    ) -> None:
        """Run a mutation through the service's one entry point and answer with its case.

        ``payload`` is the body as parsed: the event's payload, and with the method and path
        what an idempotency key's request is recognised by.
        """
        key = idempotency_key(req)
        context = Context(
            user_of(req),
            payload,
            # A create has no version to match: If-Match on POST / is ignored.
            expected_version=None if command.case_id is None else if_match(req),
            idempotency_key=key,
            fingerprint=None if key is None else request_fingerprint(req, payload),
        )
        respond(resp, self.flow.execute(command, context))


class CasesResource(_Resource):
    """``/``: list cases, create one."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = list_query_from_string(req.query_string)
        write_listing(resp, self.flow.listing(query, user=user_of(req)))
        tag_listing(req, resp)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        # The whole body is the new case's data, and also the event's payload; an empty
        # body is an empty case, as the original made it.
        data = read_json_object(req, self.max_body_size, empty={}, max_depth=MAX_DEPTH)
        self.execute(req, resp, CreateCase(data), data)


class CaseResource(_Resource):
    """``/{case_id}``: read one case with its activity log; merge into its data (``PUT`` as
    lodash's merge, ``PATCH`` as a JSON Merge Patch)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        body = self.flow.read_body(case_id, user=user_of(req))
        resp.set_header("ETag", etag(body.version))
        if not_modified(req, body.version):
            # The client's copy is current: the ETag again, and no body (nor the read a
            # streamed one holds open).
            body.close()
            resp.status = falcon.HTTP_304
            return
        write_case_body(resp, body)

    def on_put(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        body = self.body(req, case_id)
        # No data (or null) merges nothing and is still logged: the original's clients
        # record a note that way, with meta.comment.
        self.execute(
            req, resp, UpdateData(case_id, body.get("data"), preserve_updated_at(req)), body
        )

    def on_patch(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        canonical_id(case_id)  # a 404 before the content type's 415
        require_merge_patch(req)
        patch = self.body(req, case_id)
        self.execute(req, resp, MergePatch(case_id, patch), patch)


class StatusResource(_Resource):
    """``/{case_id}/status``."""

    def on_put(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        body = self.body(req, case_id)
        self.execute(req, resp, SetStatus(case_id, require(body, "status")), body)


class AssignResource(_Resource):
    """``/{case_id}/assign``: ``{"profileId": null}`` unassigns; ``{}`` keeps the assignee
    and logs the event, as the original (SPEC §3)."""

    def on_put(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        body = self.body(req, case_id)
        command: Command
        if "profileId" not in body:
            command = LogAssign(case_id)  # {}: the assignee stays, the event is logged
        else:
            try:
                command = Assign(case_id, body["profileId"])
            except InvalidRequest as error:
                raise error.renamed(HTTP_NAMES) from None
        self.execute(req, resp, command, body)


class TimersResource(_Resource):
    """``/{case_id}/timers``: the case's pending timers."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        write_json(resp, data(self.flow.timers(case_id, user=user_of(req))))


class DeadlineResource(_Resource):
    """``/{case_id}/deadlines/{name}``: extend, remove or reinstate a deadline, with a
    reason."""

    def on_put(self, req: falcon.Request, resp: falcon.Response, case_id: str, name: str) -> None:
        body = self.body(req, case_id)
        self.execute(req, resp, deadline_action_from_json(case_id, name, body), body)


class CommentsResource(_Resource):
    """``/{case_id}/comment`` and ``/{case_id}/comments``: add a comment."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        body = self.body(req, case_id)
        comment = body["comment"] if "comment" in body else _meta(body)
        self.execute(req, resp, AddComment(case_id, comment), body)


def _meta(body: dict[str, Any]) -> Any:
    """A comment sent only as ``meta.comment``: the original logged that text as the comment
    (its logger reads ``meta.comment``), so a client may send it so. Without it, the missing
    ``comment`` is the error."""
    meta = body.get("meta")
    text = meta.get("comment") if isinstance(meta, dict) else None
    if not isinstance(text, str) or not text.strip():
        require(body, "comment")
    return text


class CommentResource(_Resource):
    """``/{case_id}/comment/{comment_id}``: edit or delete a comment (its author only)."""

    def on_put(
        self, req: falcon.Request, resp: falcon.Response, case_id: str, comment_id: str
    ) -> None:
        body = self.body(req, case_id)
        command = EditComment(case_id, comment_id, require(body, "comment"))
        self.execute(req, resp, command, body)

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, case_id: str, comment_id: str
    ) -> None:
        self.execute(req, resp, DeleteComment(case_id, comment_id), None)


class WorkflowResource(_Resource):
    """``/_workflow``: the declared statuses and transitions."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        write_json(resp, data(self.flow.workflow()))
