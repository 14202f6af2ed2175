"""``GET /metrics`` (SPEC §17) over HTTP: the names and labels SPEC gives, route templates
rather than paths, and a number of series no client can grow.

The counters are the process's (prometheus_client's registry), shared by every app the
tests make, so each test reads how much they moved, never their values.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

import falcon.testing
import pytest
from prometheus_client.parser import text_string_to_metric_families

from taskflow_core import Taskflow
from taskflow_core.application.gauges import MAX_STATUSES, OTHER_STATUSES
from taskflow_core.memory import MemoryStore
from taskflow_falcon import create_app
from taskflow_falcon.metrics_http import UNMATCHED

Client = falcon.testing.TestClient
Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]

# Every name SPEC §17 gives, as the text format writes them.
SPEC_NAMES = {
    "taskflow_http_requests_total",
    "taskflow_http_request_duration_seconds_bucket",
    "taskflow_http_request_duration_seconds_count",
    "taskflow_http_request_duration_seconds_sum",
    "taskflow_events_total",
    "taskflow_hook_failures_total",
    "taskflow_cases",
    "taskflow_deadlines_overdue",
    "taskflow_timers_due",
    "taskflow_webhook_deliveries_total",
    "taskflow_webhook_pending",
    "taskflow_feed_oldest_pending_seconds",
}


@pytest.fixture
def flow() -> Taskflow:
    return Taskflow(MemoryStore())


@pytest.fixture
def client(flow: Taskflow) -> Client:
    return falcon.testing.TestClient(create_app(flow))


def scrape(client: Client) -> Samples:
    result = client.simulate_get("/metrics")
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = defaultdict(dict)
    for family in text_string_to_metric_families(result.text):
        for sample in family.samples:
            samples[sample.name][tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def requests(samples: Samples, method: str, route: str, code: str) -> float:
    labels = (("code", code), ("method", method), ("route", route))
    return samples["taskflow_http_requests_total"].get(labels, 0.0)


def test_answers_every_name_spec_gives_and_no_other(client: Client, flow: Taskflow) -> None:
    flow.hook("status:*:broken", lambda event: 1 / 0)
    case = client.simulate_post("/", json={}).json["data"]
    assert (
        client.simulate_put(f"/{case['id']}/status", json={"status": "broken"}).status_code == 500
    )
    names = {
        name
        for name in scrape(client)
        if not name.endswith("_created") and name.startswith("taskflow_")
    }
    assert names == SPEC_NAMES


def test_requests_are_counted_by_method_route_template_and_code(
    client: Client, flow: Taskflow
) -> None:
    before = scrape(client)
    case = client.simulate_post("/", json={"a": 1}).json["data"]
    client.simulate_put(f"/{case['id']}/status", json={"status": "open"})
    client.simulate_put(f"/{case['id']}/status", json={"status": "Not A Status"})
    commented = client.simulate_post(f"/{case['id']}/comments", json={"comment": "hi"})
    comment_id = commented.json["data"]["activityLog"][0]["id"]
    client.simulate_delete(f"/{case['id']}/comments/{comment_id}")
    client.simulate_get(f"/{uuid.uuid4()}")
    client.simulate_get("/no/such/path/here")
    after = scrape(client)

    def moved(method: str, route: str, code: str) -> float:
        return requests(after, method, route, code) - requests(before, method, route, code)

    assert moved("POST", "/", "200") == 1
    assert moved("PUT", "/{id}/status", "200") == 1
    assert moved("PUT", "/{id}/status", "400") == 1
    assert moved("POST", "/{id}/comments", "200") == 1
    assert moved("DELETE", "/{id}/comments/{comment_id}", "403") == 1  # not its author
    assert moved("GET", "/{id}", "404") == 1
    assert moved("GET", UNMATCHED, "404") == 1
    durations = "taskflow_http_request_duration_seconds_count"
    key = (("method", "PUT"), ("route", "/{id}/status"))
    assert after[durations][key] - before[durations].get(key, 0.0) == 2
    events = after["taskflow_events_total"]
    assert events[(("kind", "create"),)] - before["taskflow_events_total"][(("kind", "create"),)]


def test_events_of_a_flow_served_by_two_apps_are_counted_once(flow: Taskflow) -> None:
    first, second = Client(create_app(flow)), Client(create_app(flow))
    key = (("kind", "create"),)
    before = scrape(first)["taskflow_events_total"][key]
    second.simulate_post("/", json={})
    assert scrape(first)["taskflow_events_total"][key] - before == 1


def test_metrics_false_leaves_the_route_and_the_counting_out(flow: Taskflow) -> None:
    watching = Client(create_app(Taskflow(MemoryStore())))
    quiet = Client(create_app(flow, metrics=False))
    before = scrape(watching)
    assert quiet.simulate_get("/metrics").status_code == 404
    quiet.simulate_post("/", json={})
    after = scrape(watching)

    def served(samples: Samples) -> dict[tuple[tuple[str, str], ...], float]:
        counted = samples["taskflow_http_requests_total"]
        return {k: v for k, v in counted.items() if ("route", "/metrics") not in k}

    assert served(after) == served(before)
    assert after["taskflow_events_total"] == before["taskflow_events_total"]


def test_ten_thousand_distinct_paths_and_statuses_add_a_bounded_number_of_series(
    client: Client,
) -> None:
    def series(samples: Samples) -> int:
        return sum(len(by_labels) for by_labels in samples.values())

    # 150 cases, each left in a status of its own: more statuses than the gauge shows. Made
    # first: the gauges are read at a scrape and kept a few seconds (a scrape right after
    # the first would show them as they were).
    sent = 0
    letters = "abcdefghijklmnopqrstuvwxyz"
    for n in range(150):
        case = client.simulate_post("/", json={}).json["data"]
        status = f"status-{letters[n // 26]}{letters[n % 26]}"
        client.simulate_put(f"/{case['id']}/status", json={"status": status})
        sent += 2
    first = scrape(client)
    before = series(first)
    for n in range(6000):
        client.simulate_get(f"/x-{n}/nothing/{n}/here")
        sent += 1
    for _ in range(2800):
        client.simulate_get(f"/{uuid.uuid4()}")
        sent += 1
    for n in range(900):
        client.simulate_put(f"/{uuid.uuid4()}/status", json={"status": f"gone-{n:03d}"})
        sent += 1
    assert sent >= 10_000

    samples = scrape(client)
    # What these requests could add: a few (method, route, code) and (method, route) series
    # with their buckets, and the capped statuses; not one per path or per status.
    assert series(samples) - before < 250
    # The counters are the process's: other tests' apps may have counted routes of their own.
    routes = {dict(labels)["route"] for labels in samples["taskflow_http_requests_total"]}
    routes -= {dict(labels)["route"] for labels in first["taskflow_http_requests_total"]}
    templates = {route.uri_template.replace("{case_id}", "{id}") for route in _routes(client)}
    assert routes <= templates | {UNMATCHED}
    cases = samples["taskflow_cases"]
    assert len(cases) == MAX_STATUSES
    assert cases[(("status", OTHER_STATUSES),)] == 150 - (MAX_STATUSES - 1)
    assert sum(cases.values()) == 150


def _routes(client: Client) -> list[falcon.routing.CompiledRouterNode]:
    found = []
    pending = list(client.app._router._roots)  # type: ignore[attr-defined]
    while pending:
        node = pending.pop()
        if node.resource is not None:
            found.append(node)
        pending.extend(node.children)
    return found
