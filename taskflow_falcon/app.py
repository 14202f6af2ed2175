"""The WSGI app: ``create_app`` wires a flow to routes; ``get_app`` configures one for gunicorn.

``create_app`` only wires (STYLE 6): the flow, its store and the host's middleware are built by
the caller, and nothing here runs at import time. ``get_app`` is the gunicorn factory
(``gunicorn 'taskflow_falcon.app:get_app()'``), configured from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import falcon

from taskflow_compose import database_url, load_attr, load_flow
from taskflow_core import Taskflow

from .body import DEFAULT_MAX_BODY_SIZE
from .errors import install_error_handlers
from .resources import (
    AssignResource,
    CaseResource,
    CasesResource,
    CommentResource,
    CommentsResource,
    StatusResource,
)

# Read by get_app(); `taskflow serve` sets them for its workers, so both share one path.
APP_ENV = "TASKFLOW_APP"
POOL_SIZE_ENV = "TASKFLOW_POOL_SIZE"


def create_app(
    flow: Taskflow,
    *,
    middleware: object | Iterable[object] | None = None,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
) -> falcon.App[falcon.Request, falcon.Response]:
    """A falcon app serving ``flow`` over HTTP (SPEC §3).

    ``middleware`` is the host's: typically one that authenticates and sets
    ``req.context.user``. ``max_body_size`` bounds request bodies in bytes (413 beyond).
    """
    app = falcon.App(middleware=middleware, cors_enable=False)  # type: ignore[arg-type]
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.default_media_type = falcon.MEDIA_JSON
    app.resp_options.default_media_type = falcon.MEDIA_JSON
    install_error_handlers(app)

    deps = {"max_body_size": max_body_size}
    comments = CommentsResource(flow, **deps)
    comment = CommentResource(flow, **deps)
    app.add_route("/", CasesResource(flow, **deps))
    app.add_route("/{case_id}", CaseResource(flow, **deps))
    app.add_route("/{case_id}/status", StatusResource(flow, **deps))
    app.add_route("/{case_id}/assign", AssignResource(flow, **deps))
    # The original answered on both spellings; one resource instance serves each pair.
    app.add_route("/{case_id}/comment", comments)
    app.add_route("/{case_id}/comments", comments)
    app.add_route("/{case_id}/comment/{comment_id}", comment)
    app.add_route("/{case_id}/comments/{comment_id}", comment)
    return app


def flow_from_env() -> Taskflow:
    """The flow ``TASKFLOW_APP`` names, or a plain one on ``TASKFLOW_DATABASE_URL``'s store."""
    store_options: dict[str, object] = {}
    pool_size = os.environ.get(POOL_SIZE_ENV)
    if pool_size:
        # A fixed-size pool, one connection per worker thread: no thread waits for one,
        # and no connections churn under a steady load.
        store_options["min_size"] = store_options["max_size"] = int(pool_size)
    return load_flow(os.environ.get(APP_ENV) or None, database_url(), **store_options)


def host_app_from_env() -> falcon.App[falcon.Request, falcon.Response] | None:
    """The host's own app, when ``TASKFLOW_APP`` names a ``falcon.App`` (say, one made with
    ``create_app(flow, middleware=[Authenticate()])``) rather than a flow."""
    spec = os.environ.get(APP_ENV)
    target = load_attr(spec) if spec else None
    return target if isinstance(target, falcon.App) else None


def get_app() -> falcon.App[falcon.Request, falcon.Response]:
    """The app gunicorn serves, from ``TASKFLOW_DATABASE_URL`` and ``TASKFLOW_APP``.

    Called in each worker after the fork; stores open their connection pools on first use,
    so every worker gets a pool of its own. Do not run gunicorn with ``--preload``.
    """
    return host_app_from_env() or create_app(flow_from_env())
