"""``taskflow serve``'s /metrics for real: two gunicorn workers, each counting the requests
it answers in its own files, and every scrape, whichever worker answers it, summing both."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.serving import clean_env, free_port, serving, stop, taskflow_command

pytestmark = pytest.mark.e2e


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def created(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> float:
    key = (
        "taskflow_http_requests_total",
        (("code", "200"), ("method", "POST"), ("route", "/")),
    )
    return samples.get(key, 0.0)


def test_requests_counted_by_every_worker_add_up_in_each_scrape(tmp_path: Path) -> None:
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "2"]
    # The workers' directory is made under TMPDIR: here, to see it removed at exit.
    env = clean_env(TMPDIR=str(tmp_path))
    with serving(command, cwd=tmp_path, env=env, port=port) as server:
        made = list(tmp_path.glob("taskflow-metrics-*"))
        assert len(made) == 1
        before = created(scrape(server.url))
        # A connection each (urllib closes it): the kernel hands them to either worker.
        for n in range(40):
            request = urllib.request.Request(
                server.url + "/",
                data=json.dumps({"n": n}).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
        # Both workers answered some: each wrote its own file of counters.
        assert len(list(made[0].glob("counter_*.db"))) >= 2
        for _ in range(6):
            samples = scrape(server.url)
            assert created(samples) - before == 40
            events = samples[("taskflow_events_total", (("kind", "create"),))]
            assert events == 40
        # The store's gauges are read at most every 5 s per worker: within that, current.
        deadline = time.monotonic() + 12
        while scrape(server.url).get(("taskflow_cases", (("status", "new"),))) != 40:
            assert time.monotonic() < deadline, "taskflow_cases never showed the 40 cases"
            time.sleep(0.5)
        assert stop(server) == 0
    assert not made[0].exists()
    assert "Traceback" not in server.log


def test_no_metrics_leaves_the_route_out(tmp_path: Path) -> None:
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "1", "--no-metrics"]
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(server.url + "/metrics", timeout=10)
        assert refused.value.code == 404
        assert stop(server) == 0
