"""The gunicorn entry point: ``gunicorn 'taskflow_falcon.app:get_app()'``.

The app is composed from the environment by ``taskflow_compose`` (``TASKFLOW_DATABASE_URL``,
``TASKFLOW_APP``); this module only names it where gunicorn and existing deployments look.
"""

from __future__ import annotations

import falcon

from taskflow_compose.wsgi import app_from_env

from .api import create_app

__all__ = ["create_app", "get_app"]


def get_app() -> falcon.App[falcon.Request, falcon.Response]:
    """The app gunicorn serves, from ``TASKFLOW_DATABASE_URL`` and ``TASKFLOW_APP``.

    Called in each worker after the fork; stores open their connection pools on first use,
    so every worker gets a pool of its own. Do not run gunicorn with ``--preload``.

    It checks nothing, unlike ``taskflow serve``: while the database cannot be reached or has
    no schema, each request is answered 503 and ``/_ready`` says which; an app that cannot be
    imported fails the worker with its traceback.
    """
    return app_from_env()
