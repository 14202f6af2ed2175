"""Listings and exports past their budget against a real ``taskflow serve``: a page of big
cases, or an export of all of them, arrives whole without the worker's memory growing with
it, and a failure mid-stream cuts the answer short (docs/deploying.md, "What a listing
holds"; docs/bulk.md)."""

from __future__ import annotations

import http.client
import json
import sqlite3
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.e2e.serving import Server, clean_env, free_port, serving, taskflow_command

pytestmark = pytest.mark.e2e

CASES = 200
PAGE = 100
# Each case's data: many small objects, as real documents are, which is what makes a parsed
# case take more than its JSON text in Python. About 1 MiB of JSON each.
ITEMS = 4_500
# Before listings streamed, one page of these grew the worker by hundreds of MB.
MAX_GROWTH_MB = 50

# One data value per case, made by the database: rows sent from here would take longer.
_PG_SEED = """
INSERT INTO cases (id, status, data, created_at, updated_at)
SELECT gen_random_uuid(), 'new', blob.data || jsonb_build_object('n', i),
       now() + i * interval '1 ms', now() + i * interval '1 ms'
FROM generate_series(1, %s) AS i,
     (SELECT jsonb_build_object('items', jsonb_agg(jsonb_build_object(
          'n', g, 'text', repeat(md5(g::text), 6)))) AS data
      FROM generate_series(1, %s) AS g) AS blob
"""


def _items() -> list[dict[str, object]]:
    return [{"n": g, "text": f"{g:032x}" * 6} for g in range(ITEMS)]


def _seed_sqlite(path: Path) -> None:
    text = json.dumps({"items": _items()}, separators=(",", ":"))
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO cases (id, status, data, created_at, updated_at, version)"
            " VALUES (?, 'new', ?, ?, ?, 1)",
            (
                (f"00000000-0000-4000-8000-{i:012d}", text[:-1] + f',"n":{i}}}', at, at)
                for i in range(CASES)
                for at in [f"2026-01-01T00:00:00.{i:06d}+00:00"]
            ),
        )


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def store_dsn(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store a fixture parametrized by store name serves: the test's PostgreSQL
    database, or the SQLite file ``big.db`` in ``tmp_path``."""
    if request.param == "postgres":
        request.applymarker(pytest.mark.postgres)
        return str(request.getfixturevalue("postgres_dsn"))
    return f"sqlite:///{tmp_path / 'big.db'}"


@pytest.fixture(params=["postgres", "sqlite"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """One worker serving ``CASES`` big cases, seeded once it answers: waiting for it to
    answer lists cases, which would take long with these."""
    port = free_port()
    dsn = store_dsn(request, tmp_path)
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "1", "--dsn", dsn]
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        if request.param == "postgres":
            with psycopg.connect(dsn) as db:
                db.execute(_PG_SEED, (CASES, ITEMS))
        else:
            _seed_sqlite(tmp_path / "big.db")
        yield server


def test_a_page_of_big_cases_arrives_whole_without_growing_the_worker(server: Server) -> None:
    (worker,) = _children(server.process.pid)
    # The first requests warm the worker: imports, connections, the first page of small size.
    for _ in range(2):
        with urllib.request.urlopen(server.url + "/?limit=1", timeout=30) as response:
            assert json.loads(response.read())["meta"]["count"] == CASES
    before = _status_kb(worker, "VmRSS")
    # Resets the peak (VmHWM) to what the worker holds now.
    Path(f"/proc/{worker}/clear_refs").write_text("5")

    with urllib.request.urlopen(server.url + f"/?limit={PAGE}", timeout=60) as response:
        body = json.loads(response.read())

    growth_mb = (_status_kb(worker, "VmHWM") - before) / 1024
    assert body["meta"] == {"count": CASES}
    assert len(body["data"]) == PAGE
    assert [case["data"]["n"] for case in body["data"]] == sorted(
        case["data"]["n"] for case in body["data"]
    )
    assert all(len(case["data"]["items"]) == ITEMS for case in body["data"])
    assert growth_mb < MAX_GROWTH_MB, f"the worker grew by {growth_mb:.0f} MB"


FAILING_HOST = """
import taskflow_core.application.query
from taskflow_compose import database_url, store_from_url
from taskflow_core import Taskflow

# A budget of two small cases, so that a page of six is streamed.
taskflow_core.application.query.LISTING_BUDGET = 2500
flow = Taskflow(store_from_url(database_url()))


def fail_on_the_last(case, user):
    # List items only: they have no activity log.
    if case["data"].get("n") == 5 and "activityLog" not in case:
        raise RuntimeError("decorator broke")
    return case


flow.decorate(fail_on_the_last)
"""


@contextmanager
def serving_failing_host(tmp_path: Path, host: str, *, text_size: int) -> Iterator[Server]:
    """``taskflow serve`` (one worker, SQLite) on the host module ``host``, holding six cases
    numbered ``n`` 0 to 5, each with ``text_size`` characters of text."""
    (tmp_path / "failing_host.py").write_text(host)
    port = free_port()
    dsn = f"sqlite:///{tmp_path / 'failing.db'}"
    command = [*taskflow_command(), "serve", "--app", "failing_host:flow", "--port", str(port)]
    command += ["--dsn", dsn, "--workers", "1"]
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        for n in range(6):
            body = json.dumps({"n": n, "text": "x" * text_size}).encode()
            request = urllib.request.Request(
                server.url + "/", data=body, headers={"Content-Type": "application/json"}
            )
            urllib.request.urlopen(request, timeout=10).close()
        yield server


def test_a_failure_in_a_streamed_listing_cuts_the_answer_short_and_is_logged(
    tmp_path: Path,
) -> None:
    with serving_failing_host(tmp_path, FAILING_HOST, text_size=1000) as server:
        with urllib.request.urlopen(server.url + "/", timeout=10) as response:
            assert response.status == 200
            assert response.headers["Transfer-Encoding"] == "chunked"
            # The connection closes before the last chunk: never a whole, wrong body.
            with pytest.raises(http.client.IncompleteRead) as cut:
                response.read()
        assert b'"n": 4' in cut.value.partial

        # The worker goes on serving.
        with urllib.request.urlopen(server.url + "/?limit=5", timeout=10) as response:
            assert len(json.loads(response.read())["data"]) == 5

    assert "a listing failed after it began to be sent" in server.log


def test_an_export_of_big_cases_streams_them_all_without_growing_the_worker(
    server: Server,
) -> None:
    (worker,) = _children(server.process.pid)
    with urllib.request.urlopen(server.url + "/_export?format=ndjson&n=1", timeout=30) as warm:
        warm.read()  # warm the route: imports, the first page
    before = _status_kb(worker, "VmRSS")
    Path(f"/proc/{worker}/clear_refs").write_text("5")

    numbers = []
    with urllib.request.urlopen(server.url + "/_export?format=ndjson", timeout=120) as response:
        assert response.headers["Transfer-Encoding"] == "chunked"
        for line in response:  # a case a line, read as it comes
            case = json.loads(line)
            assert len(case["data"]["items"]) == ITEMS
            numbers.append(case["data"]["n"])

    growth_mb = (_status_kb(worker, "VmHWM") - before) / 1024
    # Every case once (the seeds number them from 0 or 1).
    assert len(numbers) == len(set(numbers)) == CASES
    assert growth_mb < MAX_GROWTH_MB, f"the worker grew by {growth_mb:.0f} MB"


# An export goes in id order (random ids): the failing case is the third it decorates, so
# that the first page, read before the answer's first byte, never holds it.
FAILING_EXPORT_HOST = """
import itertools

import taskflow_core.application.query
from taskflow_compose import database_url, store_from_url
from taskflow_core import Taskflow

taskflow_core.application.query.LISTING_BUDGET = 2500
flow = Taskflow(store_from_url(database_url()))
listed = itertools.count(1)


def fail_on_the_third(case, user):
    if "activityLog" not in case and next(listed) == 3:
        raise RuntimeError("decorator broke")
    return case


flow.decorate(fail_on_the_third)
"""


def test_a_failure_in_an_export_cuts_the_answer_short_and_is_logged(tmp_path: Path) -> None:
    with serving_failing_host(tmp_path, FAILING_EXPORT_HOST, text_size=100_000) as server:
        export = server.url + "/_export?format=ndjson"
        with urllib.request.urlopen(export, timeout=10) as response:
            assert response.status == 200
            # The connection closes before the end: never a whole answer missing a case.
            with pytest.raises(http.client.IncompleteRead):
                response.read()

    assert "an export failed after it began to be sent" in server.log
