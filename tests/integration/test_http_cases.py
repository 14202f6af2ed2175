"""Every endpoint answering as it should, over HTTP, on every store."""

from __future__ import annotations

import datetime
import time
from typing import Any

import falcon.testing
import pytest

from taskflow_core import HookEvent, Taskflow
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import as_user, create_case

Client = falcon.testing.TestClient


def comments_of(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in case["activityLog"] if e["eventName"] == "comment"]


class TestCreate:
    def test_post_creates_a_new_case_with_the_body_as_its_data(self, client: Client) -> None:
        result = client.simulate_post("/", json={"name": "Smith", "n": [1, 2]})

        assert result.status_code == 200
        assert result.headers["content-type"].startswith("application/json")
        assert set(result.json) == {"data"}
        case = result.json["data"]
        assert case["status"] == "new"
        assert case["data"] == {"name": "Smith", "n": [1, 2]}
        assert case["assignedTo"] is None
        assert [e["eventName"] for e in case["activityLog"]] == ["create"]

    def test_created_case_is_read_back_by_its_id(self, client: Client) -> None:
        case = create_case(client, {"a": 1})

        result = client.simulate_get(f"/{case['id']}")

        assert result.status_code == 200
        assert result.json["data"] == case

    def test_create_hooks_receive_the_request_body_as_payload(
        self, client: Client, flow: Taskflow
    ) -> None:
        seen: list[dict[str, Any]] = []
        flow.hook("pre-create", lambda event: seen.append(dict(event.meta)))

        client.simulate_post("/", json={"a": 1}, headers=as_user("alice"))

        assert seen[0]["payload"] == {"a": 1}
        assert seen[0]["data"] == {"a": 1}
        assert seen[0]["user"]["profile"]["id"] == "alice"

    def test_redirected_create_answers_the_existing_case_and_creates_none(
        self, client: Client, flow: Taskflow
    ) -> None:
        existing = create_case(client, {"ref": "A1"})
        flow.hook("pre-create", lambda event: event.redirect(existing["id"]))

        result = client.simulate_post("/", json={"ref": "A1"})

        assert result.status_code == 200
        assert result.json["data"]["id"] == existing["id"]
        assert client.simulate_get("/").json["meta"]["count"] == 1


class TestRead:
    def test_get_shows_the_activity_log_newest_first(self, client: Client) -> None:
        case = create_case(client)
        client.simulate_put(f"/{case['id']}/status", json={"status": "open"})

        log = client.simulate_get(f"/{case['id']}").json["data"]["activityLog"]

        assert [e["eventName"] for e in log] == ["status:new:open", "create"]

    def test_a_trailing_slash_reaches_the_same_resource(self, client: Client) -> None:
        case = create_case(client)

        assert client.simulate_get(f"/{case['id']}/").json["data"]["id"] == case["id"]

    def test_an_uppercase_id_finds_the_case(self, client: Client) -> None:
        case = create_case(client)

        result = client.simulate_get(f"/{case['id'].upper()}")

        assert result.status_code == 200
        assert result.json["data"]["id"] == case["id"]


class TestUpdate:
    def test_put_deep_merges_data(self, client: Client) -> None:
        case = create_case(client, {"a": {"b": 1, "c": 2}, "list": [1, 2], "keep": True})

        result = client.simulate_put(f"/{case['id']}", json={"data": {"a": {"b": 9}, "list": [3]}})

        assert result.status_code == 200
        assert result.json["data"]["data"] == {"a": {"b": 9, "c": 2}, "list": [3, 2], "keep": True}
        assert result.json["data"]["activityLog"][0]["eventName"] == "update"

    def test_update_hooks_receive_the_whole_body_with_its_meta(
        self, client: Client, flow: Taskflow
    ) -> None:
        case = create_case(client)
        payloads: list[Any] = []
        flow.hook("update", lambda event: payloads.append(event.meta["payload"]))
        body = {"data": {"x": 1}, "meta": {"comment": "why"}}

        result = client.simulate_put(f"/{case['id']}", json=body)

        assert payloads == [body]
        assert result.json["data"]["activityLog"][0]["comment"] == "why"

    def test_update_moves_updated_at(self, client: Client) -> None:
        case = create_case(client)
        time.sleep(0.002)  # timestamps are written in milliseconds

        updated = client.simulate_put(f"/{case['id']}", json={"data": {"x": 1}}).json["data"]

        assert updated["updatedAt"] > case["updatedAt"]

    @pytest.mark.parametrize("flag", ["true", "True", "1"])
    def test_preserve_updated_at_leaves_updated_at_alone(self, client: Client, flag: str) -> None:
        case = create_case(client)

        result = client.simulate_put(
            f"/{case['id']}", json={"data": {"x": 1}}, params={"preserveUpdatedAt": flag}
        )

        assert result.json["data"]["data"] == {"name": "a case", "x": 1}
        assert result.json["data"]["updatedAt"] == case["updatedAt"]


class TestStatus:
    def test_put_status_changes_it_and_fires_the_status_event(
        self, client: Client, flow: Taskflow
    ) -> None:
        events: list[str] = []
        flow.hook("status:*:*", lambda event: events.append(event.event))
        case = create_case(client)

        result = client.simulate_put(f"/{case['id']}/status", json={"status": "in-review"})

        assert result.status_code == 200
        assert result.json["data"]["status"] == "in-review"
        assert events == ["status:new:in-review"]

    def test_setting_the_same_status_is_still_an_event(self, client: Client) -> None:
        case = create_case(client)

        result = client.simulate_put(f"/{case['id']}/status", json={"status": "new"})

        assert result.json["data"]["activityLog"][0]["eventName"] == "status:new:new"

    def test_answer_shows_what_hooks_did_after_the_change(
        self, client: Client, flow: Taskflow
    ) -> None:
        @flow.hook("status:*:submitted")
        def auto_assign(event: HookEvent) -> None:
            event.assign("reviewer")

        case = create_case(client)
        result = client.simulate_put(f"/{case['id']}/status", json={"status": "submitted"})

        assert result.json["data"]["assignedTo"] == "reviewer"


class TestAssign:
    def test_assigning_sets_assigned_to_without_moving_updated_at(self, client: Client) -> None:
        case = create_case(client)

        result = client.simulate_put(f"/{case['id']}/assign", json={"profileId": "bob"})

        assert result.status_code == 200
        assert result.json["data"]["assignedTo"] == "bob"
        assert result.json["data"]["updatedAt"] == case["updatedAt"]
        assert result.json["data"]["activityLog"][0]["eventName"] == "assign"

    def test_null_profile_id_unassigns(self, client: Client) -> None:
        case = create_case(client)
        client.simulate_put(f"/{case['id']}/assign", json={"profileId": "bob"})

        result = client.simulate_put(f"/{case['id']}/assign", json={"profileId": None})

        assert result.json["data"]["assignedTo"] is None

    def test_assigning_the_current_assignee_again_writes_no_event(self, client: Client) -> None:
        case = create_case(client)
        client.simulate_put(f"/{case['id']}/assign", json={"profileId": "bob"})

        again = client.simulate_put(f"/{case['id']}/assign", json={"profileId": "bob"})

        assert again.status_code == 200
        log = again.json["data"]["activityLog"]
        assert [e["eventName"] for e in log] == ["assign", "create"]


class TestTheUser:
    def test_the_middlewares_user_is_the_activity_logs_changed_by(self, client: Client) -> None:
        case = create_case(client, user="carol")
        client.simulate_put(
            f"/{case['id']}/status", json={"status": "open"}, headers=as_user("dave")
        )

        log = client.simulate_get(f"/{case['id']}").json["data"]["activityLog"]

        assert [(e["eventName"], e["changedBy"]) for e in log] == [
            ("status:new:open", "dave"),
            ("create", "carol"),
        ]

    def test_without_a_user_changed_by_is_null(self, client: Client) -> None:
        result = client.simulate_post("/", json={})

        assert result.json["data"]["activityLog"][0]["changedBy"] is None

    def test_decorators_receive_the_user(self, client: Client, flow: Taskflow) -> None:
        flow.decorate(lambda case, user: {**case, "viewer": user and user["name"]})
        case = create_case(client)

        result = client.simulate_get(f"/{case['id']}", headers=as_user("erin"))

        assert result.json["data"]["viewer"] == "erin"

    def test_dates_a_decorator_adds_are_rendered_as_iso_strings(
        self, client: Client, flow: Taskflow
    ) -> None:
        flow.decorate(lambda case, user: {**case, "due": datetime.date(2030, 1, 31)})
        case = create_case(client)

        assert client.simulate_get(f"/{case['id']}").json["data"]["due"] == "2030-01-31"


class TestRegisteredAfterCreateApp:
    def test_hooks_and_decorators_added_later_apply_to_the_next_request(
        self, client: Client, flow: Taskflow
    ) -> None:
        create_case(client)
        flow.hook("create", lambda event: event.patch({"hooked": True}))
        flow.decorate(lambda case, user: {**case, "decorated": True})

        result = client.simulate_post("/", json={})

        assert result.json["data"]["data"] == {"hooked": True}
        assert result.json["data"]["decorated"] is True

    def test_decorator_with_list_false_applies_to_single_cases_only(
        self, client: Client, flow: Taskflow
    ) -> None:
        flow.decorate(lambda case, user: {**case, "everywhere": True})
        flow.decorate(lambda case, user: {**case, "single": True}, list=False)
        case = create_case(client)

        one = client.simulate_get(f"/{case['id']}").json["data"]
        [listed] = client.simulate_get("/").json["data"]

        assert one["everywhere"]
        assert one["single"]
        assert listed["everywhere"]
        assert "single" not in listed
