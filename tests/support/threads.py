"""Running the same work on many threads at once, for the concurrency tests."""

import threading
from collections.abc import Callable
from typing import Any


def run_together(work: Callable[[int], Any], threads: int) -> list[Any]:
    """Run ``work(n)`` on each thread, released at once by a barrier; results in thread order.
    An exception in any thread fails the test."""
    barrier = threading.Barrier(threads)
    results: list[Any] = [None] * threads
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[n] = work(n)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert not errors, errors
    assert not any(worker.is_alive() for worker in workers)
    return results
