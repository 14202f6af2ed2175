"""A page of the change feed full of big entries, against a real ``taskflow serve``: the page
ends at its byte budget instead of its ``limit``, the worker's memory does not grow with the
limit, and the cursors read every entry exactly once (docs/integrations.md, "Pages of big
entries"). Measured as tests/e2e/test_big_listings.py measures listings."""

from __future__ import annotations

import json
import sqlite3
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from taskflow_core.application.feed import PAGE_BUDGET
from tests.e2e.serving import Server, clean_env, free_port, serving, taskflow_command
from tests.e2e.test_big_listings import _children, _status_kb, store_dsn

pytestmark = pytest.mark.e2e

ENTRIES = 1_000
# Each entry's event: many small objects, as real payloads are. About 30 kB of JSON each, so
# a page of 1,000 is about 30 MB of text, and several times that parsed in Python.
ITEMS = 250
# Before pages had a byte budget, a page of these grew the worker by about 175 MB.
MAX_GROWTH_MB = 60

_PG_SEED = """
WITH c AS (
    INSERT INTO cases (id, status, data, created_at, updated_at)
    VALUES (gen_random_uuid(), 'new', '{}', now(), now()) RETURNING id
), e AS (
    INSERT INTO activity_log (id, case_id, event_name, event, created_at, updated_at)
    SELECT gen_random_uuid(), c.id, 'update',
           jsonb_build_object('event', 'update', 'meta', jsonb_build_object('n', i) || blob.data),
           now() + i * interval '1 ms', now() + i * interval '1 ms'
    FROM c, generate_series(1, %s) AS i,
         (SELECT jsonb_build_object('items', jsonb_agg(jsonb_build_object(
              'n', g, 'text', repeat(md5(g::text), 3)))) AS data
          FROM generate_series(1, %s) AS g) AS blob
    ORDER BY i
    RETURNING id, case_id
)
INSERT INTO change_feed (case_id, entry_id) SELECT case_id, id FROM e
"""


def _seed_sqlite(path: Path) -> None:
    items = [{"n": g, "text": f"{g:032x}" * 3} for g in range(ITEMS)]
    case_id = str(uuid.uuid4())
    at = "2026-01-01T00:00:00.000000+00:00"
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO cases (id, status, data, created_at, updated_at, version)"
            " VALUES (?, 'new', '{}', ?, ?, 1)",
            (case_id, at, at),
        )
        for n in range(ENTRIES):
            entry_id = str(uuid.uuid4())
            event = json.dumps({"event": "update", "meta": {"n": n, "items": items}})
            db.execute(
                "INSERT INTO activity_log (id, case_id, event_name, event, created_at,"
                " updated_at) VALUES (?, ?, 'update', ?, ?, ?)",
                (entry_id, case_id, event, at, at),
            )
            db.execute("INSERT INTO change_feed (entry_id) VALUES (?)", (entry_id,))


@pytest.fixture(params=["postgres", "sqlite"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """One worker with the feed on, serving ``ENTRIES`` big entries of one case."""
    port = free_port()
    dsn = store_dsn(request, tmp_path)
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "1"]
    command += ["--dsn", dsn, "--feed"]
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        if request.param == "postgres":
            with psycopg.connect(dsn) as db:
                db.execute(_PG_SEED, (ENTRIES, ITEMS))
                db.commit()
                db.execute("SELECT taskflow_sequence_change_feed(false)")
        else:
            _seed_sqlite(tmp_path / "big.db")
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
