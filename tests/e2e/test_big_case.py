"""``GET /{id}`` of a case with a long activity log against a real ``taskflow serve``: the
answer is sent as its log is read, a page at a time, so the worker does not grow with the
log (docs/deploying.md, "What such an answer holds in the worker"). Measured as
tests/e2e/test_big_listings.py measures listings."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from email.message import Message
from functools import partial
from pathlib import Path

import pytest

from tests.e2e.big_logs import seed_postgres, seed_sqlite
from tests.e2e.serving import clean_env, free_port, serving, taskflow_command
from tests.e2e.test_big_listings import _children, _status_kb, store_dsn

pytestmark = pytest.mark.e2e

# About 3 kB of JSON per entry: an answer of about 31 MB.
ENTRIES = 10_000
ITEMS = 25
# Built whole, the answer grew the worker by 225 MB on PostgreSQL and 193 MB on SQLite.
MAX_GROWTH_MB = 60


@pytest.fixture(params=["postgres", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_dsn(request, tmp_path)


def _get(url: str, **headers: str) -> tuple[int, bytes, Message]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def test_a_case_with_a_long_log_is_sent_without_growing_the_worker(
    store: str, tmp_path: Path
) -> None:
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "1"]
    with serving([*command, "--dsn", store], cwd=tmp_path, env=clean_env(), port=port) as server:
        if store.startswith("sqlite"):
            seed = partial(seed_sqlite, tmp_path / "big.db")
        else:
            seed = partial(seed_postgres, store)
        big, small = seed(ENTRIES, ITEMS), seed(1, 1)
        (worker,) = _children(server.process.pid)
        for _ in range(2):  # warm the worker: imports, connections, the route
            assert _get(f"{server.url}/{small}")[0] == 200
        before = _status_kb(worker, "VmRSS")
        Path(f"/proc/{worker}/clear_refs").write_text("5")  # the peak (VmHWM) from now

        status, body, headers = _get(f"{server.url}/{big}")

        growth_mb = (_status_kb(worker, "VmHWM") - before) / 1024
        print(f"\nworker growth {growth_mb:.1f} MB sending {len(body) / 2**20:.1f} MB")
        assert status == 200, body[:500]
        # The version is read before the first byte: a conditional GET needs no body.
        assert _get(f"{server.url}/{big}", **{"If-None-Match": headers["ETag"]})[0] == 304
        assert _get(f"{server.url}/{small}")[0] == 200  # the worker goes on serving
    case = json.loads(body)["data"]
    assert headers["ETag"] == f'"{case["version"]}"'
    log = case["activityLog"]
    assert len(log) == ENTRIES
    # Newest first, every entry once.
    assert [e["event"]["meta"]["n"] for e in log][:2] in ([ENTRIES, ENTRIES - 1], [9999, 9998])
    assert len({e["id"] for e in log}) == ENTRIES
    assert growth_mb < MAX_GROWTH_MB, f"the worker grew by {growth_mb:.0f} MB"
