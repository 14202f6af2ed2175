"""The declared workflow over HTTP, on every store: 409 and 403 bodies, ``GET /_workflow``,
and ``nextStatuses`` for the signed-in user."""

from __future__ import annotations

import logging
from typing import Any

import falcon.testing
import pytest

from taskflow_core import HookEvent, Taskflow
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import as_user, assert_json_error, create_case, snapshot

Client = falcon.testing.TestClient


def is_olga(case: dict[str, Any], user: Any) -> bool:
    return user is not None and user["profile"]["id"] == "olga"


@pytest.fixture
def review(flow: Taskflow) -> Taskflow:
    return (
        flow.transition("new", "submitted")
        .transition("submitted", "approved", guard=is_olga)
        .transition("submitted", "rejected")
        .transition("*", "withdrawn")
    )


@pytest.fixture
def submitted(client: Client, review: Taskflow) -> dict[str, Any]:
    case = create_case(client)
    result = client.simulate_put(
        f"/{case['id']}/status", json={"status": "submitted"}, headers=as_user("alice")
    )
    assert result.status_code == 200, result.text
    return result.json["data"]  # type: ignore[no-any-return]


def put_status(client: Client, case: dict[str, Any], status: str, user: str) -> Any:
    return client.simulate_put(
        f"/{case['id']}/status", json={"status": status}, headers=as_user(user)
    )


class TestRefusals:
    def test_undeclared_change_answers_409_with_the_allowed_statuses_sorted(
        self, client: Client, submitted: dict[str, Any]
    ) -> None:
        before = snapshot(client)

        body = assert_json_error(put_status(client, submitted, "new", "olga"), 409)

        assert body["errors"] == {"status": ["approved", "rejected", "withdrawn"]}
        assert snapshot(client) == before

    def test_409_names_only_what_the_requesting_user_may_do(
        self, client: Client, submitted: dict[str, Any]
    ) -> None:
        body = assert_json_error(put_status(client, submitted, "new", "alice"), 409)

        assert body["errors"] == {"status": ["rejected", "withdrawn"]}

    def test_guarded_change_answers_403_to_a_user_the_guard_refuses(
        self, client: Client, submitted: dict[str, Any]
    ) -> None:
        before = snapshot(client)

        body = assert_json_error(put_status(client, submitted, "approved", "alice"), 403)

        assert "errors" not in body
        assert snapshot(client) == before
        assert put_status(client, submitted, "approved", "olga").status_code == 200

    def test_hook_making_an_undeclared_change_answers_409_and_leaves_nothing(
        self, client: Client, review: Taskflow
    ) -> None:
        def skip_review(event: HookEvent) -> None:
            event.patch({"skipped": True})
            event.set_status("approved")  # new -> approved is declared nowhere

        review.hook("create", skip_review)

        body = assert_json_error(
            client.simulate_post("/", json={"a": 1}, headers=as_user("olga")), 409
        )

        assert body["errors"] == {"status": ["submitted", "withdrawn"]}
        assert snapshot(client) == []

    def test_raising_guard_answers_a_generic_500_and_changes_nothing(
        self,
        client: Client,
        review: Taskflow,
        submitted: dict[str, Any],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        def broken(case: dict[str, Any], user: Any) -> bool:
            raise KeyError("secret detail")

        review.transition("submitted", "on-hold", guard=broken)
        before = snapshot(client)

        with caplog.at_level(logging.ERROR):
            result = put_status(client, submitted, "on-hold", "olga")

        body = assert_json_error(result, 500)
        assert "secret" not in result.text
        assert body == {"message": "Internal server error"}
        assert snapshot(client) == before


class TestWorkflowRoute:
    def test_get_workflow_answers_the_declared_statuses_and_transitions(
        self, client: Client, review: Taskflow
    ) -> None:
        result = client.simulate_get("/_workflow")

        assert result.status_code == 200
        assert result.json == {
            "data": {
                "statuses": ["approved", "new", "rejected", "submitted", "withdrawn"],
                "transitions": [
                    {"from": "new", "to": "submitted", "guarded": False},
                    {"from": "submitted", "to": "approved", "guarded": True},
                    {"from": "submitted", "to": "rejected", "guarded": False},
                    {"from": "*", "to": "withdrawn", "guarded": False},
                ],
            }
        }

    def test_get_workflow_with_nothing_declared_is_empty(self, client: Client) -> None:
        result = client.simulate_get("/_workflow")

        assert result.status_code == 200
        assert result.json == {"data": {"statuses": [], "transitions": []}}

    def test_case_routes_beside_it_still_answer_as_before(
        self, client: Client, submitted: dict[str, Any]
    ) -> None:
        assert client.simulate_get(f"/{submitted['id']}").status_code == 200
        assert_json_error(client.simulate_put("/_workflow/status", json={"status": "a"}), 404)
        assert_json_error(client.simulate_get("/_workflow/comment/x"), 405)


class TestNextStatuses:
    def test_get_shows_each_user_the_next_statuses_open_to_them(
        self, client: Client, submitted: dict[str, Any]
    ) -> None:
        def next_for(user: str) -> Any:
            return client.simulate_get(f"/{submitted['id']}", headers=as_user(user)).json["data"][
                "nextStatuses"
            ]

        assert next_for("olga") == ["approved", "rejected", "withdrawn"]
        assert next_for("alice") == ["rejected", "withdrawn"]
        assert client.simulate_get(f"/{submitted['id']}").json["data"]["nextStatuses"] == [
            "rejected",
            "withdrawn",
        ]

    def test_mutations_answer_with_the_next_statuses_after_them(
        self, client: Client, review: Taskflow
    ) -> None:
        created = client.simulate_post("/", json={}, headers=as_user("olga")).json["data"]
        case_id = created["id"]
        moved = put_status(client, created, "submitted", "olga").json["data"]
        commented = client.simulate_post(
            f"/{case_id}/comment", json={"comment": "ok"}, headers=as_user("alice")
        ).json["data"]

        assert created["nextStatuses"] == ["submitted", "withdrawn"]
        assert moved["nextStatuses"] == ["approved", "rejected", "withdrawn"]
        assert commented["nextStatuses"] == ["rejected", "withdrawn"]

    def test_list_items_carry_no_next_statuses(
        self, client: Client, submitted: dict[str, Any]
    ) -> None:
        [item] = client.simulate_get("/", headers=as_user("olga")).json["data"]

        assert item["id"] == submitted["id"]
        assert "nextStatuses" not in item

    def test_nothing_declared_answers_without_next_statuses(self, client: Client) -> None:
        case = create_case(client)

        assert "nextStatuses" not in case
        assert "nextStatuses" not in client.simulate_get(f"/{case['id']}").json["data"]
