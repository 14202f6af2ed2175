"""``Client.changes``: the change feed followed with long polls, resumed from its cursor after
the connection is lost, nothing skipped and nothing repeated."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from taskflow_client import Client
from taskflow_client.feed import follow
from taskflow_client.transport import Backoff
from tests.client.conftest import QUICK
from tests.e2e.serving import Server
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e


def head(client: Client) -> str | None:
    """The feed's cursor now: where a follower that wants only what comes next starts."""
    after = None
    while True:
        page = client.changes_page(after, 1000)
        if not page["data"]:
            return after
        after = page["meta"]["next"]


def take(items: Iterator[dict[str, Any]], count: int, into: list[dict[str, Any]]) -> None:
    for item in items:
        into.append(item)
        if len(into) == count:
            return


def test_changes_follows_the_feed_across_a_lost_connection(served: Server, client: Client) -> None:
    start = head(client)
    with TcpProxy(("127.0.0.1", urlsplit(served.url).port or 80)) as proxy:
        remote = Client(f"http://127.0.0.1:{proxy.port}", backoff=QUICK)
        seen: list[dict[str, Any]] = []
        reader = threading.Thread(
            target=take, args=(remote.changes(after=start, wait=2), 3, seen), daemon=True
        )
        reader.start()
        first = client.create({"n": 1})
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        # The network goes away under the waiting reader, and comes back.
        proxy.stop()
        second = client.create({"n": 2})
        time.sleep(0.3)
        proxy.start()
        client.comment(second["id"], "after the outage")
        reader.join(20)
        remote.close()
    ours = [(i["caseId"], i["entry"]["eventName"]) for i in seen]
    assert ours == [(first["id"], "create"), (second["id"], "create"), (second["id"], "comment")]


def test_changes_page_is_the_flows_page(client: Client) -> None:
    case = client.create({})
    page = client.changes_page(head_before(client, case["id"]), 10)
    assert page["data"][0]["caseId"] == case["id"]
    assert page["meta"]["next"] == page["data"][-1]["cursor"]


def head_before(client: Client, case_id: str) -> str | None:
    after = None
    while True:
        page = client.changes_page(after, 1000)
        for item in page["data"]:
            if item["caseId"] == case_id:
                return after
            after = item["cursor"]


class TestFollowing:
    """``follow``'s loop with pages given by the test: resuming at the same cursor."""

    def test_a_failed_poll_is_asked_again_from_the_same_cursor(self) -> None:
        from taskflow_client import TransportError

        asked: list[str | None] = []
        pages = [
            TransportError("cut"),
            ({"data": [{"cursor": "a"}, {"cursor": "b"}], "meta": {"next": "b"}}, 0.0),
            TransportError("cut again"),
            ({"data": [{"cursor": "c"}], "meta": {"next": "c"}}, 0.0),
        ]

        def page(after: str | None, limit: int, wait: float) -> tuple[dict[str, Any], float]:
            asked.append(after)
            found = pages.pop(0)
            if isinstance(found, Exception):
                raise found
            return found

        slept: list[float] = []
        items = follow(page, "start", 5, Backoff(0.1, 1.0), slept.append)
        got = [next(items)["cursor"] for _ in range(3)]
        assert got == ["a", "b", "c"]
        assert asked == ["start", "start", "b", "b"]
        assert len(slept) == 2
        assert all(0 < s <= 1.0 for s in slept)

    def test_an_error_of_the_request_is_raised(self) -> None:
        from taskflow_core import InvalidRequest

        def page(after: str | None, limit: int, wait: float) -> tuple[dict[str, Any], float]:
            raise InvalidRequest("after is not a cursor of this feed")

        with pytest.raises(InvalidRequest):
            next(follow(page, "bogus", 5, QUICK))


def test_an_empty_page_with_retry_after_is_waited_out() -> None:
    answers = [
        ({"data": [], "meta": {"next": None}}, 1.0),
        ({"data": [{"cursor": "a"}], "meta": {"next": "a"}}, 0.0),
    ]
    slept: list[float] = []
    items = follow(lambda after, limit, wait: answers.pop(0), None, 5, QUICK, slept.append)
    assert next(items)["cursor"] == "a"
    assert slept == [1.0]
