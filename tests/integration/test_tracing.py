"""OpenTelemetry tracing (``create_app(flow, tracing=provider)``, the ``otel`` extra): a span
per request, a span per transaction and per hook inside it, the trace id in the access log;
read from the SDK's in-memory exporter."""

from __future__ import annotations

import logging

import falcon.testing
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from taskflow_core import HookEvent, Taskflow
from taskflow_core.memory import MemoryStore
from taskflow_falcon import create_app

Client = falcon.testing.TestClient


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def flow() -> Taskflow:
    return Taskflow(MemoryStore())


@pytest.fixture
def client(flow: Taskflow, exporter: InMemorySpanExporter) -> Client:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Client(create_app(flow, tracing=provider))


def by_name(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    return next(span for span in spans if span.name == name)


def test_a_request_is_a_server_span_with_its_transaction_and_hooks_inside(
    client: Client, flow: Taskflow, exporter: InMemorySpanExporter
) -> None:
    flow.hook("status:*:open", lambda event: event.patch({"opened": True}))
    case = client.simulate_post("/", json={}).json["data"]
    exporter.clear()
    client.simulate_put(f"/{case['id']}/status", json={"status": "open"})
    spans = exporter.get_finished_spans()
    request = by_name(spans, "PUT /{id}/status")
    transaction = by_name(spans, "taskflow.transaction")
    hook = by_name(spans, "taskflow.hook")
    assert request.kind == SpanKind.SERVER
    assert request.attributes is not None
    assert request.attributes["http.route"] == "/{id}/status"
    assert request.attributes["http.response.status_code"] == 200
    assert transaction.parent is not None
    assert transaction.parent.span_id == request.context.span_id
    assert transaction.attributes == {"taskflow.command": "SetStatus"}
    assert hook.parent is not None
    assert hook.parent.span_id == transaction.context.span_id
    assert hook.attributes == {
        "taskflow.event": "status:new:open",
        "taskflow.hook.pattern": "status:*:open",
    }
    assert {span.context.trace_id for span in spans} == {request.context.trace_id}


def test_a_failing_hook_marks_its_span_and_the_requests(
    client: Client, flow: Taskflow, exporter: InMemorySpanExporter
) -> None:
    def broken(event: HookEvent) -> None:
        raise RuntimeError("a bug")

    flow.hook("create", broken)
    assert client.simulate_post("/", json={}).status_code == 500
    spans = exporter.get_finished_spans()
    assert by_name(spans, "taskflow.hook").status.status_code == StatusCode.ERROR
    assert by_name(spans, "POST /").status.status_code == StatusCode.ERROR


def test_the_callers_trace_is_continued(client: Client, exporter: InMemorySpanExporter) -> None:
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    parent = f"00-{trace_id}-b7ad6b7169203331-01"
    client.simulate_get("/_health", headers={"traceparent": parent})
    (span,) = exporter.get_finished_spans()
    assert format(span.context.trace_id, "032x") == trace_id
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == "b7ad6b7169203331"


def test_the_access_log_names_the_trace(
    client: Client, exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="taskflow.access"):
        client.simulate_get("/_health")
    (span,) = exporter.get_finished_spans()
    (record,) = [r for r in caplog.records if r.name == "taskflow.access"]
    trace_id = format(span.context.trace_id, "032x")
    assert record.trace_id == trace_id  # type: ignore[attr-defined]
    assert record.getMessage().endswith(f"trace={trace_id}")


def test_without_tracing_no_span_is_made_and_the_log_line_is_as_before(
    flow: Taskflow, exporter: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(create_app(flow))
    with caplog.at_level(logging.INFO, logger="taskflow.access"):
        client.simulate_get("/_health")
    (record,) = [r for r in caplog.records if r.name == "taskflow.access"]
    assert "trace=" not in record.getMessage()
    assert not hasattr(record, "trace_id")
    assert exporter.get_finished_spans() == ()
