"""A request sent again under its ``Idempotency-Key`` whose answer is big (a case with a long
log), against a real ``taskflow serve``: the replay sends the stored bytes as they are,
without parsing them, so the worker grows by about the answer's size, not by the several
times that its parsed form takes (docs/retries.md). Measured as
tests/e2e/test_big_listings.py measures listings."""

from __future__ import annotations

import json
import urllib.request
from functools import partial
from pathlib import Path

import pytest

from tests.e2e.big_logs import seed_postgres, seed_sqlite
from tests.e2e.serving import Server, clean_env, free_port, serving, taskflow_command
from tests.e2e.test_big_listings import _children, _status_kb, store_dsn

pytestmark = pytest.mark.e2e

# About 10 kB of JSON per entry: an answer of about 20 MB.
ENTRIES = 2_000
ITEMS = 80
# Parsing the stored answer grew the worker by 133 MB on PostgreSQL (the answer also came as
# hex text), 97 MB on SQLite; sent as stored, by 56 and 39 MB.
MAX_GROWTH_MB = 75


def _comment(server: Server, case_id: str, key: str) -> tuple[bytes, str | None]:
    request = urllib.request.Request(
        f"{server.url}/{case_id}/comment",
        data=json.dumps({"comment": "seen"}).encode(),
        headers={"Content-Type": "application/json", "Idempotency-Key": key},
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read(), response.headers.get("Idempotent-Replayed")


@pytest.fixture(params=["postgres", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_dsn(request, tmp_path)


def test_a_replay_of_a_big_answer_is_sent_without_growing_the_worker_by_its_parsed_size(
    store: str, tmp_path: Path
) -> None:
    def serve() -> tuple[list[str], int]:
        port = free_port()
        command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "1"]
        return [*command, "--dsn", store], port

    command, port = serve()
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        if store.startswith("sqlite"):
            seed = partial(seed_sqlite, tmp_path / "big.db")
        else:
            seed = partial(seed_postgres, store)
        big, small = seed(ENTRIES, ITEMS), seed(1, 1)
        first, replayed = _comment(server, big, "big")
        assert replayed is None
        _comment(server, small, "small")

    # A worker of its own, whose memory the first answer never touched.
    command, port = serve()
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        (worker,) = _children(server.process.pid)
        for _ in range(2):  # warm the worker: imports, connections, the replay's path
            assert _comment(server, small, "small")[1] == "true"
        before = _status_kb(worker, "VmRSS")
        Path(f"/proc/{worker}/clear_refs").write_text("5")  # the peak (VmHWM) from now

        again, replayed = _comment(server, big, "big")

        growth_mb = (_status_kb(worker, "VmHWM") - before) / 1024
    print(f"\nworker growth {growth_mb:.1f} MB replaying {len(again) / 2**20:.1f} MB")
    assert replayed == "true"
    assert again == first
    assert len(json.loads(again)["data"]["activityLog"]) == ENTRIES + 1
    assert growth_mb < MAX_GROWTH_MB, f"the worker grew by {growth_mb:.0f} MB"
