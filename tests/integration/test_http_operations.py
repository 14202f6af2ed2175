"""Operating it: health and readiness, and one access-log record per request with its id."""

from __future__ import annotations

import logging

import falcon.testing
import pytest

from taskflow_core import Taskflow
from taskflow_falcon import create_app
from taskflow_postgres import PostgresStore
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import assert_json_error, create_case

Client = falcon.testing.TestClient


class TestHealthAndReadiness:
    def test_health_answers_ok(self, client: Client) -> None:
        result = client.simulate_get("/_health")
        assert result.status_code == 200
        assert result.json == {"data": {"status": "ok"}}

    def test_ready_answers_ok_when_the_store_answers(self, client: Client) -> None:
        result = client.simulate_get("/_ready")
        assert result.status_code == 200
        assert result.json == {"data": {"status": "ready"}}


class TestNotReady:
    def test_an_unmigrated_database_is_not_ready_and_says_to_migrate(
        self, postgres_empty_dsn: str
    ) -> None:
        store = PostgresStore(postgres_empty_dsn, max_size=2)
        try:
            client = falcon.testing.TestClient(create_app(Taskflow(store)))
            result = client.simulate_get("/_ready")
            body = assert_json_error(result, 503)
            assert "taskflow migrate" in body["message"]
            assert client.simulate_get("/_health").status_code == 200
        finally:
            store.close()

    def test_a_database_the_server_does_not_have_is_not_ready_and_says_to_migrate(
        self, postgres_empty_dsn: str
    ) -> None:
        missing = postgres_empty_dsn.rpartition("/")[0] + "/taskflow_no_such_database_here"
        store = PostgresStore(missing, max_size=2)
        try:
            client = falcon.testing.TestClient(create_app(Taskflow(store)))
            body = assert_json_error(client.simulate_get("/_ready"), 503)
            assert body["message"] == (
                "The server answers but has no such database: run `taskflow migrate`, "
                "which creates it"
            )
        finally:
            store.close()

    def test_an_unreachable_database_is_not_ready(self) -> None:
        store = PostgresStore("postgresql://nobody@127.0.0.1:1/none", timeout=1)
        try:
            client = falcon.testing.TestClient(create_app(Taskflow(store)))
            result = client.simulate_get("/_ready")
            body = assert_json_error(result, 503)
            assert "127.0.0.1" not in body["message"]
            assert result.headers["retry-after"]
        finally:
            store.close()


class TestAccessLog:
    def test_every_request_is_logged_once_with_its_id(
        self, client: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        case = create_case(client)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="taskflow.access"):
            result = client.simulate_get(f"/{case['id']}", headers={"X-Request-Id": "req-42"})
            missing = client.simulate_get("/not-a-case")
        records = [r for r in caplog.records if r.name == "taskflow.access"]
        assert len(records) == 2
        first, second = records
        assert (first.method, first.path, first.status) == ("GET", f"/{case['id']}", 200)  # type: ignore[attr-defined]
        assert first.request_id == "req-42"  # type: ignore[attr-defined]
        assert first.duration_ms >= 0  # type: ignore[attr-defined]
        assert result.headers["x-request-id"] == "req-42"
        assert second.status == 404  # type: ignore[attr-defined]
        assert missing.headers["x-request-id"] == second.request_id  # type: ignore[attr-defined]

    def test_a_new_id_is_made_when_none_or_an_unusable_one_is_given(self, client: Client) -> None:
        made = client.simulate_get("/_health").headers["x-request-id"]
        refused = client.simulate_get(
            "/_health", headers={"X-Request-Id": "has spaces and\ttabs"}
        ).headers["x-request-id"]
        assert len(made) == 32
        assert refused != "has spaces and\ttabs"
        assert len(refused) == 32

    def test_errors_are_logged_with_their_status(
        self, client: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO, logger="taskflow.access"):
            client.simulate_post("/", body=b"{bad")
        statuses = [r.status for r in caplog.records if r.name == "taskflow.access"]  # type: ignore[attr-defined]
        assert statuses == [400]
