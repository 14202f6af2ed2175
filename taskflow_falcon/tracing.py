"""OpenTelemetry traces (the ``otel`` extra: ``pip install 'taskflow-casework[otel]'``): a
span per request, with a span per transaction and per hook inside it, and the request's
trace id in the access log.

Imported only when ``create_app(flow, tracing=...)`` asks for it, so the app needs no
OpenTelemetry installed otherwise. Spans go to the tracer provider given, or the one the
host set globally (``opentelemetry.trace.set_tracer_provider``), with its exporters.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import falcon
from opentelemetry import context, propagate, trace

from .metrics_http import route_label
from .parking import parking_of

INSTRUMENTATION = "taskflow"


class OtelTracer:
    """The core's ``Tracer`` (application/observing.py) on an OpenTelemetry tracer."""

    def __init__(self, provider: trace.TracerProvider | None = None) -> None:
        self.tracer = trace.get_tracer(INSTRUMENTATION, tracer_provider=provider)

    def span(
        self, name: str, attributes: Mapping[str, str]
    ) -> contextlib.AbstractContextManager[object]:
        return self.tracer.start_as_current_span(name, attributes=dict(attributes))


class Tracing:
    """Falcon middleware: a server span per request, current while the request runs (so the
    transaction's and hooks' spans are its children), continuing the caller's trace when
    the request carries a ``traceparent`` header. Its trace id goes to
    ``req.context.trace_id``, which the access log (first of the middleware, so last to
    answer) writes in the request's record."""

    def __init__(self, tracer: OtelTracer) -> None:
        self._tracer = tracer.tracer

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        parent = propagate.extract({k.lower(): v for k, v in req.headers.items()})
        span = self._tracer.start_span(
            req.method,
            context=parent,
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": req.method},
        )
        req.context.otel = (span, context.attach(trace.set_span_in_context(span, parent)))
        req.context.trace_id = format(span.get_span_context().trace_id, "032x")

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: Any
    ) -> None:
        found = getattr(req.context, "otel", None)
        if found is not None and req.uri_template is not None:
            route = route_label(req.uri_template)
            found[0].update_name(f"{req.method} {route}")
            found[0].set_attribute("http.route", route)

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        found = getattr(req.context, "otel", None)
        if found is None:
            return
        span, token = found
        req.context.otel = None
        code = resp.status_code
        span.set_attribute("http.response.status_code", code)
        if code >= 500:
            span.set_status(trace.StatusCode.ERROR)
        parking = parking_of(req.env)
        if parking is not None and parking.parked:
            span.set_attribute("taskflow.parked", True)  # answered later, in a span of its own
        span.end()
        context.detach(token)
