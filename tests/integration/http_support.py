"""Shared pieces of the HTTP tests: a flow per store, a client, a stand-in auth middleware.

Imported by each ``test_http_*`` module (``from tests.integration.http_support import *``)
rather than living in a conftest, so other integration suites keep their own fixtures.

The HTTP layer is the same whatever the store, so its behaviour runs on the memory store and
on SQLite (the default store) only: PostgreSQL's own behaviour is the contract suite's
(tests/contract, every store) and the store-specific modules'. A module whose answers do
depend on the store (listings, the feed, failures mid-request, hostile bytes) asks for every
store by importing ``store`` from tests.stores after this module's names.
"""

from __future__ import annotations

from typing import Any

import falcon
import falcon.testing
import pytest

from taskflow_core import Taskflow
from taskflow_core.ports import Store
from taskflow_falcon import create_app
from tests.stores import STORES


class HeaderAuth:
    """The host's authentication, reduced to a header: ``X-User: alice`` signs in alice."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        name = req.get_header("X-User")
        if name:
            req.context.user = {"profile": {"id": name}, "name": name}


def as_user(name: str) -> dict[str, str]:
    return {"X-User": name}


HTTP_STORES = ["memory", "sqlite"]


@pytest.fixture(params=HTTP_STORES)
def store(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]


@pytest.fixture
def flow(store: Store) -> Taskflow:
    return Taskflow(store)


@pytest.fixture
def client(flow: Taskflow) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(create_app(flow, middleware=[HeaderAuth()]))


def create_case(
    client: falcon.testing.TestClient, data: dict[str, Any] | None = None, user: str = "alice"
) -> dict[str, Any]:
    result = client.simulate_post("/", json=data or {"name": "a case"}, headers=as_user(user))
    assert result.status_code == 200, result.text
    case: dict[str, Any] = result.json["data"]
    return case


def snapshot(client: falcon.testing.TestClient) -> list[dict[str, Any]]:
    """Every case as ``GET /{id}`` shows it, activity included: to prove nothing changed."""
    listing = client.simulate_get("/", params={"limit": "1000"}).json
    return [client.simulate_get(f"/{case['id']}").json["data"] for case in listing["data"]]


def assert_json_error(result: falcon.testing.Result, status: int) -> dict[str, Any]:
    """An error answer: the status, JSON, and only ``message`` (non-empty) and ``errors``."""
    assert result.status_code == status, result.text
    assert result.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = result.json
    assert isinstance(body["message"], str)
    assert body["message"]
    assert set(body) <= {"message", "errors"}
    return body


@pytest.fixture
def case(client: falcon.testing.TestClient) -> dict[str, Any]:
    """A case with one comment by alice, so every endpoint has something to act on."""
    case = create_case(client)
    client.simulate_post(f"/{case['id']}/comment", json={"comment": "hi"}, headers=as_user("alice"))
    return client.simulate_get(f"/{case['id']}").json["data"]  # type: ignore[no-any-return]


def comment_id_of(case: dict[str, Any]) -> str:
    found: str = next(e["id"] for e in case["activityLog"] if e["eventName"] == "comment")
    return found


def path_for(template: str, case: dict[str, Any], **override: str) -> str:
    """``/{id}/comment/{comment}`` filled in with the case's id and its first comment."""
    values = {"id": case["id"], "comment": comment_id_of(case), **override}
    return template.format(**values)


# Every mutation of an existing case over HTTP: method, path template, body.
MUTATIONS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "PUT /{id}": ("PUT", "/{id}", {"data": {"more": 1}}),
    "PATCH /{id}": ("PATCH", "/{id}", {"name": None}),
    "PUT /{id}/status": ("PUT", "/{id}/status", {"status": "open"}),
    "PUT /{id}/assign": ("PUT", "/{id}/assign", {"profileId": "bob"}),
    "POST /{id}/comment": ("POST", "/{id}/comment", {"comment": "more"}),
    "POST /{id}/comments": ("POST", "/{id}/comments", {"comment": "more"}),
    "PUT /{id}/comment/{c}": ("PUT", "/{id}/comment/{comment}", {"comment": "edited"}),
    "DELETE /{id}/comment/{c}": ("DELETE", "/{id}/comment/{comment}", None),
}


__all__ = [
    "HTTP_STORES",
    "MUTATIONS",
    "STORES",
    "HeaderAuth",
    "as_user",
    "assert_json_error",
    "case",
    "client",
    "comment_id_of",
    "create_case",
    "flow",
    "path_for",
    "snapshot",
    "store",
]
