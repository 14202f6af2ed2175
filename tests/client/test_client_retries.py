"""Retries through a network that loses answers: the request reaches ``taskflow serve`` and
is carried out, the answer is lost on the way back (tests/support/tcp_proxy.py), and the
client's retry under the same key gets the first answer, so the change happens once."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from taskflow_client import Client, TransportError
from tests.client.conftest import QUICK
from tests.e2e.serving import Server
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e


@pytest.fixture
def proxy(served: Server) -> Iterator[TcpProxy]:
    with TcpProxy(("127.0.0.1", urlsplit(served.url).port or 80)) as started:
        yield started


@pytest.fixture
def through(proxy: TcpProxy) -> Iterator[Client]:
    with Client(f"http://127.0.0.1:{proxy.port}", backoff=QUICK) as remote:
        yield remote


def test_a_create_whose_answer_is_lost_happens_once(
    through: Client, client: Client, proxy: TcpProxy, tag: str
) -> None:
    proxy.drop_answers(2)
    case = through.create({"tag": tag})
    assert proxy.dropped == 2
    listed = client.list({"data": {"tag": tag}})
    assert [c["id"] for c in listed["data"]] == [case["id"]]
    assert [e["eventName"] for e in client.get(case["id"])["activityLog"]] == ["create"]


def test_a_comment_whose_answer_is_lost_is_posted_once(
    through: Client, client: Client, proxy: TcpProxy
) -> None:
    case = client.create({})
    proxy.drop_answers(1)
    through.comment(case["id"], "once", expected_version=case["version"])
    entries = client.get(case["id"])["activityLog"]
    assert [e["eventName"] for e in entries] == ["comment", "create"]


def test_a_conditional_change_retried_gets_its_own_answer_not_a_412(
    through: Client, client: Client, proxy: TcpProxy
) -> None:
    # The first attempt moved the case on to version 2; the retry, still expecting 1, is
    # answered from the key before the version is checked.
    case = client.create({})
    proxy.drop_answers(1)
    moved = through.set_status(case["id"], "submitted", expected_version=1)
    assert (moved["status"], moved["version"]) == ("submitted", 2)
    assert client.get(case["id"])["version"] == 2


def test_losing_more_answers_than_the_retries_raises_and_still_creates_once(
    proxy: TcpProxy, client: Client, tag: str
) -> None:
    proxy.drop_answers(10)
    with (
        Client(f"http://127.0.0.1:{proxy.port}", retries=2, backoff=QUICK) as remote,
        pytest.raises(TransportError, match="after 3 attempts"),
    ):
        remote.create({"tag": tag})
    assert proxy.dropped == 3
    proxy.drop_answers(0)
    assert client.list({"data": {"tag": tag}})["meta"]["count"] == 1
