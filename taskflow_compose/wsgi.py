"""From the environment to the WSGI app: the gunicorn entry point,
``gunicorn 'taskflow_compose.wsgi:get_app()'``, and what ``taskflow serve`` builds."""

from __future__ import annotations

import falcon

from taskflow_core import Taskflow
from taskflow_falcon.api import create_app
from taskflow_falcon.changes import DEFAULT_MAX_WAITING

from .authentication import authenticator_from_env
from .environment import (
    app_spec,
    database_url,
    feed_over_http,
    metrics_over_http,
    pool_size,
    ui_over_http,
    ui_secret,
)
from .flows import load_attr, load_flow
from .signin import signin_from_env


def flow_from_env() -> Taskflow:
    """The flow ``TASKFLOW_APP`` names, or a plain one on ``TASKFLOW_DATABASE_URL``'s store."""
    store_options: dict[str, object] = {}
    size = pool_size()
    if size:
        # A fixed-size pool, one connection per worker thread: no thread waits for one,
        # and no connections churn under a steady load.
        store_options["min_size"] = store_options["max_size"] = size
    return load_flow(app_spec(), database_url(), **store_options)


def host_app_from_env() -> falcon.App[falcon.Request, falcon.Response] | None:
    """The host's own app, when ``TASKFLOW_APP`` names a ``falcon.App`` (say, one made with
    ``create_app(flow, middleware=[Authenticate()])``) rather than a flow."""
    spec = app_spec()
    target = load_attr(spec) if spec else None
    return target if isinstance(target, falcon.App) else None


def app_from_env() -> falcon.App[falcon.Request, falcon.Response]:
    """The host's own app if ``TASKFLOW_APP`` names one, else ``create_app`` on the flow."""
    threads = pool_size()
    # taskflow serve's worker parks waiting readers of the change feed without a thread;
    # where it cannot (TLS, HTTP/2), they may hold half the threads, so the other half
    # always answers everything else.
    max_waiting = max(1, threads // 2) if threads else DEFAULT_MAX_WAITING
    return host_app_from_env() or create_app(
        flow_from_env(),
        feed=feed_over_http(),
        max_waiting=max_waiting,
        ui=ui_over_http(),
        ui_secret=ui_secret(),
        signin=signin_from_env(),
        authenticate=authenticator_from_env(),
        metrics=metrics_over_http(),
    )


def get_app() -> falcon.App[falcon.Request, falcon.Response]:
    """The app gunicorn serves, from ``TASKFLOW_DATABASE_URL``, ``TASKFLOW_APP`` and
    ``TASKFLOW_AUTH*`` (docs/access.md).

    Called in each worker after the fork; stores open their connection pools on first use,
    so every worker gets a pool of its own. Do not run gunicorn with ``--preload``.

    It checks nothing, unlike ``taskflow serve``: while the database cannot be reached or has
    no schema, each request is answered 503 and ``/_ready`` says which; an app that cannot be
    imported fails the worker with its traceback.
    """
    return app_from_env()
