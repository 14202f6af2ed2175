"""One log record per request, and the request id that ties it to the client's view.

Records go to the ``taskflow.access`` logger at INFO, so a host routes them as it routes any
log; ``taskflow serve`` prints them. The id is the client's ``X-Request-Id`` when it sent a
usable one (a proxy in front usually does), else a new one, and is echoed in the answer.

What a client sent is logged escaped and without its secrets: a control character (a
decoded ``%0A`` in a path, say) is written as ``\\x0a``, so no request can forge a line of
the log or drive a terminal; and a query parameter whose name says it is a secret
(``?access_token=``) is logged as ``[redacted]``, with the fragments the flow's activity
log redacts (``Taskflow(redact=...)``).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import unquote_plus

import falcon

from taskflow_core.domain.redaction import REDACTED, Redactor

from .parking import parking_of

logger = logging.getLogger("taskflow.access")

REQUEST_ID_HEADER = "X-Request-Id"
# What an id from outside may look like: it goes into logs, so no spaces or control
# characters, and a bounded length.
_USABLE_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
# C0 and C1 controls, DEL, and the line and paragraph separators some viewers break lines
# at; the backslash too, so that an escape in the log is always ours, never the client's.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\\]")
_DEFAULT_REDACTOR = Redactor()


def escape(text: str) -> str:
    """``text`` with every control character written as ``\\xNN`` (``\\uNNNN``)."""
    return _UNSAFE.sub(_escaped, text)


def _escaped(found: re.Match[str]) -> str:
    code = ord(found[0])
    if found[0] == "\\":
        return "\\\\"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def redact_query(
    query: str, redactor: Redactor = _DEFAULT_REDACTOR, secret: frozenset[str] = frozenset()
) -> str:
    """The query string with the value of every parameter naming a secret replaced, and of
    those ``secret`` names (what the route that answered knows to be credentials)."""
    if not query or not (redactor.fragments or secret):
        return query
    parts = []
    for part in query.split("&"):
        name, equals, _value = part.partition("=")
        plain = unquote_plus(name)
        if equals and (plain in secret or redactor.is_secret(plain)):
            part = f"{name}={REDACTED}"
        parts.append(part)
    return "&".join(parts)


def loggable_target(
    path: str,
    query: str,
    redactor: Redactor = _DEFAULT_REDACTOR,
    secret: frozenset[str] = frozenset(),
) -> str:
    """What the log shows of a request's target: its path and its query, redacted."""
    return f"{path}?{redact_query(query, redactor, secret)}" if query else path


class AccessLog:
    """Falcon middleware: put first, so it times and sees every request, errors included."""

    def __init__(self, redactor: Redactor = _DEFAULT_REDACTOR) -> None:
        self.redactor = redactor

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        parking = parking_of(req.env)
        if parking is not None and parking.resumed and "request_id" in parking.state:
            # A parked request called again: one request, one id, timed from its arrival.
            req.context.request_id = parking.state["request_id"]
            req.context.started = parking.state["started"]
            return
        given = req.get_header(REQUEST_ID_HEADER)
        req.context.request_id = (
            given if given and _USABLE_ID.fullmatch(given) else uuid.uuid4().hex
        )
        req.context.started = time.perf_counter()
        if parking is not None:
            parking.state.update(request_id=req.context.request_id, started=req.context.started)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        parking = parking_of(req.env)
        if parking is not None and parking.parked:
            return  # not answered yet: logged when it is
        request_id = getattr(req.context, "request_id", None) or uuid.uuid4().hex
        resp.set_header(REQUEST_ID_HEADER, request_id)
        started = getattr(req.context, "started", None)
        duration_ms = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        # A route whose query carries credentials (the sign-in's callback: ?code=) names them.
        secret: frozenset[str] = getattr(req.context, "secret_query", frozenset())
        target = loggable_target(req.root_path + req.path, req.query_string, self.redactor, secret)
        trace_id = getattr(req.context, "trace_id", None)
        log_request(
            req.method, target, req.path, resp.status_code, duration_ms, request_id, trace_id
        )


def log_request(
    method: str,
    target: str,
    path: str,
    status: int,
    duration_ms: float,
    request_id: str,
    trace_id: str | None = None,
) -> None:
    """The request's record: a line, and its fields apart for a structured handler.

    ``target`` is expected redacted (``loggable_target``); every text is escaped here.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    method, target, path, request_id = (escape(t) for t in (method, target, path, request_id))
    fields = {
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round(duration_ms, 3),
        "request_id": request_id,
    }
    line = "%s %s %d %.1fms %s"
    args: tuple[object, ...] = (method, target, status, duration_ms, request_id)
    if trace_id is not None:
        # With tracing on (taskflow_falcon/tracing.py): the trace this request's spans are in.
        fields["trace_id"] = trace_id
        line = "%s %s %d %.1fms %s trace=%s"
        args = (method, target, status, duration_ms, request_id, trace_id)
    logger.info(line, *args, extra=fields)
