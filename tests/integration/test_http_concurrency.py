"""Two app instances on one database, writing to one case at once, lose nothing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import falcon.testing
import pytest

from taskflow_compose import store_from_url
from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore
from taskflow_core.ports import Store
from taskflow_falcon import create_app
from tests.integration.http_support import (
    HeaderAuth,
    as_user,
)

WRITES_PER_APP = 12


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """Two stores on one database, as two processes would each have their own."""
    stores: tuple[Store, Store]
    if request.param == "memory":
        shared = MemoryStore()  # one process memory: the stores cannot be two objects
        stores = (shared, shared)
    else:
        url = (
            f"sqlite:///{tmp_path / 'taskflow.db'}"
            if request.param == "sqlite"
            else request.getfixturevalue("postgres_dsn")
        )
        stores = (store_from_url(url, max_size=4), store_from_url(url, max_size=4))
    for store in stores:
        store.migrate()
    yield stores
    for store in set(stores):
        store.close()


@pytest.fixture
def clients(two_stores: tuple[Store, Store]) -> list[falcon.testing.TestClient]:
    return [
        falcon.testing.TestClient(create_app(Taskflow(store), middleware=[HeaderAuth()]))
        for store in two_stores
    ]


def test_concurrent_writes_through_two_apps_to_one_case_all_land(
    clients: list[falcon.testing.TestClient],
) -> None:
    first, second = clients
    case_id = first.simulate_post("/", json={"seed": True}).json["data"]["id"]

    def write(job: tuple[int, int]) -> list[int]:
        app, n = job
        client = clients[app]
        key = f"app{app}-{n}"
        who = as_user(f"user{app}")
        return [
            client.simulate_put(f"/{case_id}", json={"data": {"keys": {key: n}}}).status_code,
            client.simulate_post(
                f"/{case_id}/comment", json={"comment": key}, headers=who
            ).status_code,
            client.simulate_put(
                f"/{case_id}/status", json={"status": "odd" if n % 2 else "even"}
            ).status_code,
        ]

    jobs = [(app, n) for n in range(WRITES_PER_APP) for app in (0, 1)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [code for codes in pool.map(write, jobs) for code in codes]

    assert set(statuses) == {200}
    case: dict[str, Any] = second.simulate_get(f"/{case_id}").json["data"]
    # Deep merges are read-modify-write: a lost update would drop a key here.
    assert case["data"]["keys"] == {f"app{a}-{n}": n for a, n in jobs}
    log = case["activityLog"]
    comments = sorted(e["comment"] for e in log if e["eventName"] == "comment")
    assert comments == sorted(f"app{a}-{n}" for a, n in jobs)
    assert sum(e["eventName"] == "update" for e in log) == len(jobs)
    # Status changes were serialised: each one starts where the one before it ended.
    transitions = [
        e["eventName"].split(":")[1:] for e in reversed(log) if e["eventName"].startswith("status:")
    ]
    assert len(transitions) == len(jobs)
    assert transitions[0][0] == "new"
    for (_, reached), (started, _) in itertools.pairwise(transitions):
        assert started == reached
    assert case["status"] == transitions[-1][1]
