"""MemoryStore specifics: thread safety and isolation from callers' objects."""

import threading

from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore


def test_concurrent_updates_from_threads_lose_nothing() -> None:
    flow = Taskflow(MemoryStore())
    case = flow.create({})
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        barrier.wait()
        for i in range(10):
            flow.update(case["id"], {f"t{n}-{i}": True})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(flow.get(case["id"])["data"]) == 80


def test_returned_data_cannot_change_the_stored_case() -> None:
    flow = Taskflow(MemoryStore())
    data = {"a": {"b": 1}}
    case = flow.create(data)
    data["a"]["b"] = 2
    case["data"]["a"]["b"] = 3
    assert flow.get(case["id"])["data"] == {"a": {"b": 1}}
