"""The Grafana dashboard and the Prometheus alert rules in docs/ (docs/operating.md): they
load, have the structure Grafana and Prometheus read, and ask only for metrics /metrics
answers with."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore
from taskflow_falcon import create_app

DOCS = Path(__file__).resolve().parents[2] / "docs"
METRIC_NAME = re.compile(r"\btaskflow_[a-z_]+\b")


@pytest.fixture(scope="module")
def answered() -> set[str]:
    """Every sample name /metrics answers with, once each kind of thing has happened."""
    flow = Taskflow(MemoryStore())
    flow.hook("status:*:broken", lambda event: 1 / 0)
    client = falcon.testing.TestClient(create_app(flow))
    case = client.simulate_post("/", json={}).json["data"]
    client.simulate_put(f"/{case['id']}/status", json={"status": "broken"})
    text = client.simulate_get("/metrics").text
    return {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }


def names_in(expression: str) -> set[str]:
    return set(METRIC_NAME.findall(expression))


def test_the_dashboard_loads_and_each_panel_queries_metrics_that_exist(
    answered: set[str],
) -> None:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    assert dashboard["title"]
    assert dashboard["uid"]
    assert isinstance(dashboard["schemaVersion"], int)
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    queried: set[str] = set()
    for panel in panels:
        assert panel["title"]
        assert panel["type"] == "timeseries"
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
        assert panel["targets"]
        for target in panel["targets"]:
            names = names_in(target["expr"])
            assert names, f"{panel['title']}: no taskflow metric in {target['expr']!r}"
            assert names <= answered, f"{panel['title']}: {names - answered}"
            queried |= names
    # Every metric SPEC §17 names has a panel.
    assert family_names(queried) == family_names(answered)


def family_names(samples: set[str]) -> set[str]:
    return {
        re.sub(r"_(bucket|count|sum)$", "", name)
        for name in samples
        if name.startswith("taskflow_") and not name.endswith("_created")
    }


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((DOCS / "prometheus-alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_the_alert_rules_parse_and_name_metrics_that_exist(answered: set[str]) -> None:
    found = rules()
    assert len({rule["alert"] for rule in found}) == len(found)
    for rule in found:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}
        assert rule["labels"]["severity"] in ("page", "warn", "info")
        assert rule["annotations"]["summary"]
        names = names_in(rule["expr"])
        assert names, f"{rule['alert']}: no taskflow metric"
        assert names <= answered, f"{rule['alert']}: {names - answered}"


def test_deploying_shows_the_feed_rule_as_the_rules_file_has_it() -> None:
    feed = next(rule for rule in rules() if rule["alert"] == "TaskflowFeedHeldBack")
    assert feed["expr"] in (DOCS / "deploying.md").read_text()
