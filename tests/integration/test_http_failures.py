"""Failures answer JSON, never HTML or an exception's text; a failed request leaves nothing."""

from __future__ import annotations

import logging
import random
import string
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import falcon
import falcon.testing
import pytest

from taskflow_core import (
    Conflict,
    Forbidden,
    HookEvent,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    Taskflow,
    TaskflowError,
)
from taskflow_core.errors import StoreError
from taskflow_falcon import create_app
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import (
    HeaderAuth,
    as_user,
    assert_json_error,
    create_case,
    path_for,
    snapshot,
)
from tests.stores import store  # noqa: F401 (every store: these answers depend on it)

Client = falcon.testing.TestClient


def raising(error: BaseException) -> Callable[[HookEvent], None]:
    def hook(event: HookEvent) -> None:
        raise error

    return hook


class TestHookErrors:
    @pytest.mark.parametrize(
        ("error", "status"),
        [
            (NotFound("no such thing"), 404),
            (InvalidRequest("bad data", {"name": "required"}), 400),
            (Forbidden("not yours"), 403),
            (Conflict("already taken"), 409),
            (PreconditionFailed("stale"), 412),
            (TaskflowError("plain"), 400),
        ],
        ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
    )
    def test_taskflow_error_in_a_hook_answers_its_status_and_message(
        self, client: Client, flow: Taskflow, error: TaskflowError, status: int
    ) -> None:
        flow.hook("pre-create", raising(error))

        body = assert_json_error(client.simulate_post("/", json={"a": 1}), status)

        assert body["message"] == error.message
        assert body.get("errors") == error.errors
        assert client.simulate_get("/").json["meta"]["count"] == 0

    @pytest.mark.parametrize(
        ("method", "template", "body", "pattern"),
        [
            ("POST", "/", {"a": 1}, "create"),
            ("PUT", "/{id}", {"data": {"x": 1}}, "update"),
            ("PUT", "/{id}/status", {"status": "open"}, "status:*:*"),
            ("PUT", "/{id}/assign", {"profileId": "bob"}, "assign"),
            ("POST", "/{id}/comment", {"comment": "more"}, "comment"),
            ("PUT", "/{id}/comment/{comment}", {"comment": "edit"}, "update-comment"),
            ("DELETE", "/{id}/comment/{comment}", None, "delete-comment"),
        ],
    )
    def test_unexpected_error_is_a_generic_500_and_the_request_rolls_back(
        self,
        client: Client,
        flow: Taskflow,
        case: dict[str, Any],
        method: str,
        template: str,
        body: Any,
        pattern: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        other = create_case(client, {"other": True})
        before = snapshot(client)

        def touch_then_fail(event: HookEvent) -> None:
            # Changes made before the failure must vanish with it (the guard stops the
            # patch's own update event from recursing).
            if event.id != other["id"]:
                event.find(other["id"]).patch({"touched": True})
            raise RuntimeError("SELECT secret FROM internals")

        flow.hook(pattern, touch_then_fail)
        with caplog.at_level(logging.ERROR, logger="taskflow_falcon.errors"):
            result = client.simulate_request(
                method, path_for(template, case), json=body, headers=as_user("alice")
            )

        assert result.status_code == 500
        assert result.json == {"message": "Internal server error"}
        assert "secret" not in result.text
        assert "Traceback" not in result.text
        [record] = [r for r in caplog.records if r.name == "taskflow_falcon.errors"]
        assert record.exc_info is not None
        assert "SELECT secret" in str(record.exc_info[1])
        assert snapshot(client) == before

    def test_redirect_outside_pre_create_is_a_500(
        self, client: Client, flow: Taskflow, case: dict[str, Any]
    ) -> None:
        flow.hook("status:*:*", lambda event: event.redirect(case["id"]))
        before = snapshot(client)

        result = client.simulate_put(f"/{case['id']}/status", json={"status": "open"})

        assert result.json == {"message": "Internal server error"}
        assert result.status_code == 500
        assert snapshot(client) == before

    def test_failing_decorator_is_a_generic_500(self, client: Client, flow: Taskflow) -> None:
        case = create_case(client)
        flow.decorate(raising(KeyError("profile")))  # type: ignore[arg-type]

        result = client.simulate_get(f"/{case['id']}")

        assert result.status_code == 500
        assert result.json == {"message": "Internal server error"}


class TestBodiesThatAreNotJson:
    def test_decorator_adding_a_value_json_cannot_hold_is_a_json_500(
        self, client: Client, flow: Taskflow
    ) -> None:
        case = create_case(client)
        flow.decorate(lambda case, user: {**case, "tags": {"a", "b"}})

        for path in (f"/{case['id']}", "/"):
            result = client.simulate_get(path)

            assert result.status_code == 500
            assert result.json == {"message": "Internal server error"}

    def test_field_errors_that_are_not_json_are_dropped_and_the_message_kept(
        self, client: Client, flow: Taskflow
    ) -> None:
        flow.hook("pre-create", raising(InvalidRequest("bad name", {"name": object()})))

        result = client.simulate_post("/", json={})

        assert result.status_code == 400
        assert result.json == {"message": "bad name"}


class TestFalconErrorsAreJson:
    @pytest.mark.parametrize("accept", ["application/json", "application/xml", "text/html", "*/*"])
    def test_unknown_route_is_a_json_404_whatever_the_client_accepts(
        self, client: Client, case: dict[str, Any], accept: str
    ) -> None:
        result = client.simulate_get(f"/{case['id']}/nothing/here", headers={"Accept": accept})

        assert_json_error(result, 404)

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("DELETE", "/"),
            ("PATCH", "/{id}/status"),
            ("POST", "/{id}/status"),
            ("GET", "/{id}/assign"),
        ],
    )
    def test_wrong_method_is_a_json_405_with_allow(
        self, client: Client, case: dict[str, Any], method: str, path: str
    ) -> None:
        result = client.simulate_request(
            method, path.format(id=case["id"]), headers={"Accept": "text/html"}
        )

        assert_json_error(result, 405)
        assert result.headers["allow"]

    def test_middleware_error_is_json_too(self, flow: Taskflow) -> None:
        class Broken(HeaderAuth):
            def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
                raise ValueError("token parser exploded")

        client = falcon.testing.TestClient(create_app(flow, middleware=[Broken()]))

        result = client.simulate_get("/")

        assert result.status_code == 500
        assert result.json == {"message": "Internal server error"}


def long_text(length: int) -> str:
    """Letters PostgreSQL cannot compress below its btree limit (repeated ones it could)."""
    letters = string.ascii_letters
    return "".join(random.Random(length).choice(letters) for _ in range(length))


class TestLengthsBoundedWhereTheyEnter:
    """Values longer than a store can index are the request's fault (400), never an outage
    (503 with Retry-After, which a client following docs/retries.md retries forever)."""

    def test_a_user_id_of_thousands_of_characters_is_400_and_nothing_changes(
        self, flow: Taskflow, client: Client
    ) -> None:
        before = snapshot(client)
        result = client.simulate_post("/", json={"a": 1}, headers=as_user(long_text(3000)))
        body = assert_json_error(result, 400)
        assert "user" in body["message"]
        assert "retry-after" not in result.headers
        assert snapshot(client) == before
        assert flow.changes()["data"] == []

    def test_a_user_id_of_the_longest_length_is_kept(self, client: Client) -> None:
        actor = long_text(255)
        case = create_case(client, user=actor)
        assert (
            client.simulate_get(f"/{case['id']}").json["data"]["activityLog"][0]["changedBy"]
            == actor
        )

    def test_a_hook_setting_a_timer_of_500000_letters_is_400_and_nothing_changes(
        self, flow: Taskflow, client: Client, case: dict[str, Any]
    ) -> None:
        name = long_text(500_000)
        flow.hook("comment", lambda event: event.set_timer(name, timedelta(hours=1)))
        before = snapshot(client)
        result = client.simulate_post(
            f"/{case['id']}/comment", json={"comment": "remind me"}, headers=as_user("alice")
        )
        assert_json_error(result, 400)
        assert "retry-after" not in result.headers
        assert snapshot(client) == before
        assert flow.timers(case["id"]) == []

    def test_a_store_error_that_is_no_outage_is_a_generic_500_without_retry_after(
        self, flow: Taskflow, client: Client, case: dict[str, Any]
    ) -> None:
        flow.hook("comment", raising(StoreError("index row size 3016 exceeds btree maximum")))
        result = client.simulate_post(
            f"/{case['id']}/comment", json={"comment": "x"}, headers=as_user("alice")
        )
        assert result.status_code == 500
        assert result.json == {"message": "Internal server error"}
        assert "retry-after" not in result.headers
