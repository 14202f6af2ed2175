"""Deadlines over HTTP (SPEC §14): ``PUT /{id}/deadlines/{name}`` and ``deadlines`` in
answers, on every store (the answers read the store's deadline rows)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import falcon.testing
import pytest

from taskflow_core import BusinessDays, Taskflow
from taskflow_core.ports import Store
from taskflow_falcon import create_app
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import HeaderAuth, as_user, assert_json_error
from tests.stores import store  # noqa: F401 (every store: these answers depend on it)

Client = falcon.testing.TestClient
MONDAY = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def flow(store: Store) -> Taskflow:  # noqa: F811 (the store imported above, every store)
    return Taskflow(store, clock=lambda: MONDAY).deadline(
        "decision", within=BusinessDays(10), starts=["submitted"], stops=["granted"]
    )


@pytest.fixture
def client(flow: Taskflow) -> Client:
    return falcon.testing.TestClient(create_app(flow, middleware=[HeaderAuth()]))


@pytest.fixture
def submitted(client: Client) -> dict[str, Any]:
    case = client.simulate_post("/", json={"kind": "dog"}).json["data"]
    answer = client.simulate_put(f"/{case['id']}/status", json={"status": "submitted"})
    return answer.json["data"]  # type: ignore[no-any-return]


def put(client: Client, case: dict[str, Any], body: Any, name: str = "decision") -> Any:
    return client.simulate_put(f"/{case['id']}/deadlines/{name}", json=body, headers=as_user("ann"))


class TestAnswers:
    def test_every_case_answer_carries_its_deadlines(
        self, client: Client, submitted: dict[str, Any]
    ) -> None:
        [running] = submitted["deadlines"]
        assert running["state"] == "running"
        assert running["due"].startswith("2030-01-22T00:00:00")
        assert client.simulate_get(f"/{submitted['id']}").json["data"]["deadlines"] == [running]
        assert client.simulate_get("/").json["data"][0]["deadlines"] == [running]

    def test_without_deadlines_the_answer_is_as_before(self, flow: Taskflow) -> None:
        client = falcon.testing.TestClient(create_app(Taskflow(flow.store)))
        case = client.simulate_post("/", json={}).json["data"]
        assert "deadlines" not in case
        assert "deadlines" not in client.simulate_get("/").json["data"][0]


class TestActions:
    def test_extend_by_business_days(self, client: Client, submitted: dict[str, Any]) -> None:
        result = put(
            client, submitted, {"action": "extend", "by": {"businessDays": 5}, "reason": "vet"}
        )
        assert result.status_code == 200, result.text
        case = result.json["data"]
        assert case["deadlines"][0]["due"].startswith("2030-01-29T00:00:00")
        # (The clock stands still: entries are found by name, not by place.)
        entry = next(e for e in case["activityLog"] if e["eventName"].startswith("deadline:"))
        assert entry["eventName"] == "deadline:decision:extend"
        assert entry["event"]["meta"]["reason"] == "vet"
        assert entry["changedBy"] == "ann"
        assert result.headers["etag"] == f'"{case["version"]}"'

    def test_extend_by_days_and_until(self, client: Client, submitted: dict[str, Any]) -> None:
        by_days = put(client, submitted, {"action": "extend", "by": {"days": 3}, "reason": "r"})
        assert by_days.json["data"]["deadlines"][0]["due"].startswith("2030-01-25T00:00:00")
        until = "2030-02-01T12:00:00+01:00"
        answer = put(client, submitted, {"action": "extend", "until": until, "reason": "r"})
        assert answer.json["data"]["deadlines"][0]["due"].startswith("2030-02-01T11:00:00")

    def test_remove_then_reinstate(self, client: Client, submitted: dict[str, Any]) -> None:
        removed = put(client, submitted, {"action": "remove", "reason": "withdrawn"})
        assert removed.json["data"]["deadlines"][0]["state"] == "removed"
        back = put(client, submitted, {"action": "reinstate", "reason": "not withdrawn"})
        assert back.json["data"]["deadlines"] == submitted["deadlines"]


class TestBadInput:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"action": "extend", "by": {"days": 1}}, "reason"),
            ({"action": "extend", "by": {"days": 1}, "reason": ""}, "reason"),
            ({"action": "stretch", "reason": "r"}, "action"),
            ({"reason": "r"}, "action"),
            ({"action": "extend", "reason": "r"}, "by"),
            (
                {
                    "action": "extend",
                    "by": {"days": 1},
                    "until": "2031-01-01T00:00Z",
                    "reason": "r",
                },
                "by",
            ),
            ({"action": "extend", "by": {"weeks": 1}, "reason": "r"}, "by"),
            ({"action": "extend", "by": {"businessDays": -1}, "reason": "r"}, "by"),
            ({"action": "extend", "by": {"businessDays": 1.5}, "reason": "r"}, "by"),
            ({"action": "extend", "until": "2031-01-01T00:00:00", "reason": "r"}, "until"),
            ({"action": "extend", "until": "next week", "reason": "r"}, "until"),
            ({"action": "extend", "until": "2029-01-01T00:00:00Z", "reason": "r"}, "until"),
            ({"action": "remove", "by": {"days": 1}, "reason": "r"}, "by"),
        ],
    )
    def test_400_names_the_field_and_changes_nothing(
        self, client: Client, submitted: dict[str, Any], body: dict[str, Any], field: str
    ) -> None:
        error = assert_json_error(put(client, submitted, body), 400)
        assert field in error["errors"]
        after = client.simulate_get(f"/{submitted['id']}").json["data"]
        assert after["version"] == submitted["version"]

    def test_an_unknown_deadline_is_404(self, client: Client, submitted: dict[str, Any]) -> None:
        assert_json_error(put(client, submitted, {"action": "remove", "reason": "r"}, "nope"), 404)
        assert_json_error(put(client, submitted, {"action": "remove", "reason": "r"}, "Bad!"), 404)

    def test_an_unknown_case_is_404(self, client: Client) -> None:
        result = client.simulate_put(
            "/00000000-0000-4000-8000-000000000000/deadlines/decision",
            json={"action": "remove", "reason": "r"},
        )
        assert_json_error(result, 404)

    def test_an_action_the_state_refuses_is_409(
        self, client: Client, submitted: dict[str, Any]
    ) -> None:
        body = assert_json_error(
            put(client, submitted, {"action": "reinstate", "reason": "r"}), 409
        )
        assert body["errors"] == {"state": "running"}

    def test_a_body_that_is_not_an_object_is_400(
        self, client: Client, submitted: dict[str, Any]
    ) -> None:
        assert_json_error(put(client, submitted, ["remove"]), 400)


class TestListing:
    def test_overdue_and_sort_by_due_from_the_query_string(
        self, client: Client, flow: Taskflow, submitted: dict[str, Any]
    ) -> None:
        other = client.simulate_post("/", json={}).json["data"]
        listed = client.simulate_get("/?sort[column]=due&due[to]=2030-02-01")
        assert listed.status_code == 200, listed.text
        assert [c["id"] for c in listed.json["data"]] == [submitted["id"]]
        assert client.simulate_get("/?overdue=true").json["data"] == []
        ordered = client.simulate_get("/?sort[column]=due").json["data"]
        assert [c["id"] for c in ordered] == [submitted["id"], other["id"]]

    def test_a_malformed_due_is_400(self, client: Client) -> None:
        error = assert_json_error(client.simulate_get("/?due[to]=tomorrow"), 400)
        assert error["errors"] == {"due[to]": "invalid"}
        assert_json_error(client.simulate_get("/?overdue=maybe"), 400)


def test_the_openapi_document_names_the_deadline_parameters(client: Client) -> None:
    listing = client.simulate_get("/openapi.json").json["paths"]["/"]["get"]["parameters"]
    named = {p["name"]: p for p in listing}
    assert {"overdue", "due"} <= set(named)
    assert "due" in named["sort"]["schema"]["properties"]["column"]["enum"]
