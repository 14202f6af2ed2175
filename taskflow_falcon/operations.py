"""What operators and load balancers ask: is the process up, and can it serve requests."""

from __future__ import annotations

import logging

import falcon

from taskflow_core import Taskflow
from taskflow_core.application.readiness import check_ready
from taskflow_core.errors import DatabaseMissing, NotMigrated, StoreError

from .rendering import write_json

logger = logging.getLogger(__name__)


class HealthResource:
    """``/_health``: 200 while the process runs; it asks nothing of the database."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        write_json(resp, {"data": {"status": "ok"}})


class ReadyResource:
    """``/_ready``: 200 when the store answers a query on its tables, else 503."""

    def __init__(self, flow: Taskflow) -> None:
        self.flow = flow

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            check_ready(self.flow.store)
        except StoreError as exc:
            # The reason goes to the operator's log; it may name a host or a file.
            logger.warning("not ready: %s", exc)
            resp.set_header("Retry-After", "5")
            write_json(resp, {"message": _reason(exc)}, 503)
            return
        write_json(resp, {"data": {"status": "ready"}})


def _reason(exc: StoreError) -> str:
    if isinstance(exc, NotMigrated):
        return "The database has no taskflow schema yet: run `taskflow migrate`"
    if isinstance(exc, DatabaseMissing):
        return (
            "The server answers but has no such database: run `taskflow migrate`, which creates it"
        )
    return "The database is not reachable"
