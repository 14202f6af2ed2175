"""``GET /metrics`` and the HTTP counters (SPEC §17): every request counted by method, route
template and status code, and timed by method and route template.

A route label is the template falcon matched (``/{case_id}/status``, written ``/{id}/status``
as SPEC §17 shows it), never the path: a client sending ten thousand different paths adds no
series. A path no route matches is counted as ``unmatched``, and a method no route answers
as ``other``.
"""

from __future__ import annotations

import time
from typing import Any

import falcon
from prometheus_client import Counter, Histogram

from taskflow_core import Taskflow

from .metrics import CONTENT_TYPE, ProcessMetrics, exposition, observe, render
from .parking import parking_of

UNMATCHED = "unmatched"
OTHER_METHOD = "other"
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)


def route_label(template: str | None) -> str:
    """The route's label: its template with the case id's field named as SPEC §17 names it."""
    return UNMATCHED if template is None else template.replace("{case_id}", "{id}")


class HttpMetrics:
    """Falcon middleware, put right after the access log: its clock (``req.context.started``,
    kept across a parked request's resumption) times the request."""

    def __init__(self, metrics: ProcessMetrics) -> None:
        self._requests = metrics.http_requests
        self._durations = metrics.http_duration
        # The children already made, by (method, template, code): one dict lookup per
        # request instead of prometheus_client's label checks and locked lookup. Bounded by
        # the routes, the methods above and the codes the app answers with.
        self._children: dict[tuple[str, str | None, int], tuple[Counter, Histogram]] = {}

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        parking = parking_of(req.env)
        if parking is not None and parking.parked:
            return  # not answered yet: counted when it is
        started = getattr(req.context, "started", None)
        key = (req.method, req.uri_template, resp.status_code)
        children = self._children.get(key)
        if children is None:
            children = self._make(*key)
        counter, histogram = children
        counter.inc()
        if started is not None:
            histogram.observe(time.perf_counter() - started)

    def _make(self, method: str, template: str | None, code: int) -> tuple[Counter, Histogram]:
        label = method if method in METHODS else OTHER_METHOD
        route = route_label(template)
        children = (
            self._requests.labels(label, route, str(code)),
            self._durations.labels(label, route),
        )
        # Kept only under a known method (a client may send any token as one), and within a
        # bound, should a host's middleware answer with codes beyond count.
        if label != OTHER_METHOD and len(self._children) < 10_000:
            self._children[(method, template, code)] = children
        return children


class MetricsResource:
    """``/metrics``: the Prometheus text format of the counters (every worker's under
    ``taskflow serve``) and the store's gauges (kept a few seconds)."""

    def __init__(self, flow: Taskflow) -> None:
        self.metrics = observe(flow)
        self._registry = exposition(flow)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = CONTENT_TYPE
        resp.data = render(self._registry)
