"""``flow.access`` over HTTP (SPEC §16): a case the user may not read is 404 on every route
that names it, listings and counts hold only what the user may see, and ``feed`` decides who
reads ``/_changes``. (The rules themselves are the core's: tests/contract/test_access.py.)"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import falcon
import falcon.testing
import pytest

from taskflow_core import Taskflow
from taskflow_falcon import create_app
from tests.integration.http_support import (
    MUTATIONS,
    HeaderAuth,
    as_user,
    assert_json_error,
    create_case,
    flow,
    path_for,
    store,
)

__all__ = ["flow", "store"]

# The users: ann and amy of acme, gus of globex; ada audits (reads the feed).
ORGANISATIONS = {"ann": "acme", "amy": "acme", "gus": "globex"}


def organisation(user: Any) -> str | None:
    return None if user is None else ORGANISATIONS.get(user["profile"]["id"])


def restrict(flow: Taskflow) -> Taskflow:
    return flow.access(
        read=lambda user, case: organisation(user) == case["data"].get("org") is not None,
        scope=lambda user: {"data": {"org": organisation(user) or "-none-"}},
        feed=lambda user: user is not None and user["profile"]["id"] == "ada",
    )


@pytest.fixture
def client(flow: Taskflow) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(flow, middleware=[HeaderAuth()]))


@pytest.fixture
def acme_case(flow: Taskflow, client: falcon.testing.TestClient) -> dict[str, Any]:
    flow.deadline("decision", within=timedelta(days=10), starts=["submitted"])
    case = create_case(client, {"org": "acme", "name": "x"}, user="ann")
    client.simulate_put(f"/{case['id']}/status", json={"status": "submitted"})
    client.simulate_post(f"/{case['id']}/comment", json={"comment": "hi"}, headers=as_user("ann"))
    restrict(flow)
    found = client.simulate_get(f"/{case['id']}", headers=as_user("ann"))
    assert found.status_code == 200
    return found.json["data"]  # type: ignore[no-any-return]


READS = ["/{id}", "/{id}/timers"]
DEADLINE_ACTIONS = [
    {"action": "extend", "by": {"days": 1}, "reason": "r"},
    {"action": "remove", "reason": "r"},
    {"action": "reinstate", "reason": "r"},
]


class TestUnreadableCases:
    @pytest.mark.parametrize("who", ["gus", None])
    def test_every_route_naming_the_case_is_404(
        self, client: falcon.testing.TestClient, acme_case: dict[str, Any], who: str | None
    ) -> None:
        headers = as_user(who) if who else {}
        before = client.simulate_get(f"/{acme_case['id']}", headers=as_user("ann")).json
        missing = client.simulate_get("/00000000-0000-4000-8000-000000000000", headers=headers)
        for template in READS:
            path = path_for(template, acme_case)
            for method in ("GET", "HEAD"):
                result = client.simulate_request(method, path, headers=headers)
                assert result.status_code == 404, (method, path)
            assert client.simulate_get(path, headers=headers).json == missing.json
        for name, (method, template, body) in MUTATIONS.items():
            result = client.simulate_request(
                method, path_for(template, acme_case), json=body, headers=headers
            )
            assert_json_error(result, 404)
            assert result.json == missing.json, name
        for body in DEADLINE_ACTIONS:
            path = f"/{acme_case['id']}/deadlines/decision"
            assert_json_error(client.simulate_put(path, json=body, headers=headers), 404)
        after = client.simulate_get(f"/{acme_case['id']}", headers=as_user("ann")).json
        assert after == before

    def test_the_same_organisation_may_act(
        self, client: falcon.testing.TestClient, acme_case: dict[str, Any]
    ) -> None:
        path = f"/{acme_case['id']}/status"
        changed = client.simulate_put(path, json={"status": "open"}, headers=as_user("amy"))
        assert changed.status_code == 200
        assert changed.json["data"]["status"] == "open"


class TestScopedListings:
    def test_listings_counts_and_views_hold_only_the_users_cases(
        self, flow: Taskflow, client: falcon.testing.TestClient
    ) -> None:
        made = {
            org: [create_case(client, {"org": org})["id"] for _ in range(n)]
            for org, n in (("acme", 2), ("globex", 3))
        }
        flow.view("all")
        restrict(flow)
        listed = client.simulate_get("/", headers=as_user("ann")).json
        assert [c["id"] for c in listed["data"]] == made["acme"]
        assert listed["meta"]["count"] == 2
        counts = client.simulate_get("/_counts", params={"by": "status"}, headers=as_user("gus"))
        assert counts.json == {"data": [{"value": "new", "count": 3}], "meta": {"count": 3}}
        views = client.simulate_get("/_views", headers=as_user("gus")).json
        assert views["data"] == [{"name": "all", "title": "all", "count": 3}]
        asked = client.simulate_get("/", params={"data[org]": "globex"}, headers=as_user("ann"))
        assert asked.json == {"data": [], "meta": {"count": 0}}
        nobody = client.simulate_get("/")
        assert nobody.json == {"data": [], "meta": {"count": 0}}


class TestFeed:
    def test_access_without_feed_refuses_the_feed_even_when_turned_on(self, flow: Taskflow) -> None:
        client = falcon.testing.TestClient(create_app(flow, feed=True, middleware=[HeaderAuth()]))
        assert client.simulate_get("/_changes", headers=as_user("ada")).status_code == 200
        flow.access(read=lambda user, case: True)
        assert_json_error(client.simulate_get("/_changes", headers=as_user("ada")), 403)

    def test_the_feed_rule_decides_whatever_create_app_said(
        self, flow: Taskflow, client: falcon.testing.TestClient
    ) -> None:
        create_case(client, {"org": "acme"})
        restrict(flow)
        answer = client.simulate_get("/_changes", headers=as_user("ada"))
        assert answer.status_code == 200
        assert len(answer.json["data"]) == 1
        for who in ("ann", None):
            headers = as_user(who) if who else {}
            assert_json_error(client.simulate_get("/_changes", headers=headers), 403)
            waiting = client.simulate_get("/_changes", params={"wait": "1"}, headers=headers)
            assert_json_error(waiting, 403)
