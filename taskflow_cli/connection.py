"""A client connection of ``HeadFirstWorker``: what of its next request arrived before a
thread took it, and the deadline that thread reads and writes under."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from gunicorn.http.unreader import SocketUnreader
from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import TConn


class DeadlineUnreader(SocketUnreader):  # type: ignore[misc]
    """gunicorn's socket reader, refusing to wait past the request's deadline.

    A socket timeout alone bounds each read, not their sum: a body sent a byte a second
    would hold the thread for as many seconds as it has bytes.
    """

    deadline: float | None = None

    def chunk(self, size_hint: int | None = None) -> bytes:
        if self.deadline is None:
            return super().chunk(size_hint)  # type: ignore[no-any-return]
        # Past the deadline what has already arrived is still taken, and nothing waited for.
        remaining = max(self.deadline - time.monotonic(), 0.0)
        previous = self.sock.gettimeout()
        self.sock.settimeout(remaining if previous is None else min(previous, remaining))
        try:
            return super().chunk(size_hint)  # type: ignore[no-any-return]
        except BlockingIOError:
            raise TimeoutError("the request did not arrive in time") from None
        finally:
            self.sock.settimeout(previous)


class Connection(TConn):  # type: ignore[misc]
    """A client connection, and what of its next request arrived before a thread took it."""

    def __init__(
        self,
        cfg: Any,
        sock: socket.socket,
        client: Any,
        server: Any,
        *,
        io_timeout: float,
        linger: Callable[[socket.socket], None],
    ):
        super().__init__(cfg, sock, client, server)
        self.io_timeout = io_timeout
        self.linger = linger
        self.head_first = (
            not cfg.is_ssl
            and getattr(cfg, "protocol", "http") == "http"
            and not negotiation.prior_knowledge_allowed(cfg, client)
        )
        self.received = b""

    def take_buffered(self) -> bytes:
        """Bytes the parser read past the last request (a pipelined next one), taken out."""
        if self.parser is None:
            return b""
        taken: bytes = self.parser.unreader.take_buffered()
        return taken

    def init(self) -> None:
        # gunicorn calls this in the thread before every request, just after making the
        # socket blocking with no timeout: the place to bound this request's reads and writes
        # (a client that stops reading our answer must not keep the thread either), and to
        # give the parser what the poller read.
        first = not self.initialized
        super().init()
        if not self.head_first:
            return
        if first:
            self.parser.unreader = DeadlineUnreader(self.sock)
        self.parser.unreader.deadline = time.monotonic() + self.io_timeout
        self.sock.settimeout(self.io_timeout)
        if self.received:
            self.parser.unreader.unread(self.received)
            self.received = b""

    def close(self, graceful: bool = False) -> None:
        # gunicorn closes gracefully in the poller's thread, waiting up to 2 s for the
        # client to close its side: a client that does not stops every other connection
        # for that long. The wait is the poller's to do, without blocking.
        if graceful and self.head_first:
            self.linger(self.sock)
        else:
            super().close(graceful)
