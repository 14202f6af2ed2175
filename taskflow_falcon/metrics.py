"""Prometheus metrics (SPEC §17): the process's counters, the store's gauges, and their
exposition, shared by the HTTP app (``metrics_http.py``) and by ``taskflow relay`` and
``taskflow timers`` (``--metrics-port``).

The counters are made once per process, when first needed. Under ``taskflow serve`` they
use prometheus_client's multiprocess mode: each worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (the server makes it before the workers fork and removes it at
exit), and a scrape, answered by any worker, sums the files of every worker, dead ones
included, so a counter never goes back when a worker restarts.

The gauges come from the store (``application/gauges.py``), read when scraped and kept a
few seconds; each process reads its own. No label takes a value from a request: routes are
templates, statuses come from the store's per-status counts (the most used few, the rest as
one), hook patterns are the host's registrations, and kinds and outcomes are fixed lists.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from taskflow_core import Taskflow
from taskflow_core.application import observing
from taskflow_core.application.gauges import DEFAULT_TTL, CachedGauges, Gauges, read_gauges
from taskflow_core.domain.clock import utc

logger = logging.getLogger(__name__)

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The text format every Prometheus reads (version 2 and 3); no name here needs the escaping
# of 1.0.0, which recent prometheus_client versions name "latest".
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Request durations: from a cached read (a few ms) to a long-poll of the feed (30 s).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


class ProcessMetrics:
    """The counters of this process, with the children of the fixed label values made once
    (a child looked up per increment costs a lock and a dict lookup of label tuples)."""

    def __init__(self) -> None:
        # prometheus_client picks where values live (memory, or multiprocess files) when it
        # is first imported; `taskflow serve` sets the directory later, before the fork.
        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "taskflow_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "code"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "taskflow_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=DURATION_BUCKETS,
            registry=self.registry,
        )
        events = Counter(
            "taskflow_events",
            "Events committed, by kind.",
            ["kind"],
            registry=self.registry,
        )
        self.events = {kind: events.labels(kind) for kind in observing.EVENT_KINDS}
        self.hook_failures = Counter(
            "taskflow_hook_failures",
            "Hooks that raised an error other than a TaskflowError, by registered pattern.",
            ["pattern"],
            registry=self.registry,
        )
        deliveries = Counter(
            "taskflow_webhook_deliveries",
            "Webhook delivery attempts recorded, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.deliveries = {
            outcome: deliveries.labels(outcome)
            for outcome in (observing.DELIVERED, observing.RETRIED, observing.FAILED)
        }

    def counters(self) -> Collector:
        """What a scrape reads the counters from: every worker's files in multiprocess mode,
        else this process's registry."""
        if multiprocess():
            return MultiProcessCollector(None)  # type: ignore[no-untyped-call]
        return self.registry


_lock = threading.Lock()
_metrics: ProcessMetrics | None = None
_observer: MetricsObserver | None = None


def process_metrics() -> ProcessMetrics:
    global _metrics
    with _lock:
        if _metrics is None:
            _metrics = ProcessMetrics()
        return _metrics


class MetricsObserver:
    """The core's ``Observer`` (application/observing.py), counting into this process's
    counters."""

    def __init__(self, metrics: ProcessMetrics) -> None:
        self._metrics = metrics

    def events_committed(self, kinds: Sequence[str]) -> None:
        for kind in kinds:
            self._metrics.events[kind].inc()

    def hook_failed(self, pattern: str) -> None:
        self._metrics.hook_failures.labels(pattern).inc()

    def delivery_finished(self, outcome: str) -> None:
        self._metrics.deliveries[outcome].inc()


def observe(flow: Taskflow) -> ProcessMetrics:
    """Count ``flow``'s events, hook failures and deliveries in this process's counters
    (once however often called: the observer is one per process)."""
    global _observer
    metrics = process_metrics()
    with _lock:
        if _observer is None:
            _observer = MetricsObserver(metrics)
        observer = _observer
    flow.observe(observer)
    return metrics


class StoreGauges(Collector):
    """The store's gauges of one flow, read when collected and kept ``ttl`` seconds. A
    store that cannot be read leaves them out of that scrape (the counters still answer),
    and says why in the log."""

    def __init__(self, flow: Taskflow, ttl: float = DEFAULT_TTL) -> None:
        self._cache = CachedGauges(lambda: read_gauges(flow.store, utc(flow.clock())), ttl)

    def collect(self) -> Iterable[Metric]:
        try:
            gauges = self._cache.get()
        except Exception as exc:
            logger.warning("metrics: the store's gauges could not be read: %s", exc)
            return []
        return gauge_families(gauges)


def gauge_families(gauges: Gauges) -> list[Metric]:
    cases = GaugeMetricFamily(
        "taskflow_cases",
        'Cases of each status (the most used 50; the rest summed as status "_other").',
        labels=["status"],
    )
    for status, count in gauges.cases:
        cases.add_metric([status], count)
    return [
        cases,
        GaugeMetricFamily(
            "taskflow_deadlines_overdue",
            "Deadlines overdue: past due, running or marked overdue.",
            value=gauges.deadlines_overdue,
        ),
        GaugeMetricFamily(
            "taskflow_timers_due",
            "Timers whose time to fire has come, not fired yet.",
            value=gauges.timers_due,
        ),
        GaugeMetricFamily(
            "taskflow_webhook_pending",
            "Webhook deliveries pending.",
            value=gauges.webhooks_pending,
        ),
        GaugeMetricFamily(
            "taskflow_feed_oldest_pending_seconds",
            "Seconds the oldest committed change has waited for its place in the change feed.",
            value=gauges.feed_oldest_pending,
        ),
    ]


class _Counters(Collector):
    def __init__(self, metrics: ProcessMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self._metrics.counters().collect()


def exposition(flow: Taskflow, ttl: float = DEFAULT_TTL) -> CollectorRegistry:
    """A registry of everything a scrape of ``flow``'s process answers: the counters (every
    worker's, in multiprocess mode) and ``flow``'s store gauges. Counts ``flow``'s events."""
    metrics = observe(flow)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Counters(metrics))
    registry.register(StoreGauges(flow, ttl))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    """The Prometheus text format of ``registry``."""
    return generate_latest(registry)
