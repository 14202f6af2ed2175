"""``GET /_changes`` on every store: the feed over HTTP, held open with ``wait``."""

from __future__ import annotations

import datetime
import threading
import time
from typing import Any

import falcon.testing
import pytest

from taskflow_core import Taskflow
from taskflow_falcon import create_app
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import as_user, assert_json_error, create_case
from tests.receiver import eventually
from tests.stores import store  # noqa: F401 (every store: these answers depend on it)

Client = falcon.testing.TestClient


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

    def test_readers_past_the_limit_are_held_a_second_at_most(self, flow: Taskflow) -> None:
        client = falcon.testing.TestClient(create_app(flow, max_waiting=1))
        took: list[float] = []

        def read() -> None:
            started = time.monotonic()
            assert feed(client, wait="4").json["data"] == []
            took.append(time.monotonic() - started)

        readers = [threading.Thread(target=read) for _ in range(2)]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(20)
        short, held = sorted(took)
        assert 1 <= short < 3
        assert 4 <= held < 8


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
    client: Client, flow: Taskflow
) -> None:
    for n in range(3):
        create_case(client, {"n": n})
    feed = eventually_all(client, 3)
    flow.prune(datetime.timedelta(0))

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
