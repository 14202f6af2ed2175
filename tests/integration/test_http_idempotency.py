"""Idempotency-Key over HTTP, on every store: a request sent again gets the first answer
byte for byte and changes nothing; the key with another request is 422; a failure stores
nothing; keys expire after 24 hours of the flow's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import falcon
import falcon.testing
import pytest

from taskflow_core import Conflict, HookEvent, Taskflow
from taskflow_core.ports import Store
from taskflow_falcon import create_app
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import (
    MUTATIONS,
    as_user,
    assert_json_error,
    path_for,
    snapshot,
)

Client = falcon.testing.TestClient

T0 = datetime(2030, 1, 1, 12, tzinfo=UTC)


class Manual:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Manual:
    return Manual(T0)


@pytest.fixture
def flow(store: Store, clock: Manual) -> Taskflow:
    return Taskflow(store, clock=clock)


def keyed(key: str, user: str | None = "alice", **more: str) -> dict[str, str]:
    return {"Idempotency-Key": key, **(as_user(user) if user else {}), **more}


def send(
    client: Client, case: dict[str, Any], mutation: str, headers: dict[str, str]
) -> falcon.testing.Result:
    method, template, body = MUTATIONS[mutation]
    return client.simulate_request(method, path_for(template, case), json=body, headers=headers)


def case_count(client: Client) -> int:
    return int(client.simulate_get("/").json["meta"]["count"])


class TestReplays:
    def test_a_create_sent_again_answers_the_same_bytes_and_creates_nothing(
        self, client: Client
    ) -> None:
        first = client.simulate_post("/", json={"name": "once"}, headers=keyed("create-1"))
        again = client.simulate_post("/", json={"name": "once"}, headers=keyed("create-1"))

        assert first.status_code == again.status_code == 200
        assert again.content == first.content
        assert "idempotent-replayed" not in first.headers
        assert again.headers["idempotent-replayed"] == "true"
        assert again.headers["etag"] == first.headers["etag"] == '"1"'
        assert case_count(client) == 1

    @pytest.mark.parametrize("mutation", list(MUTATIONS))
    def test_a_mutation_sent_again_answers_the_same_bytes_runs_no_hook_and_logs_nothing(
        self, client: Client, flow: Taskflow, case: dict[str, Any], mutation: str
    ) -> None:
        first = send(client, case, mutation, keyed("k"))
        assert first.status_code == 200, first.text
        after_first = snapshot(client)
        ran: list[str] = []
        for name in ("update", "assign", "comment", "update-comment", "delete-comment"):
            flow.hook(f"pre-{name}", lambda e: ran.append(e.event))
            flow.hook(name, lambda e: ran.append(e.event))
        flow.hook("pre-status:*:*", lambda e: ran.append(e.event))

        again = send(client, case, mutation, keyed("k"))

        assert again.status_code == 200
        assert again.content == first.content
        assert again.headers["idempotent-replayed"] == "true"
        assert again.headers["etag"] == first.headers["etag"]
        assert ran == []
        assert snapshot(client) == after_first

    def test_the_body_is_compared_as_json_not_as_bytes(self, client: Client) -> None:
        first = client.simulate_post(
            "/", body='{"a": 1, "b": [1, 2]}', headers=keyed("json", **JSON_TYPE)
        )
        again = client.simulate_post(
            "/", body='{ "b":[1,2],\n "a":1 }', headers=keyed("json", **JSON_TYPE)
        )

        assert again.content == first.content
        assert again.headers["idempotent-replayed"] == "true"

    def test_a_replay_is_not_refused_by_the_if_match_that_was_current_the_first_time(
        self, client: Client, case: dict[str, Any]
    ) -> None:
        headers = keyed("once", **{"If-Match": f'"{case["version"]}"'})
        first = send(client, case, "PUT /{id}/status", headers)
        again = send(client, case, "PUT /{id}/status", headers)

        assert (first.status_code, again.status_code) == (200, 200)
        assert again.content == first.content

    def test_another_users_key_is_another_key(self, client: Client) -> None:
        alice = client.simulate_post("/", json={}, headers=keyed("same", "alice"))
        bob = client.simulate_post("/", json={}, headers=keyed("same", "bob"))
        anonymous = client.simulate_post("/", json={}, headers=keyed("same", None))

        assert len({r.json["data"]["id"] for r in (alice, bob, anonymous)}) == 3
        assert "idempotent-replayed" not in bob.headers

    def test_a_key_on_a_read_is_ignored(self, client: Client, case: dict[str, Any]) -> None:
        result = client.simulate_get(f"/{case['id']}", headers=keyed("read"))
        assert result.status_code == 200
        assert "idempotent-replayed" not in result.headers


class TestRefusals:
    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("PUT", "/{id}/status", {"status": "closed"}),  # another body
            ("PUT", "/{id}", {"status": "open"}),  # another path
            ("POST", "/{id}/comment", {"comment": "open"}),  # another method and path
            ("PUT", "/{id}/status?x=1", {"status": "open"}),  # another query
        ],
    )
    def test_the_key_with_another_request_is_422_and_nothing_changes(
        self, client: Client, case: dict[str, Any], method: str, path: str, body: dict[str, Any]
    ) -> None:
        first = send(client, case, "PUT /{id}/status", keyed("k"))
        assert first.status_code == 200
        before = snapshot(client)

        result = client.simulate_request(
            method, path_for(path, case), json=body, headers=keyed("k")
        )

        assert_json_error(result, 422)
        assert snapshot(client) == before

    def test_a_failed_request_stores_nothing_so_its_retry_runs(
        self, client: Client, flow: Taskflow
    ) -> None:
        failures = [Conflict("not yet")]

        def fail_once(event: HookEvent) -> None:
            if failures:
                raise failures.pop()

        flow.hook("pre-create", fail_once)
        failed = client.simulate_post("/", json={"n": 1}, headers=keyed("retry"))
        retried = client.simulate_post("/", json={"n": 1}, headers=keyed("retry"))

        assert_json_error(failed, 409)
        assert retried.status_code == 200
        assert "idempotent-replayed" not in retried.headers
        assert case_count(client) == 1

    def test_a_412_stores_nothing_either(self, client: Client, case: dict[str, Any]) -> None:
        stale = keyed("cond", **{"If-Match": '"1"'})
        assert_json_error(send(client, case, "PUT /{id}/status", stale), 412)
        current = keyed("cond", **{"If-Match": f'"{case["version"]}"'})
        assert send(client, case, "PUT /{id}/status", current).status_code == 200

    @pytest.mark.parametrize("key", ["", "x" * 256, "bell\x07", "caf\u00e9", "del\x7f"])
    def test_an_invalid_key_is_400_and_nothing_happens(self, client: Client, key: str) -> None:
        result = client.simulate_post("/", json={}, headers=keyed(key))
        body = assert_json_error(result, 400)
        assert "Idempotency-Key" in body["message"]
        assert case_count(client) == 0

    def test_a_key_of_255_characters_is_accepted(self, client: Client) -> None:
        key = "k" * 255
        first = client.simulate_post("/", json={}, headers=keyed(key))
        again = client.simulate_post("/", json={}, headers=keyed(key))
        assert again.content == first.content


class TestExpiry:
    def test_within_24_hours_the_key_is_replayed(self, client: Client, clock: Manual) -> None:
        first = client.simulate_post("/", json={}, headers=keyed("day"))
        clock.at = T0 + timedelta(hours=23, minutes=59)
        again = client.simulate_post("/", json={}, headers=keyed("day"))

        assert again.content == first.content
        assert case_count(client) == 1

    def test_after_24_hours_the_key_is_forgotten_and_the_request_runs_anew(
        self, client: Client, clock: Manual
    ) -> None:
        first = client.simulate_post("/", json={}, headers=keyed("day"))
        clock.at = T0 + timedelta(hours=24)
        again = client.simulate_post("/", json={}, headers=keyed("day"))

        assert again.status_code == 200
        assert "idempotent-replayed" not in again.headers
        assert again.json["data"]["id"] != first.json["data"]["id"]
        assert case_count(client) == 2


JSON_TYPE = {"Content-Type": "application/json"}


class SubjectOnly:
    """A host's authentication that names users by ``sub`` alone, with no ``profile.id``."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        name = req.get_header("X-Sub")
        if name:
            req.context.user = {"sub": name}


class TestWhoseKeys:
    def test_a_user_without_an_id_gets_400_for_a_key_and_never_anothers_answer(
        self, flow: Taskflow
    ) -> None:
        client = falcon.testing.TestClient(create_app(flow, middleware=[SubjectOnly()]))
        headers = {"Idempotency-Key": "k", "X-Sub": "xavier"}
        xaviers = client.simulate_post("/", json={"for": "xavier"}, headers=headers)
        body = assert_json_error(xaviers, 400)
        assert body["errors"] == {"idempotency_key": "no user id"}
        yvonnes = client.simulate_post(
            "/", json={"for": "xavier"}, headers={**headers, "X-Sub": "yvonne"}
        )
        assert_json_error(yvonnes, 400)
        assert "idempotent-replayed" not in yvonnes.headers
        assert client.simulate_get("/").json["meta"]["count"] == 0

    def test_with_actor_id_naming_them_each_user_has_keys_of_their_own(self, store: Store) -> None:
        flow = Taskflow(store, actor_id=lambda user: user and user["sub"])
        client = falcon.testing.TestClient(create_app(flow, middleware=[SubjectOnly()]))
        headers = {"Idempotency-Key": "k", "X-Sub": "xavier"}
        xaviers = client.simulate_post("/", json={"n": 1}, headers=headers)
        yvonnes = client.simulate_post("/", json={"n": 1}, headers={**headers, "X-Sub": "yvonne"})
        assert (xaviers.status_code, yvonnes.status_code) == (200, 200)
        assert "idempotent-replayed" not in yvonnes.headers
        assert xaviers.json["data"]["id"] != yvonnes.json["data"]["id"]
        replayed = client.simulate_post("/", json={"n": 1}, headers=headers)
        assert replayed.headers["idempotent-replayed"] == "true"
        assert replayed.json == xaviers.json
