"""The WSGI app: ``create_app`` wires a flow to routes.

It only wires: the flow, its store and the host's middleware are built by the caller, and
nothing here runs at import time. ``taskflow_compose.wsgi:get_app`` is the gunicorn factory.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import falcon

from taskflow_core import Taskflow

from .access_log import AccessLog
from .auth import Authentication, Authenticator
from .body import DEFAULT_MAX_BODY_SIZE
from .bulk import BulkResource, ExportResource
from .changes import DEFAULT_MAX_WAITING, ChangesResource
from .errors import install_error_handlers
from .finding import CountsResource, ViewsResource
from .metrics_http import HttpMetrics, MetricsResource
from .operations import HealthResource, ReadyResource
from .reference import DocsAssetResource, DocsResource, OpenApiResource
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
from .signin import OidcSignIn
from .ui import PagesMiddleware
from .ui import install as install_pages


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
    signin: OidcSignIn | None = None,
    ui: bool = True,
    ui_secret: bytes | None = None,
    authenticate: Authenticator | None = None,
    metrics: bool = True,
    tracing: bool | Any = False,
) -> falcon.App[falcon.Request, falcon.Response]:
    """A falcon app serving ``flow`` over HTTP (docs/http.md).

    ``middleware`` is the host's: typically one that authenticates and sets
    ``req.context.user``. ``max_body_size`` bounds request bodies in bytes (413 beyond).
    ``feed``: whether ``GET /_changes`` answers; it shows every case's entries, whatever
    decorators hide, so it is off (403) unless the host turns it on (docs/integrations.md).
    ``max_waiting``: under a server that cannot park a waiting request (any but ``taskflow
    serve``'s worker, which holds them without a thread), how many ``GET /_changes?wait=``
    requests the process holds on its threads; the others are answered at once, with
    ``Retry-After`` when empty. None: no limit. ``signin``: the pages' OpenID Connect
    sign-in (``taskflow_falcon.signin.OidcSignIn``, docs/signin.md): its routes under
    ``/ui/`` and the session that sets ``req.context.user`` there.
    ``ui``: serve the case browser's pages under ``/ui/`` (docs/browser.md); ``ui_secret``
    signs their forms' tokens against cross-site posts, the same in every process serving
    the app (None: a random one, which only one process can check).
    ``authenticate``: who is asking (``taskflow_falcon.auth.JwtBearer``, ``TrustedHeaders``,
    docs/access.md): every request but ``/_health``, ``/_ready``, ``/openapi.json``,
    ``/docs`` and ``/metrics`` must authenticate (401 otherwise), after the host's
    middleware, which may set ``req.context.user`` itself (that request is then left as it
    is). None (the default): the user is whatever the host's middleware sets, else None.
    ``metrics``: whether ``GET /metrics``
    answers, in the Prometheus text format, and requests are counted (docs/operating.md).
    ``tracing``: OpenTelemetry spans for each request, transaction and hook (the ``otel``
    extra): True for the global tracer provider, or a ``TracerProvider``.
    """
    # The access log first: it times every request and sees every answer, errors included.
    host_middleware = [] if middleware is None else middleware
    if not isinstance(host_middleware, Iterable):
        host_middleware = [host_middleware]
    # The metrics right after it, timed by its clock (metrics_http.py).
    metrics_resource = MetricsResource(flow) if metrics else None
    counting: list[Any] = (
        [] if metrics_resource is None else [HttpMetrics(metrics_resource.metrics)]
    )
    if tracing is not False and tracing is not None:
        from .tracing import OtelTracer, Tracing  # only with the otel extra installed

        tracer = OtelTracer(None if tracing is True else tracing)
        flow.trace(tracer)
        # Before the metrics; the access log, first of all, logs the trace id it sets.
        counting = [Tracing(tracer), *counting]
    # The pages' marker before the host's authentication, so that a 401 or 403 it raises
    # under /ui is a page too; the pages' sign-in after the host's middleware and before the
    # authentication, which leaves /ui to it.
    pages = [PagesMiddleware()] if ui else []
    sessions = [] if signin is None else [signin.middleware(flow)]
    authentication = (
        []
        if authenticate is None
        else [Authentication(authenticate, pages_signed_in=signin is not None)]
    )
    app = TaskflowApp(
        middleware=[
            AccessLog(flow.redactor),
            *counting,
            EmptySegments(),
            *pages,
            *host_middleware,
            *sessions,
            *authentication,
        ],
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
    add_route(app, "/docs/assets/{name}", DocsAssetResource())
    add_route(app, "/_health", HealthResource())
    add_route(app, "/_ready", ReadyResource(flow))
    if metrics_resource is not None:
        add_route(app, "/metrics", metrics_resource)
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
    if signin is not None:
        signin.add_routes(app, sessions[0], flow)
    if ui:
        install_pages(app, flow, secret=ui_secret, max_body_size=max_body_size)
    return app
