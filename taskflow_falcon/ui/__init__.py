"""The case browser: server-rendered pages under ``/ui/`` to find and work cases (SPEC §15).

Thin resources over the same ``Taskflow`` methods the API calls, with the same user
(``req.context.user``); templates in ``templates/``, one stylesheet in ``static/``. No
JavaScript: every page works with it turned off, and the Content-Security-Policy runs none.
"""

from __future__ import annotations

import secrets as random

import falcon

from taskflow_core import Taskflow

from ..routing import add_route
from .bulk_pages import BulkPreview, BulkRun, ExportPage
from .case_page import CaseAction, CasePage
from .context import Pages
from .errors import ErrorPages
from .inbox import InboxPage
from .pages import PREFIX
from .security import Csrf
from .static import StaticFile
from .workflow_page import WorkflowPage

__all__ = ["PREFIX", "ErrorPages", "PagesMiddleware", "install"]


class PagesMiddleware:
    """Marks every request so that its errors under ``/ui`` are pages (taskflow_falcon/
    errors.py asks the request's ``taskflow_pages``)."""

    def __init__(self) -> None:
        self.pages = ErrorPages()

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.taskflow_pages = self.pages


def install(
    app: falcon.App[falcon.Request, falcon.Response],
    flow: Taskflow,
    *,
    secret: bytes | None,
    max_body_size: int,
) -> None:
    """Add the pages' routes to ``app``. ``secret`` signs the forms' tokens; every process
    serving the same pages needs the same one (None: a random one, for one process)."""
    csrf = Csrf(secret or random.token_bytes(32), path=PREFIX)
    pages = Pages(flow, csrf, max_body_size=max_body_size)
    # The app strips a trailing slash, so /ui/ arrives as /ui.
    add_route(app, PREFIX, InboxPage(pages))
    add_route(app, PREFIX + "/workflow", WorkflowPage(pages))
    add_route(app, PREFIX + "/static/{name}", StaticFile())
    add_route(app, PREFIX + "/cases/{case_id}", CasePage(pages))
    add_route(app, PREFIX + "/cases/{case_id}/{action}", CaseAction(pages))
    add_route(app, PREFIX + "/bulk", BulkPreview(pages))
    add_route(app, PREFIX + "/bulk/run", BulkRun(pages))
    add_route(app, PREFIX + "/export.csv", ExportPage(pages, "csv"))
    add_route(app, PREFIX + "/export.ndjson", ExportPage(pages, "ndjson"))
