"""``HeadFirstWorker``: gunicorn's threaded worker, giving a thread only to a request that
has arrived.

gunicorn's ``gthread`` hands each new (or kept-alive and readable) connection to a thread,
which then blocks reading the request head with no timeout: as many half-sent heads as
there are threads and the server answers nobody. Here the worker's poller loop reads the
head, and a body of known length up to ``BODY_BUFFER_LIMIT``, without blocking; only a
request that has arrived whole goes to the thread pool. A head not whole within the header
timeout is closed; a body not whole within the body timeout is answered 408 and closed.
What a thread still reads (a chunked or larger body) or writes runs under the body timeout.
Two more waits of gthread's are taken out of threads and the poller's way: draining the
unread rest of a body before keep-alive (only what has arrived is taken, else the connection
closes), and lingering for the client's close after the last answer (done by the poller).
And a request the app parks (a reader of the change feed waiting for a change:
``taskflow_falcon/parking.py``) gives its thread back until it can be answered
(``parking_worker.py``).

Serve with ``taskflow serve``, or ``gunicorn -k taskflow_cli.worker.HeadFirstWorker``. With
TLS terminated by gunicorn itself (or HTTP/2 by prior knowledge, or the uwsgi protocol) a
connection is served exactly as by ``gthread``: its first bytes are not plain HTTP/1.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import time
import uuid
from datetime import datetime
from functools import partial
from typing import Any

import attrs
from gunicorn import util
from gunicorn.http.message import Request

from taskflow_compose.environment import BODY_TIMEOUT_ENV, HEADER_TIMEOUT_ENV
from taskflow_falcon.access_log import log_request, loggable_target
from taskflow_falcon.body import DEFAULT_MAX_BODY_SIZE
from taskflow_falcon.errors import INTERNAL_ERROR_MESSAGE

from .arrival import ArrivalLimits, bytes_needed
from .connection import Connection
from .error_pages import client_error, json_error_response
from .parking import Ticket
from .parking_worker import ParkingWorker

# Read by each worker; `taskflow serve --header-timeout/--body-timeout` sets them.
DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_BODY_TIMEOUT = 30.0
# Bodies up to the app's own default limit are held in memory until whole; a client must
# send those bytes to make us hold them, so a slow one costs memory only as fast as it sends.
BODY_BUFFER_LIMIT = DEFAULT_MAX_BODY_SIZE
RECV_SIZE = 64 * 1024
# A stopping worker still waits this long for requests already arriving, as gunicorn does
# for its kept-alive connections, then closes them.
STOP_LINGER = 2.0
# How long, and for how many bytes, a closed connection's last request bytes are drained
# so that closing does not reset the connection under the answer: gunicorn's numbers.
LINGER_SECONDS = 2.0
LINGER_BYTES = 64 * 1024
# Deadlines are checked at most this often: the poller loop turns once per event.
SWEEP_INTERVAL = 0.5


def timeout_from_env(name: str, default: float) -> float:
    """Seconds from the environment variable ``name``, else ``default``."""
    raw = os.environ.get(name)
    if not raw:
        return default
    seconds = float(raw)
    if not seconds > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {raw!r}")
    return seconds


@attrs.define
class _Lingering:
    deadline: float
    drained: int = 0


@attrs.define
class _Arrival:
    received: bytearray
    deadline: float
    head_complete: bool = False
    # How many leading bytes were already found to be an incomplete head.
    searched: int = 0


class HeadFirstWorker(ParkingWorker):
    """gunicorn's ``gthread`` worker whose threads only ever take whole requests (and give
    back those the app parks: ``parking_worker.py``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = timeout_from_env(HEADER_TIMEOUT_ENV, DEFAULT_HEADER_TIMEOUT)
        self.body_timeout = timeout_from_env(BODY_TIMEOUT_ENV, DEFAULT_BODY_TIMEOUT)
        self.limits = ArrivalLimits.from_config(self.cfg, BODY_BUFFER_LIMIT)
        self.arriving: dict[Connection, _Arrival] = {}
        self.lingering: dict[socket.socket, _Lingering] = {}
        self._next_sweep = 0.0
        self._stop_deadline: float | None = None

    def accept(self, listener: socket.socket) -> None:
        # gunicorn's, making a connection of ours.
        try:
            sock, client = listener.accept()
        except OSError as e:
            if e.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        self.nr_conns += 1
        conn = Connection(
            self.cfg,
            sock,
            client,
            listener.getsockname(),
            io_timeout=self.body_timeout,
            linger=self._linger,
        )
        self.enqueue_req(conn)

    def enqueue_req(self, conn: Any) -> None:
        """Wait in the poller for ``conn``'s next request to arrive, then hand it to a thread.

        gunicorn calls this (in the poller's thread) for a new connection, a kept-alive one
        that became readable, and one whose last read took the start of the next request.
        """
        if not (isinstance(conn, Connection) and conn.head_first):
            super().enqueue_req(conn)
            return
        arrival = _Arrival(bytearray(conn.take_buffered()), time.monotonic() + self.header_timeout)
        if self._has_arrived(arrival):
            self._hand_over(conn, arrival)
            return
        conn.sock.setblocking(False)
        self.arriving[conn] = arrival
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: Connection, _fileobj: object) -> None:
        arrival = self.arriving[conn]
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            # Gone before its request was whole: nobody is left to answer.
            self._forget(conn)
            self._close(conn)
            return
        arrival.received += data
        if self._has_arrived(arrival):
            self._forget(conn)
            self._hand_over(conn, arrival)

    def _has_arrived(self, arrival: _Arrival) -> bool:
        needed = bytes_needed(arrival.received, self.limits, arrival.searched)
        if needed is None:
            arrival.searched = len(arrival.received)
            return False
        if len(arrival.received) >= needed:
            return True
        if not arrival.head_complete:
            arrival.head_complete = True
            arrival.deadline = time.monotonic() + self.body_timeout
        return False

    def _hand_over(self, conn: Connection, arrival: _Arrival) -> None:
        conn.received = bytes(arrival.received)
        # gthread's thread would otherwise wait for the socket to be readable again.
        conn.data_ready = True
        super().enqueue_req(conn)

    def _forget(self, conn: Connection) -> None:
        del self.arriving[conn]
        self.poller.unregister(conn.sock)

    def _close(self, conn: Connection) -> None:
        self.nr_conns -= 1
        conn.close()

    def _linger(self, sock: socket.socket) -> None:
        try:
            sock.setblocking(False)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            util.close(sock)
            return
        self.lingering[sock] = _Lingering(time.monotonic() + LINGER_SECONDS)
        self.poller.register(sock, selectors.EVENT_READ, self._drain)

    def _drain(self, sock: socket.socket) -> None:
        lingering = self.lingering[sock]
        while lingering.drained < LINGER_BYTES:
            try:
                data = sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                break
            if not data:
                break
            lingering.drained += len(data)
        self._stop_lingering(sock)

    def _stop_lingering(self, sock: socket.socket) -> None:
        del self.lingering[sock]
        self.poller.unregister(sock)
        util.close(sock)

    def _keepalive_after(self, conn: Any, keepalive: Any) -> Any:
        if isinstance(keepalive, Ticket):
            return keepalive  # parked: see ParkingWorker
        # Before keeping a connection alive, gunicorn reads whatever body the app left
        # unread (after a 413, say), for up to seconds: a thread held by a slow client
        # again. Only what has already arrived is taken; otherwise the connection closes.
        if keepalive and isinstance(conn, Connection) and conn.head_first:
            conn.parser.unreader.deadline = time.monotonic()
        return super()._keepalive_after(conn, keepalive)

    def murder_keepalived(self, force: bool = False) -> None:
        # gunicorn's poller loop calls this on every turn and once more, forced, as it stops.
        super().murder_keepalived(force)
        self._close_late_arrivals(force)

    def _close_late_arrivals(self, force: bool) -> None:
        now = time.monotonic()
        if now < self._next_sweep and not force:
            return
        self._next_sweep = now + SWEEP_INTERVAL
        if not self.alive and self._stop_deadline is None:
            self._stop_deadline = now + STOP_LINGER
            # Parked requests are answered now (with what there is), then closed.
            self.parking_lot.close()
        for sock, lingering in list(self.lingering.items()):
            if force or lingering.deadline <= now:
                self._stop_lingering(sock)
        for conn, arrival in list(self.arriving.items()):
            deadline = min(arrival.deadline, self._stop_deadline or arrival.deadline)
            if deadline > now and not force:
                continue
            self._forget(conn)
            if arrival.head_complete:
                # A client sending a body may still read an answer; a half-sent head is a
                # client that might not even speak HTTP, closed as nginx closes it.
                self.log.debug("Request body from %s did not arrive in time", conn.client)
                late = json_error_response(408, "The request body did not arrive in time")
                self._write_quietly(conn.sock, late)
            else:
                self.log.debug("Request head from %s did not arrive in time", conn.client)
            self._close(conn)

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        """Answer a request gunicorn could not parse or serve, in JSON like the app."""
        started = datetime.now()
        addr = addr or ("", -1)  # a UNIX socket's peer has no address
        answer = client_error(exc)
        if answer is None:
            self.log.error("Error handling request", exc_info=exc)
            status, message = 500, INTERNAL_ERROR_MESSAGE
        else:
            status, message = answer
            self.log.warning("Invalid request from ip=%s: %s", addr[0], exc)
        response = json_error_response(status, message)
        self._write_quietly(client, response)
        if req is None and isinstance(getattr(exc, "req", None), Request):
            # A malformed header field carries the request it was found in; other errors'
            # ``req`` is the offending text.
            req = exc.req  # type: ignore[attr-defined]
        # In the app's access log too, though the app never saw it (serve turns gunicorn's
        # own access log off: taskflow_cli/logs.py); "-" where the head could not be read
        # as far as its method and target (how far depends on the parser).
        if req is None:
            method, target, path = "-", "-", "-"
        else:
            method, path = req.method or "-", req.path or "-"
            target = loggable_target(path, req.query or "")
        elapsed_ms = (datetime.now() - started).total_seconds() * 1000
        log_request(method, target, path, status, elapsed_ms, uuid.uuid4().hex)

    def _write_quietly(self, sock: socket.socket, response: bytes) -> None:
        try:
            # Never blocks: a client that does not read its error is not waited for.
            util.write_nonblock(sock, response)
        except OSError:
            self.log.debug("Failed to send error message.")
