"""Edges of the HTTP contract: ids before bodies, unstorable input, unencodable output."""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest

from taskflow_core import Taskflow
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import as_user, assert_json_error, snapshot

BODIES = [
    b'{"subject": "nul \\u0000"}',
    b'{"subject": "lone \\ud800"}',
    b'{"n": 1e400}',
    b'{"data": {"x": 1}, "meta": {"note": "\\u0000"}}',
]


@pytest.mark.parametrize("raw", BODIES)
@pytest.mark.parametrize("method", ["POST /", "PUT /{id}", "PUT /{id}/status"])
def test_bodies_no_store_can_keep_are_400s_and_change_nothing(
    client: falcon.testing.TestClient, case: dict[str, Any], raw: bytes, method: str
) -> None:
    verb, path = method.split(" ")
    before = snapshot(client)
    result = client.simulate_request(
        verb,
        path.format(id=case["id"]),
        body=raw,
        headers={"Content-Type": "application/json", **as_user("alice")},
    )
    assert_json_error(result, 400)
    assert snapshot(client) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/not-a-uuid/status"),
        ("PUT", "/not-a-uuid"),
        ("PUT", "/not-a-uuid/assign"),
        ("POST", "/not-a-uuid/comment"),
        ("PUT", "/not-a-uuid/comment/6d837586-c725-4e54-8a2d-5e1402fc9ba5"),
    ],
)
@pytest.mark.parametrize("body", [None, b"{}", b"not json"])
def test_a_malformed_case_id_is_404_whatever_the_body(
    client: falcon.testing.TestClient, method: str, path: str, body: bytes | None
) -> None:
    result = client.simulate_request(method, path, body=body)
    assert_json_error(result, 404)


def test_a_list_filter_with_nul_is_a_400(client: falcon.testing.TestClient) -> None:
    assert_json_error(client.simulate_get("/", query_string="status=a%00"), 400)
    assert_json_error(client.simulate_get("/", query_string="offset=9223372036854775808"), 400)


def test_a_decorator_output_that_cannot_be_encoded_is_a_json_500(
    client: falcon.testing.TestClient, flow: Taskflow, case: dict[str, Any]
) -> None:
    flow.decorate(lambda c, user: {**c, "broken": "\ud800"})
    result = client.simulate_get(f"/{case['id']}")
    body = assert_json_error(result, 500)
    assert body == {"message": "Internal server error"}
