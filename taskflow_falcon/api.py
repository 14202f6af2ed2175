"""The WSGI app: ``create_app`` wires a flow to routes.

It only wires: the flow, its store and the host's middleware are built by the caller, and
nothing here runs at import time. ``taskflow_compose.wsgi:get_app`` is the gunicorn factory.
"""

from __future__ import annotations

from collections.abc import Iterable

import falcon

from taskflow_core import Taskflow

from .access_log import AccessLog
from .body import DEFAULT_MAX_BODY_SIZE
from .bulk import BulkResource, ExportResource
from .changes import DEFAULT_MAX_WAITING, ChangesResource
from .errors import install_error_handlers
from .finding import CountsResource, ViewsResource
from .operations import HealthResource, ReadyResource
from .reference import DocsResource, OpenApiResource
from .rendering import JSON_TYPE
from .resources import (
    AssignResource,
    CaseResource,
    CasesResource,
    CommentResource,
    CommentsResource,
    DeadlineResource,
    StatusResource,
    TimersResource,
    WorkflowResource,
)
from .routing import EmptySegments, add_route


class TaskflowApp(falcon.App):  # type: ignore[type-arg]
    """A falcon app that knows the flow it serves, for the processes serving it (`taskflow
    serve` starts a timer sweeper on it)."""

    taskflow: Taskflow


def flow_of(app: object) -> Taskflow | None:
    """The flow ``create_app`` wired ``app`` to, or None for an app it did not make."""
    return app.taskflow if isinstance(app, TaskflowApp) else None


def create_app(
    flow: Taskflow,
    *,
    middleware: object | Iterable[object] | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    feed: bool = False,
    max_waiting: int | None = DEFAULT_MAX_WAITING,
) -> falcon.App[falcon.Request, falcon.Response]:
    """A falcon app serving ``flow`` over HTTP (docs/http.md).

    ``middleware`` is the host's: typically one that authenticates and sets
    ``req.context.user``. ``max_body_size`` bounds request bodies in bytes (413 beyond).
    ``feed``: whether ``GET /_changes`` answers; it shows every case's entries, whatever
    decorators hide, so it is off (403) unless the host turns it on (docs/integrations.md).
    ``max_waiting``: under a server that cannot park a waiting request (any but ``taskflow
    serve``'s worker, which holds them without a thread), how many ``GET /_changes?wait=``
    requests the process holds on its threads; the others are answered at once, with
    ``Retry-After`` when empty. None: no limit.
    """
    # The access log first: it times every request and sees every answer, errors included.
    host_middleware = [] if middleware is None else middleware
    if not isinstance(host_middleware, Iterable):
        host_middleware = [host_middleware]
    app = TaskflowApp(
        middleware=[AccessLog(flow.redactor), EmptySegments(), *host_middleware],
        cors_enable=False,
    )
    app.taskflow = flow
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.default_media_type = falcon.MEDIA_JSON
    app.resp_options.default_media_type = JSON_TYPE
    install_error_handlers(app)

    deps = {"max_body_size": max_body_size}
    comments = CommentsResource(flow, **deps)
    comment = CommentResource(flow, **deps)
    add_route(app, "/openapi.json", OpenApiResource())
    add_route(app, "/docs", DocsResource())
    add_route(app, "/_health", HealthResource())
    add_route(app, "/_ready", ReadyResource(flow))
    add_route(app, "/_changes", ChangesResource(flow, enabled=feed, max_waiting=max_waiting))
    add_route(app, "/", CasesResource(flow, **deps))
    add_route(app, "/{case_id}", CaseResource(flow, **deps))
    # A literal segment: falcon matches it before the /{case_id} field, and no case id can
    # be spelled this way (ids are UUIDs), so the two never compete.
    add_route(app, "/_workflow", WorkflowResource(flow, **deps))
    add_route(app, "/_views", ViewsResource(flow, **deps))
    add_route(app, "/_counts", CountsResource(flow, **deps))
    add_route(app, "/_bulk", BulkResource(flow, **deps))
    add_route(app, "/_export", ExportResource(flow, **deps))
    add_route(app, "/{case_id}/status", StatusResource(flow, **deps))
    add_route(app, "/{case_id}/assign", AssignResource(flow, **deps))
    add_route(app, "/{case_id}/timers", TimersResource(flow, **deps))
    add_route(app, "/{case_id}/deadlines/{name}", DeadlineResource(flow, **deps))
    # The original answered on both spellings; one resource instance serves each pair.
    add_route(app, "/{case_id}/comment", comments)
    add_route(app, "/{case_id}/comments", comments)
    add_route(app, "/{case_id}/comment/{comment_id}", comment)
    add_route(app, "/{case_id}/comments/{comment_id}", comment)
    return app
