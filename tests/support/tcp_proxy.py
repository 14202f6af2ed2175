"""A TCP proxy a test can cut: the database going away, and coming back, without touching it.

Stopping closes every connection it carries and its listening socket, so a client sees its
sessions end and new connections refused, as when a server goes down; starting again listens
on the same port, as when it comes back. ``drop_answers(n)`` loses the next ``n`` answers
instead: the request reaches the upstream server and is carried out, and the connection is
cut when its answer comes back, as when a network fails at the worst moment.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

# How often the accepting thread looks up from accept() to see whether it should stop.
_POLL_SECONDS = 0.05


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream`` while started."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = 0  # chosen by the system when first started, then kept
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._answers_to_drop = 0
        self.dropped = 0

    def drop_answers(self, count: int) -> None:
        """Cut the connection instead of forwarding each of the next ``count`` answers."""
        with self._lock:
            self._answers_to_drop = count

    def start(self) -> Self:
        if self._listener is not None:
            raise RuntimeError("the proxy is already started")
        # create_server sets SO_REUSEADDR: the port is free again at once after a stop,
        # whatever connections of the last run linger in TIME_WAIT.
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(_POLL_SECONDS)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stopping.clear()
        self._spawn(self._accept, listener)
        return self

    def stop(self) -> None:
        """Refuse new connections and cut every open one; returns once all is closed."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        self._stopping.set()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
            threads, self._threads = self._threads, []
        listener.close()
        for sock in sockets:
            _cut(sock)
        for thread in threads:
            thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.settimeout(None)
            with self._lock:
                if self._stopping.is_set():
                    client.close()
                    server.close()
                    return
                self._sockets.update((client, server))
            self._spawn(self._pump, client, server)
            self._spawn(self._pump, server, client, True)

    def _pump(self, source: socket.socket, target: socket.socket, answers: bool = False) -> None:
        try:
            while data := source.recv(65536):
                if answers and self._take_drop():
                    break
                target.sendall(data)
        except OSError:
            pass  # cut by stop(), or by the other side
        # Either side ending ends both, as a dead server ends the client's session.
        _cut(source)
        _cut(target)

    def _take_drop(self) -> bool:
        with self._lock:
            if self._answers_to_drop <= 0:
                return False
            self._answers_to_drop -= 1
            self.dropped += 1
            return True

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()


def _cut(sock: socket.socket) -> None:
    # OSError: already closed, or never connected.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
