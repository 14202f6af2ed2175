"""``GET /{id}`` of a case whose log is longer than a page: sent as it is read, the same bytes
and ETag as the case built whole, a 304 or a 404 as for any case (docs/deploying.md).
(The bytes on every store: tests/contract/test_case_body.py; the worker's memory:
tests/e2e/test_big_case.py.)"""

from __future__ import annotations

from typing import Any

import falcon.testing
import pytest

from taskflow_core import Taskflow
from taskflow_core.application import case_body
from taskflow_core.application.answers import single_case_body
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import as_user, create_case

Client = falcon.testing.TestClient


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_body, "LOG_BUDGET", 500)


@pytest.fixture
def case(client: Client) -> dict[str, Any]:
    case = create_case(client, {"n": 1.0})
    for n in range(20):
        client.simulate_post(
            f"/{case['id']}/comment", json={"comment": f"c{n}"}, headers=as_user("alice")
        )
    return case


def test_a_long_log_is_sent_in_pieces_as_the_case_built_whole(
    client: Client, flow: Taskflow, case: dict[str, Any]
) -> None:
    found = client.simulate_get(f"/{case['id']}")
    whole = flow.read(case["id"])

    assert found.status_code == 200
    assert found.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "Content-Length" not in found.headers  # streamed
    assert found.content == single_case_body(whole.case)
    assert found.headers["ETag"] == f'"{whole.version}"'


def test_the_current_etag_of_a_long_log_answers_304_and_the_store_serves_on(
    client: Client, case: dict[str, Any]
) -> None:
    etag = client.simulate_get(f"/{case['id']}").headers["ETag"]
    for _ in range(3):
        again = client.simulate_get(f"/{case['id']}", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
    # The reads the 304s began were ended: a write goes through.
    changed = client.simulate_post(f"/{case['id']}/comment", json={"comment": "more"})
    assert changed.status_code == 200


def test_a_long_log_the_user_may_not_read_is_404_before_any_byte(
    client: Client, flow: Taskflow, case: dict[str, Any]
) -> None:
    flow.access(read=lambda user, found: user is not None and user["name"] == "alice")
    refused = client.simulate_get(f"/{case['id']}", headers=as_user("bob"))
    assert refused.status_code == 404
    assert refused.json == {"message": "Case not found"}
    assert client.simulate_get(f"/{case['id']}", headers=as_user("alice")).status_code == 200
