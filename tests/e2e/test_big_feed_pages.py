"""A page of the change feed full of big entries, against a real ``taskflow serve``: the page
ends at its byte budget instead of its ``limit``, the worker's memory does not grow with the
limit, and the cursors read every entry exactly once (docs/integrations.md, "Pages of big
entries"). Measured as tests/e2e/test_big_listings.py measures listings."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taskflow_core.application.feed import PAGE_BUDGET
from tests.e2e.big_logs import seed_postgres, seed_sqlite
from tests.e2e.serving import Server, clean_env, free_port, serving, taskflow_command
from tests.e2e.test_big_listings import _children, _status_kb, store_dsn

pytestmark = pytest.mark.e2e

ENTRIES = 1_000
# Each entry's event: many small objects, as real payloads are. About 30 kB of JSON each, so
# a page of 1,000 is about 30 MB of text, and several times that parsed in Python.
ITEMS = 250
# Before pages had a byte budget, a page of these grew the worker by about 175 MB.
MAX_GROWTH_MB = 60


@pytest.fixture(params=["postgres", "sqlite"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """One worker with the feed on, serving ``ENTRIES`` big entries of one case."""
    port = free_port()
    dsn = store_dsn(request, tmp_path)
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "1"]
    command += ["--dsn", dsn, "--feed"]
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        if request.param == "postgres":
            seed_postgres(dsn, ENTRIES, ITEMS)
        else:
            seed_sqlite(tmp_path / "big.db", ENTRIES, ITEMS)
        yield server


def _page(server: Server, query: str) -> dict[str, Any]:
    with urllib.request.urlopen(server.url + "/_changes?" + query, timeout=60) as response:
        page: dict[str, Any] = json.loads(response.read())
    return page


def test_a_page_of_big_entries_ends_at_its_budget_without_growing_the_worker(
    server: Server,
) -> None:
    (worker,) = _children(server.process.pid)
    for _ in range(2):  # warm the worker: imports, connections, a small page
        assert len(_page(server, "limit=1")["data"]) == 1
    before = _status_kb(worker, "VmRSS")
    Path(f"/proc/{worker}/clear_refs").write_text("5")  # the peak (VmHWM) from now

    page = _page(server, f"limit={ENTRIES}")

    growth_mb = (_status_kb(worker, "VmHWM") - before) / 1024
    sizes = [len(json.dumps(item["entry"])) for item in page["data"]]
    print(f"\nworker growth {growth_mb:.1f} MB for a page of {len(sizes)} entries")
    assert 1 < len(sizes) < ENTRIES
    assert sum(sizes) <= PAGE_BUDGET
    assert page["meta"]["next"] == page["data"][-1]["cursor"]
    assert growth_mb < MAX_GROWTH_MB, f"the worker grew by {growth_mb:.0f} MB"


def test_the_cursors_of_pages_ended_early_read_every_entry_once(server: Server) -> None:
    numbers: list[int] = []
    after = ""
    while True:
        page = _page(server, f"limit={ENTRIES}{after}")
        if not page["data"]:
            break
        numbers += [item["entry"]["event"]["meta"]["n"] for item in page["data"]]
        after = "&after=" + page["meta"]["next"]
    assert sorted(numbers) == sorted(set(numbers))
    assert len(numbers) == ENTRIES
