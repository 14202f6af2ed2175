"""A store that is unavailable answers 503 with Retry-After, whichever store and whatever
raised it; the reason goes to the log in one line, and the request leaves nothing."""

from __future__ import annotations

import logging
from typing import Any

import falcon.testing
import pytest

from taskflow_core import HookEvent, Taskflow
from taskflow_core.errors import StoreUnavailable
from tests.integration.http_support import *  # noqa: F403
from tests.integration.http_support import assert_json_error, create_case, snapshot
from tests.stores import store  # noqa: F401 (every store: these answers depend on it)

REASON = 'connection to server at "db.internal" (10.1.2.3), port 5432 failed: refused'


def test_store_unavailable_answers_a_generic_503_with_retry_after_and_logs_one_line(
    client: falcon.testing.TestClient, flow: Taskflow, caplog: pytest.LogCaptureFixture
) -> None:
    case = create_case(client)
    before = snapshot(client)

    def unavailable(event: HookEvent) -> None:
        raise StoreUnavailable(REASON)

    flow.hook("status:*:*", unavailable)
    with caplog.at_level(logging.WARNING, logger="taskflow_falcon.errors"):
        result = client.simulate_put(f"/{case['id']}/status", json={"status": "open"})

    body: dict[str, Any] = assert_json_error(result, 503)
    assert set(body) == {"message"}
    assert "db.internal" not in result.text
    assert "10.1.2.3" not in result.text
    assert int(result.headers["Retry-After"]) > 0
    [record] = [r for r in caplog.records if r.name == "taskflow_falcon.errors"]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert REASON in record.getMessage()
    assert "\n" not in record.getMessage()
    assert snapshot(client) == before
