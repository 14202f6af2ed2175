"""Resolving a webhook's host name within the send's deadline.

``getaddrinfo`` takes no timeout: a resolver that hangs would hold a send (and the relay's
worker) for as long as it likes, past the deadline ``http_sender.py`` promises for the whole
send. So the lookup runs in a thread of its own and the send waits for it at most what is
left of its deadline; a lookup that is not back by then fails the attempt as timed out (the
delivery is retried like any failure).

A lookup left behind keeps its thread until the resolver gives up. Concurrent lookups of the
same name and port share one thread, so a name whose resolver hangs holds one thread however
many sends wait for it, and a lookup of another name never queues behind it. The threads are
daemons: a relay told to stop exits without waiting for a hung resolver (the threads of a
``ThreadPoolExecutor`` are joined at the interpreter's exit).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

AddressInfo = tuple[Any, ...]
"""One of ``socket.getaddrinfo``'s answers: ``(family, type, proto, canonname, sockaddr)``."""

Lookup = Callable[[str, int | None], Sequence[AddressInfo]]
"""``lookup(host, port)``: the stream addresses of ``host``, as ``socket.getaddrinfo``
gives them; raises OSError when the name does not resolve."""


def getaddrinfo(host: str, port: int | None) -> Sequence[AddressInfo]:
    """The system's resolver: ``socket.getaddrinfo`` for stream sockets."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


class Resolver:
    """Runs ``lookup`` (default: the system's) bounded by a caller's timeout."""

    def __init__(self, lookup: Lookup = getaddrinfo) -> None:
        self._lookup = lookup
        self._running: dict[tuple[str, int | None], Future[Sequence[AddressInfo]]] = {}
        self._lock = threading.Lock()

    def resolve(self, host: str, port: int | None, timeout: float) -> Sequence[AddressInfo]:
        """``host``'s addresses; TimeoutError when the lookup is not back within ``timeout``
        seconds, OSError when it fails."""
        if timeout <= 0:
            raise TimeoutError("timed out")
        try:
            return self._started(host, port).result(timeout)
        except FutureTimeout:
            raise TimeoutError(f"resolving {host} timed out") from None

    def in_flight(self) -> int:
        """How many lookups are running (each in a thread of its own)."""
        with self._lock:
            return len(self._running)

    def _started(self, host: str, port: int | None) -> Future[Sequence[AddressInfo]]:
        key = (host, port)
        with self._lock:
            running = self._running.get(key)
            if running is not None:
                return running
            future: Future[Sequence[AddressInfo]] = Future()
            self._running[key] = future
        threading.Thread(
            target=self._run, args=(key, future), name="taskflow-resolve", daemon=True
        ).start()
        return future

    def _run(self, key: tuple[str, int | None], future: Future[Sequence[AddressInfo]]) -> None:
        try:
            found = self._lookup(*key)
        except Exception as exc:  # every waiter gets the lookup's own failure
            self._finished(key)
            future.set_exception(exc)
        else:
            self._finished(key)
            future.set_result(found)

    def _finished(self, key: tuple[str, int | None]) -> None:
        # Before the waiters are told: a send that starts afterwards looks the name up anew.
        with self._lock:
            del self._running[key]
