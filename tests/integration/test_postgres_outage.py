"""PostgreSQL going away and coming back, behind a TCP proxy the test cuts: the HTTP API answers
503 with Retry-After quickly while it is away, rolls back what was under way, and serves again
as soon as it is back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import falcon.testing
import psycopg
import pytest

from taskflow_core import Taskflow
from taskflow_core.domain.events import HookEvent
from taskflow_falcon import create_app
from taskflow_postgres import PostgresStore
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

# What the finding asked for: each answer during an outage within a few seconds, and the
# first request after the database returns served within a second.
OUTAGE_ANSWER_SECONDS = 5.0
RECOVERY_SECONDS = 1.0


@pytest.fixture
def store(postgres_dsn: str, postgres_proxy: TcpProxy) -> Iterator[PostgresStore]:
    store = PostgresStore(postgres_dsn, host="127.0.0.1", port=postgres_proxy.port, max_size=4)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def flow(store: PostgresStore) -> Taskflow:
    return Taskflow(store)


@pytest.fixture
def client(flow: Taskflow) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(flow))


def timed(request: Any) -> tuple[falcon.testing.Result, float]:
    started = time.monotonic()
    result = request()
    return result, time.monotonic() - started


def assert_unavailable(result: falcon.testing.Result, proxy: TcpProxy) -> None:
    assert result.status_code == 503, result.text
    assert int(result.headers["Retry-After"]) > 0
    assert set(result.json) == {"message"}
    # Generic: no host, port or driver text reaches the client.
    message = result.json["message"].lower()
    for leak in ("127.0.0.1", str(proxy.port), "connection", "psycopg", "refused"):
        assert leak not in message


def count_rows(postgres_dsn: str) -> tuple[int, int]:
    """How many cases and activity entries the database holds, read past the postgres_proxy."""
    with psycopg.connect(postgres_dsn) as conn:
        row = conn.execute(
            "select (select count(*) from cases), (select count(*) from activity_log)"
        ).fetchone()
    assert row is not None
    return row[0], row[1]


class TestWhileTheDatabaseIsAway:
    # The outage is noticed either by a statement on a connection used moments ago, or by
    # the check of a connection that sat idle for over a second.
    @pytest.mark.parametrize("idle_before", [0.0, 1.5], ids=["busy", "idle"])
    def test_every_request_answers_503_with_retry_after_within_seconds(
        self, client: falcon.testing.TestClient, postgres_proxy: TcpProxy, idle_before: float
    ) -> None:
        case_id = client.simulate_post("/", json={"a": 1}).json["data"]["id"]
        postgres_proxy.stop()
        time.sleep(idle_before)

        requests = [
            lambda: client.simulate_get(f"/{case_id}"),
            lambda: client.simulate_post("/", json={"b": 2}),
            lambda: client.simulate_get("/"),
            lambda: client.simulate_put(f"/{case_id}/status", json={"status": "open"}),
            lambda: client.simulate_post(f"/{case_id}/comment", json={"comment": "hi"}),
        ]
        for request in requests * 2:
            result, seconds = timed(request)
            assert_unavailable(result, postgres_proxy)
            assert seconds < OUTAGE_ANSWER_SECONDS

    def test_the_first_request_after_the_database_returns_is_served_within_a_second(
        self, client: falcon.testing.TestClient, postgres_proxy: TcpProxy
    ) -> None:
        case_id = client.simulate_post("/", json={"a": 1}).json["data"]["id"]
        postgres_proxy.stop()
        for _ in range(3):
            assert_unavailable(client.simulate_get(f"/{case_id}"), postgres_proxy)
        # Long enough for psycopg_pool's reconnection backoff to have grown past a second.
        time.sleep(3)
        assert_unavailable(client.simulate_get(f"/{case_id}"), postgres_proxy)

        postgres_proxy.start()
        back = time.monotonic()
        result = client.simulate_put(f"/{case_id}/status", json={"status": "open"})
        assert result.status_code == 200, result.text
        assert time.monotonic() - back < RECOVERY_SECONDS
        assert client.simulate_get(f"/{case_id}").json["data"]["status"] == "open"

    def test_a_request_under_way_when_the_database_goes_answers_503_and_leaves_nothing(
        self,
        client: falcon.testing.TestClient,
        flow: Taskflow,
        postgres_proxy: TcpProxy,
        postgres_dsn: str,
    ) -> None:
        written = threading.Event()
        cut = threading.Event()

        # Runs after the case and its first activity entry are written, before the commit.
        @flow.hook("create")
        def wait_for_the_cut(event: HookEvent) -> None:
            written.set()
            assert cut.wait(10)

        answers: list[tuple[falcon.testing.Result, float]] = []
        request = threading.Thread(
            target=lambda: answers.append(timed(lambda: client.simulate_post("/", json={"x": 1})))
        )
        request.start()
        assert written.wait(10)
        postgres_proxy.stop()
        cut.set()
        request.join(10)

        [(result, seconds)] = answers
        assert_unavailable(result, postgres_proxy)
        assert seconds < OUTAGE_ANSWER_SECONDS
        assert count_rows(postgres_dsn) == (0, 0)

        postgres_proxy.start()
        assert client.simulate_get("/").json == {"data": [], "meta": {"count": 0}}

    def test_a_store_started_while_the_database_is_away_fails_fast_then_serves(
        self, postgres_dsn: str, postgres_proxy: TcpProxy
    ) -> None:
        PostgresStore(postgres_dsn).migrate()
        postgres_proxy.stop()
        store = PostgresStore(postgres_dsn, host="127.0.0.1", port=postgres_proxy.port)
        client = falcon.testing.TestClient(create_app(Taskflow(store)))
        try:
            for _ in range(3):
                result, seconds = timed(lambda: client.simulate_get("/"))
                assert_unavailable(result, postgres_proxy)
                assert seconds < OUTAGE_ANSWER_SECONDS
            postgres_proxy.start()
            result, seconds = timed(lambda: client.simulate_get("/"))
            assert result.status_code == 200, result.text
            assert seconds < RECOVERY_SECONDS
        finally:
            store.close()


class TestWhileEveryConnectionIsBusy:
    def test_a_request_answers_503_after_the_timeout_and_the_pool_keeps_serving(
        self, postgres_dsn: str, postgres_proxy: TcpProxy
    ) -> None:
        store = PostgresStore(postgres_dsn, min_size=1, max_size=1, timeout=1.0)
        store.migrate()
        client = falcon.testing.TestClient(create_app(Taskflow(store)))
        try:
            with store.unit_of_work() as held:
                result, seconds = timed(lambda: client.simulate_get("/"))
                assert_unavailable(result, postgres_proxy)
                assert 1.0 <= seconds < OUTAGE_ANSWER_SECONDS
                # The pool was busy, not broken: the connection it had is still the one.
                held.commit()
            assert client.simulate_get("/").status_code == 200
        finally:
            store.close()
