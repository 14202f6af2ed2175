"""``taskflow timers`` and ``taskflow relay`` answer /metrics on ``--metrics-port``: the
counters of their own work, and the store's gauges."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from taskflow_compose import store_from_url
from taskflow_core import Taskflow
from tests.e2e.serving import clean_env, free_port, start_logged, taskflow_command

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None  # not listening yet
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def wait_for(port: int, wanted: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> Samples:
    deadline = time.monotonic() + 20
    samples: Samples | None = None
    while time.monotonic() < deadline:
        samples = scrape(port)
        if samples is not None and all(samples.get(k) == v for k, v in wanted.items()):
            return samples
        time.sleep(0.3)
    pytest.fail(f"never saw {wanted}; last scrape: {samples}")


def test_timers_counts_what_it_fires(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'timers.db'}"
    flow = Taskflow(store_from_url(url))
    flow.migrate()
    flow.hook("create", lambda event: event.set_timer("soon", timedelta(0)))
    flow.create({})
    flow.create({})
    flow.store.close()
    port = free_port()
    command = [*taskflow_command(), "timers", "--dsn", url, "--interval", "0.2"]
    process = start_logged([*command, "--metrics-port", str(port)], tmp_path, clean_env(), "timers")
    try:
        wait_for(
            port,
            {
                ("taskflow_events_total", (("kind", "timer"),)): 2.0,
                ("taskflow_timers_due", ()): 0.0,
                ("taskflow_cases", (("status", "new"),)): 2.0,
            },
        )
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_relay_counts_its_attempts_and_the_pending_deliveries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'relay.db'}"
    flow = Taskflow(store_from_url(url))
    flow.migrate()
    # Nothing listens there: every attempt fails and waits for its retry.
    flow.webhook(f"http://127.0.0.1:{free_port()}/hook", events=["create"])
    flow.create({})
    flow.store.close()
    port = free_port()
    command = [*taskflow_command(), "relay", "--dsn", url, "--timeout", "1"]
    process = start_logged([*command, "--metrics-port", str(port)], tmp_path, clean_env(), "relay")
    try:
        samples = wait_for(port, {("taskflow_webhook_pending", ()): 1.0})
        deadline = time.monotonic() + 20
        retried = ("taskflow_webhook_deliveries_total", (("outcome", "retried"),))
        while samples.get(retried, 0.0) < 1:
            assert time.monotonic() < deadline, samples
            time.sleep(0.3)
            samples = scrape(port) or {}
    finally:
        process.terminate()
        process.wait(timeout=20)
