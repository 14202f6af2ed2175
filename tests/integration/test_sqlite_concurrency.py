"""Several processes and threads writing through one SQLite file lose nothing and never fail."""

import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from taskflow_core import Taskflow
from taskflow_sqlite import SqliteStore

WRITERS = 4
UPDATES = 15
ROUNDS = 30


def update_many(path: str, case_id: str, writer: int, start: Event) -> None:
    """One writer process: a fresh store, as a gunicorn worker has, then many small writes."""
    store = SqliteStore(path)
    flow = Taskflow(store)
    start.wait(30)
    for n in range(UPDATES):
        # Each writer adds keys of its own: a read-modify-write that read a stale case would
        # drop the keys another writer added in between.
        flow.update(case_id, {f"writer-{writer}": {str(n): True}})
        flow.set_status(case_id, "abcd"[writer % 4] * (n % 3 + 1))
    store.close()


def create_on_first_use(path: str, start: Event) -> None:
    """One process starting on a file nobody has migrated yet."""
    store = SqliteStore(path)
    start.wait(30)
    flow = Taskflow(store)
    for n in range(UPDATES):
        flow.create({"n": n})
    store.close()


def run_processes(target: Callable[..., None], args: list[tuple[object, ...]]) -> None:
    # spawn, not fork: each writer starts as a separate program would, sharing nothing.
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    processes = [ctx.Process(target=target, args=(*a, start)) for a in args]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0] * len(processes)


class TestSeveralProcesses:
    def test_concurrent_updates_to_one_case_are_all_kept(self, tmp_path: Path) -> None:
        path = str(tmp_path / "shared.db")
        store = SqliteStore(path)
        case_id = Taskflow(store).create({"writers": WRITERS})["id"]

        run_processes(update_many, [(path, case_id, w) for w in range(WRITERS)])

        case = Taskflow(store).get(case_id)
        for writer in range(WRITERS):
            assert case["data"][f"writer-{writer}"] == {str(n): True for n in range(UPDATES)}
        assert len(case["activityLog"]) == 1 + WRITERS * UPDATES * 2
        store.close()

    def test_processes_starting_together_on_a_new_file_migrate_it_once(
        self, tmp_path: Path
    ) -> None:
        path = str(tmp_path / "fresh.db")

        run_processes(create_on_first_use, [(path,) for _ in range(WRITERS)])

        store = SqliteStore(path)
        assert store.migrate() == []
        assert Taskflow(store).list()["meta"]["count"] == WRITERS * UPDATES
        store.close()


def open_and_migrate(path: str, start: Event) -> None:
    store = SqliteStore(path)
    start.wait(30)
    store.migrate()
    store.close()


class TestManyProcessesOpeningANewFile:
    def test_none_fails_while_another_switches_the_file_to_wal(self, tmp_path: Path) -> None:
        # Switching a new file to WAL can be refused without waiting when several processes
        # do it at once; the race is narrow, so run it many times, with cheap forked workers.
        if "fork" not in multiprocessing.get_all_start_methods():
            pytest.skip("this platform cannot fork")
        ctx = multiprocessing.get_context("fork")
        for round_ in range(ROUNDS):
            start = ctx.Event()
            path = str(tmp_path / f"round-{round_}.db")
            processes = [ctx.Process(target=open_and_migrate, args=(path, start)) for _ in range(8)]
            for process in processes:
                process.start()
            start.set()
            for process in processes:
                process.join(60)
            assert [p.exitcode for p in processes] == [0] * len(processes), f"round {round_}"


class TestSeveralThreads:
    def test_threads_sharing_one_store_lose_no_update(self, sqlite_store: SqliteStore) -> None:
        flow = Taskflow(sqlite_store)
        case_id = flow.create({})["id"]

        def writer(name: str) -> None:
            for n in range(UPDATES):
                flow.update(case_id, {name: {str(n): True}})

        threads = [threading.Thread(target=writer, args=(f"t{i}",)) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        data = flow.get(case_id)["data"]
        assert data == {f"t{i}": {str(n): True for n in range(UPDATES)} for i in range(WRITERS)}


class TestAfterFork:
    def test_a_forked_worker_opens_its_own_connections(self, sqlite_store: SqliteStore) -> None:
        if "fork" not in multiprocessing.get_all_start_methods():
            pytest.skip("this platform cannot fork")
        flow = Taskflow(sqlite_store)
        flow.create({"by": "parent"})
        # The parent's pooled connection, which the child must never use.
        inherited = sqlite_store._pool.acquire()
        sqlite_store._pool.release(inherited)

        def worker() -> None:
            conn = sqlite_store._pool.acquire()
            sqlite_store._pool.release(conn)
            assert conn is not inherited
            flow.create({"by": "child"})

        child = multiprocessing.get_context("fork").Process(target=worker)
        child.start()
        child.join(60)

        assert child.exitcode == 0
        assert sorted(c["data"]["by"] for c in flow.list()["data"]) == ["child", "parent"]
