"""``OPTIONS`` on every route: 200 with the methods it allows (as express), in JSON too."""

from __future__ import annotations

import falcon
import falcon.testing
import pytest

from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore
from taskflow_falcon import create_app
from tests.integration.http_support import HeaderAuth, assert_json_error

CASE_ID = "7b8f1a4e-1111-4a4a-8a8a-000000000001"
COMMENT_ID = "7b8f1a4e-2222-4a4a-8a8a-000000000002"

ROUTES = [
    ("/", {"GET", "HEAD", "POST", "OPTIONS"}),
    (f"/{CASE_ID}", {"GET", "HEAD", "PUT", "PATCH", "OPTIONS"}),
    (f"/{CASE_ID}/status", {"PUT", "OPTIONS"}),
    (f"/{CASE_ID}/assign", {"PUT", "OPTIONS"}),
    (f"/{CASE_ID}/comment", {"POST", "OPTIONS"}),
    (f"/{CASE_ID}/comments", {"POST", "OPTIONS"}),
    (f"/{CASE_ID}/comment/{COMMENT_ID}", {"PUT", "DELETE", "OPTIONS"}),
    (f"/{CASE_ID}/comments/{COMMENT_ID}", {"PUT", "DELETE", "OPTIONS"}),
]


@pytest.fixture
def client(memory_store: MemoryStore) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(Taskflow(memory_store), middleware=[HeaderAuth()]))


def allowed(result: falcon.testing.Result) -> set[str]:
    return {method.strip() for method in result.headers["allow"].split(",")}


@pytest.mark.parametrize(("path", "methods"), ROUTES)
def test_options_answers_200_with_the_methods_of_the_route(
    client: falcon.testing.TestClient, path: str, methods: set[str]
) -> None:
    result = client.simulate_options(path)

    assert result.status_code == 200
    assert allowed(result) == methods


@pytest.mark.parametrize(("path", "methods"), ROUTES)
def test_options_keeps_its_json_promise(
    client: falcon.testing.TestClient, path: str, methods: set[str]
) -> None:
    result = client.simulate_options(path, headers={"Accept": "application/json"})

    assert result.headers["content-type"] == "application/json; charset=utf-8"
    assert set(result.json["data"]) == methods


@pytest.mark.parametrize(("path", "methods"), ROUTES)
def test_options_allows_exactly_what_a_wrong_methods_405_allows(
    client: falcon.testing.TestClient, path: str, methods: set[str]
) -> None:
    wrong = next(m for m in ("PATCH", "DELETE", "POST") if m not in methods)

    refused = client.simulate_request(wrong, path)

    assert_json_error(refused, 405)
    assert allowed(refused) == allowed(client.simulate_options(path))


def test_options_on_an_unknown_route_is_a_json_404(client: falcon.testing.TestClient) -> None:
    result = client.simulate_options(f"/{CASE_ID}/nothing/here")

    assert_json_error(result, 404)


def test_options_needs_no_case_and_creates_none(client: falcon.testing.TestClient) -> None:
    client.simulate_options("/", headers={"X-User": "alice"})

    assert client.simulate_get("/").json["meta"] == {"count": 0}
