"""One log record per request, and the request id that ties it to the client's view.

Records go to the ``taskflow.access`` logger at INFO, so a host routes them as it routes any
log; ``taskflow serve`` prints them. The id is the client's ``X-Request-Id`` when it sent a
usable one (a proxy in front usually does), else a new one, and is echoed in the answer.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import falcon

logger = logging.getLogger("taskflow.access")

REQUEST_ID_HEADER = "X-Request-Id"
# What an id from outside may look like: it goes into logs, so no spaces or control
# characters, and a bounded length.
_USABLE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


class AccessLog:
    """Falcon middleware: put first, so it times and sees every request, errors included."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        given = req.get_header(REQUEST_ID_HEADER)
        req.context.request_id = (
            given if given and _USABLE_ID.fullmatch(given) else uuid.uuid4().hex
        )
        req.context.started = time.perf_counter()

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        request_id = getattr(req.context, "request_id", None) or uuid.uuid4().hex
        resp.set_header(REQUEST_ID_HEADER, request_id)
        started = getattr(req.context, "started", None)
        duration_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        log_request(
            req.method, req.relative_uri, req.path, resp.status_code, duration_ms, request_id
        )


def log_request(
    method: str, target: str, path: str, status: int, duration_ms: float, request_id: str
) -> None:
    """The request's record: a line, and its fields apart for a structured handler."""
    if not logger.isEnabledFor(logging.INFO):
        return
    logger.info(
        "%s %s %d %.1fms %s",
        method,
        target,
        status,
        duration_ms,
        request_id,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "request_id": request_id,
        },
    )
