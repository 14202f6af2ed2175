"""The HTTP resources: parse the request, call the ``Taskflow`` service, write the JSON answer.

Thin by design (STYLE 5): every rule about cases lives in the service, which also runs each
call in one transaction with the hooks and decorators registered when the request starts.
One instance of each resource serves every request, so they keep no per-request state.
"""

from __future__ import annotations

from typing import Any

import falcon

from taskflow_core import Taskflow
from taskflow_core.model import canonical_id

from .body import read_json_object, require
from .listing import list_query_from_string
from .rendering import write_json


def user_of(req: falcon.Request) -> Any:
    """The user the host's authentication middleware put on ``req.context``, else None."""
    # getattr, not .get(): a host may give falcon a context_type of its own.
    return getattr(req.context, "user", None)


def respond(resp: falcon.Response, case: dict[str, Any]) -> None:
    write_json(resp, {"data": case, "meta": {}})


class _Resource:
    def __init__(self, flow: Taskflow, *, max_body_size: int) -> None:
        self.flow = flow
        self.max_body_size = max_body_size
        # Falcon's own answer to 405 lists the same methods, from the same responders.
        self.allow = ", ".join(sorted(falcon.routing.map_http_methods(self)))

    def on_options(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        # Falcon's default OPTIONS answer is 200 with no body, under the JSON content type
        # this app gives every answer: a JSON promise it does not keep. A 204 has no type.
        resp.status = falcon.HTTP_204
        resp.set_header("Allow", self.allow)

    def body(self, req: falcon.Request, case_id: str) -> dict[str, Any]:
        # The id first: a request naming no case is a 404 whatever its body (SPEC §3).
        canonical_id(case_id)
        return read_json_object(req, self.max_body_size)


class CasesResource(_Resource):
    """``/``: list cases, create one."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        query = list_query_from_string(req.query_string)
        write_json(resp, self.flow.list(query, user=user_of(req)))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        # The whole body is the new case's data, and also the event's payload.
        data = read_json_object(req, self.max_body_size)
        respond(resp, self.flow.create(data, user=user_of(req), payload=data))


class CaseResource(_Resource):
    """``/{case_id}``: read one case with its activity log, deep-merge into its data."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        respond(resp, self.flow.get(case_id, user=user_of(req)))

    def on_put(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        body = self.body(req, case_id)
        data = require(body, "data")
        preserve = req.get_param_as_bool("preserveUpdatedAt", default=False)
        case = self.flow.update(
            case_id, data, user=user_of(req), payload=body, preserve_updated_at=bool(preserve)
        )
        respond(resp, case)


class StatusResource(_Resource):
    """``/{case_id}/status``."""

    def on_put(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        body = self.body(req, case_id)
        status = require(body, "status")
        respond(resp, self.flow.set_status(case_id, status, user=user_of(req), payload=body))


class AssignResource(_Resource):
    """``/{case_id}/assign``: ``{"profileId": null}`` unassigns, so the key is required."""

    def on_put(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        body = self.body(req, case_id)
        assignee = require(body, "profileId")
        respond(resp, self.flow.assign(case_id, assignee, user=user_of(req), payload=body))


class CommentsResource(_Resource):
    """``/{case_id}/comment`` and ``/{case_id}/comments``: add a comment."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, case_id: str) -> None:
        body = self.body(req, case_id)
        comment = require(body, "comment")
        respond(resp, self.flow.comment(case_id, comment, user=user_of(req), payload=body))


class CommentResource(_Resource):
    """``/{case_id}/comment/{comment_id}``: edit or delete a comment (its author only)."""

    def on_put(
        self, req: falcon.Request, resp: falcon.Response, case_id: str, comment_id: str
    ) -> None:
        body = self.body(req, case_id)
        comment = require(body, "comment")
        case = self.flow.update_comment(
            case_id, comment_id, comment, user=user_of(req), payload=body
        )
        respond(resp, case)

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, case_id: str, comment_id: str
    ) -> None:
        respond(resp, self.flow.delete_comment(case_id, comment_id, user=user_of(req)))
