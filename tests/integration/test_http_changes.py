"""``GET /_changes`` on every store: the feed over HTTP, held open with ``wait``."""

from __future__ import annotations

import datetime
import threading
import time
from typing import Any

import falcon.testing
import pytest

from taskflow_core import Taskflow
from taskflow_core.ports import Store
from taskflow_falcon import create_app
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import (
    HeaderAuth,
    as_user,
    assert_json_error,
    create_case,
)
from tests.receiver import eventually
from tests.stores import store  # noqa: F401 (every store: these answers depend on it)

Client = falcon.testing.TestClient


@pytest.fixture
def client(flow: Taskflow) -> falcon.testing.TestClient:
    """The feed turned on, as a host does to serve it (it is off by default)."""
    return falcon.testing.TestClient(create_app(flow, feed=True, middleware=[HeaderAuth()]))


def feed(client: falcon.testing.TestClient, **params: str) -> falcon.testing.Result:
    return client.simulate_get("/_changes", params=params)


def settled(client: falcon.testing.TestClient, count: int, **params: str) -> dict[str, Any]:
    """The feed's answer once it serves ``count`` items (see tests/receiver.eventually)."""
    found: dict[str, Any] = {}

    def enough() -> bool:
        nonlocal found
        found = feed(client, **params).json
        return len(found["data"]) >= count

    eventually(enough)
    return found


class TestOffUnlessTurnedOn:
    def hide_ssn(self, flow: Taskflow) -> None:
        def hide(case: dict[str, Any], user: Any) -> dict[str, Any]:
            if not (user and user.get("admin")):
                case["data"].pop("ssn", None)
            return case

        flow.decorate(hide)

    @pytest.mark.parametrize("headers", [{}, {"X-User": "mallory"}])
    def test_by_default_the_feed_is_403_and_says_how_to_turn_it_on(
        self, flow: Taskflow, headers: dict[str, str]
    ) -> None:
        self.hide_ssn(flow)
        client = falcon.testing.TestClient(create_app(flow, middleware=[HeaderAuth()]))
        case = create_case(client, {"ssn": "078-05-1120", "email": "ann@example.com"})
        client.simulate_post(f"/{case['id']}/comment", json={"comment": "private words"})
        assert "ssn" not in client.simulate_get(f"/{case['id']}", headers=headers).json["data"]

        for params in ({}, {"wait": "1"}, {"limit": "bad"}):
            result = client.simulate_get("/_changes", params=params, headers=headers)
            body = assert_json_error(result, 403)
            assert "feed=True" in body["message"]
            assert "--feed" in body["message"]
            for secret in ("078-05-1120", "ann@example.com", "private words"):
                assert secret not in result.text

    def test_turned_on_the_feed_answers(self, flow: Taskflow) -> None:
        client = falcon.testing.TestClient(create_app(flow, feed=True))
        create_case(client)
        assert settled(client, 1)["data"][0]["entry"]["eventName"] == "create"

    def test_from_python_the_feed_is_always_there(self, flow: Taskflow) -> None:
        falcon.testing.TestClient(create_app(flow)).simulate_post("/", json={"a": 1})
        assert flow.changes(wait=10)["data"][0]["entry"]["eventName"] == "create"


class TestReading:
    def test_the_feed_lists_each_entry_with_its_cursor_and_case(
        self, client: falcon.testing.TestClient
    ) -> None:
        case = create_case(client)
        client.simulate_put(
            f"/{case['id']}/status", json={"status": "open"}, headers=as_user("bob")
        )
        body = settled(client, 2)
        shown = client.simulate_get(f"/{case['id']}").json["data"]["activityLog"]
        assert [item["entry"] for item in body["data"]] == shown[::-1]
        assert [item["caseId"] for item in body["data"]] == [case["id"], case["id"]]
        assert body["meta"] == {"next": body["data"][-1]["cursor"]}

    def test_after_and_limit_page_through_the_feed(self, client: falcon.testing.TestClient) -> None:
        for _ in range(3):
            create_case(client)
        everything = settled(client, 3)["data"]
        first = feed(client, limit="2").json
        rest = feed(client, after=first["meta"]["next"], limit="2").json
        assert first["data"] + rest["data"] == everything
        empty = feed(client, after=rest["meta"]["next"]).json
        assert empty == {"data": [], "meta": {"next": rest["meta"]["next"]}}

    def test_an_empty_feed_has_no_next_cursor(self, client: falcon.testing.TestClient) -> None:
        result = feed(client)
        assert result.status_code == 200
        assert result.json == {"data": [], "meta": {"next": None}}


class TestWaiting:
    def test_wait_answers_as_soon_as_an_entry_commits(
        self, client: falcon.testing.TestClient
    ) -> None:
        case = create_case(client)
        cursor = settled(client, 1)["meta"]["next"]
        path = f"/{case['id']}/comment"
        threading.Timer(0.3, client.simulate_post, (path,), {"json": {"comment": "hi"}}).start()
        started = time.monotonic()
        body = feed(client, after=cursor, wait="20").json
        assert [item["entry"]["eventName"] for item in body["data"]] == ["comment"]
        assert 0.25 <= time.monotonic() - started < 10

    def test_wait_answers_an_empty_page_when_nothing_commits_in_time(
        self, client: falcon.testing.TestClient
    ) -> None:
        started = time.monotonic()
        result = feed(client, wait="0.5")
        assert result.json == {"data": [], "meta": {"next": None}}
        assert 0.5 <= time.monotonic() - started < 5

    def test_without_parking_readers_past_the_limit_are_answered_at_once_with_retry_after(
        self, flow: Taskflow
    ) -> None:
        # falcon's test client, like any WSGI server but taskflow serve's worker, offers no
        # parking: each held reader holds a thread, so past max_waiting none is held.
        client = falcon.testing.TestClient(create_app(flow, feed=True, max_waiting=1))
        answers: list[tuple[float, falcon.testing.Result]] = []

        def read() -> None:
            started = time.monotonic()
            result = feed(client, wait="4")
            answers.append((time.monotonic() - started, result))

        readers = [threading.Thread(target=read) for _ in range(3)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(20)
        answers.sort(key=lambda answer: answer[0])
        (quick, first), (quick_too, second), (held, third) = answers
        assert quick < 1
        assert quick_too < 1
        assert 4 <= held < 8
        for result in (first, second):
            assert result.json["data"] == []
            assert result.headers["retry-after"] == "1"
        assert "retry-after" not in third.headers

    def test_by_default_a_process_without_parking_holds_two_readers(self, flow: Taskflow) -> None:
        client = falcon.testing.TestClient(create_app(flow, feed=True))
        took: list[float] = []

        def read() -> None:
            started = time.monotonic()
            feed(client, wait="3")
            took.append(time.monotonic() - started)

        readers = [threading.Thread(target=read) for _ in range(4)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(20)
        assert [t >= 3 for t in sorted(took)] == [False, False, True, True]

    def test_past_the_limit_a_reader_still_gets_what_is_there(
        self, client: falcon.testing.TestClient, flow: Taskflow
    ) -> None:
        create_case(client)
        settled(client, 1)
        limited = falcon.testing.TestClient(create_app(flow, feed=True, max_waiting=0))
        result = feed(limited, wait="10")
        assert [i["entry"]["eventName"] for i in result.json["data"]] == ["create"]
        assert "retry-after" not in result.headers


class TestBadInput:
    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"after": ""}, "after"),
            ({"after": "garbage"}, "after"),
            ({"after": "MC4x,MC4y"}, "after"),
            ({"limit": "0"}, "limit"),
            ({"limit": "1001"}, "limit"),
            ({"limit": "ten"}, "limit"),
            ({"limit": ""}, "limit"),
            ({"limit": "1e2"}, "limit"),
            ({"wait": "31"}, "wait"),
            ({"wait": "-1"}, "wait"),
            ({"wait": "nan"}, "wait"),
            ({"wait": "soon"}, "wait"),
        ],
    )
    def test_a_malformed_parameter_is_a_400_naming_it(
        self, client: falcon.testing.TestClient, params: dict[str, str], field: str
    ) -> None:
        body = assert_json_error(feed(client, **params), 400)
        assert body["errors"] == {field: "invalid"}

    def test_a_parameter_given_twice_is_a_400(self, client: falcon.testing.TestClient) -> None:
        result = client.simulate_get("/_changes", query_string="limit=1&limit=2")
        assert assert_json_error(result, 400)["errors"] == {"limit": "invalid"}

    def test_the_bounds_are_accepted(self, client: falcon.testing.TestClient) -> None:
        assert feed(client, limit="1000", wait="0").status_code == 200
        assert feed(client, limit="1", wait="0.01").status_code == 200


def test_a_cursor_into_pruned_changes_answers_410_naming_where_to_read_on(
    store: Store,  # noqa: F811 (the fixture)
) -> None:
    now = [datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=2)]
    flow = Taskflow(store, clock=lambda: now[0])
    client = falcon.testing.TestClient(create_app(flow, feed=True))
    for n in range(3):
        create_case(client, {"n": n})
    feed = eventually_all(client, 3)
    now[0] += datetime.timedelta(days=2)
    assert flow.prune(datetime.timedelta(days=1))["changes"] == 2  # the newest stays

    result = client.simulate_get("/_changes", params={"after": feed[0]})

    body = assert_json_error(result, 410)
    assert body["errors"] == {"after": "pruned", "restartAfter": feed[1]}
    assert f"after={feed[1]}" in body["message"]
    again = client.simulate_get("/_changes", params={"after": feed[1]}).json
    assert [item["cursor"] for item in again["data"]] == feed[2:]


def eventually_all(client: Client, count: int) -> list[str]:
    found: list[str] = []

    def enough() -> bool:
        found[:] = [i["cursor"] for i in client.simulate_get("/_changes").json["data"]]
        return len(found) >= count

    eventually(enough)
    return found
