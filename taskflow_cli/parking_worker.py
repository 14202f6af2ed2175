"""``ParkingWorker``: gunicorn's threaded worker, giving back the thread of a request the
app parks until it can be answered.

The app is offered a ``Ticket`` (``environ["taskflow.parking"]``: the contract is
``taskflow_falcon/parking.py``) on each request of a plain HTTP/1 connection. When the app
parks the request, nothing is written; the thread returns the ticket instead of keep-alive,
and the poller's thread puts the connection in the ``ParkingLot`` (``parking.py``), whose one
thread hands it back, to be called again on a thread of the pool, when it is ready or out of
time. ``HeadFirstWorker`` (``worker.py``) is one.
"""

from __future__ import annotations

import selectors
import socket
from functools import partial
from typing import Any

from gunicorn import http
from gunicorn.workers.gthread import ThreadWorker

from .connection import Connection
from .parking import ParkedRequest, ParkingApp, ParkingLot, Ticket


class ParkingWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's ``gthread`` worker, parking what the app asks it to."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parking_app: ParkingApp | None = None
        self.parking_lot = ParkingLot(self._resume_soon)
        self.parked: dict[Connection, Ticket] = {}
        # Parked connections the poller watches, to notice a client that hangs up.
        self.watched: set[Connection] = set()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        app: Any = getattr(self, "wsgi")  # noqa: B009 (gunicorn's attribute, untyped)
        self.parking_app = ParkingApp(app)
        setattr(self, "wsgi", self.parking_app)  # noqa: B010

    def handle(self, conn: Any) -> Any:
        ticket = self.parked.pop(conn, None) if isinstance(conn, Connection) else None
        if ticket is None:
            return super().handle(conn)
        # A parked request, called again: gthread's handle() without reading a request.
        try:
            conn.sock.setblocking(True)
            conn.sock.settimeout(conn.io_timeout)
            return self._keepalive_after(conn, self._handle_parkable(ticket.request, conn, ticket))
        except (http.errors.NoMoreData, StopIteration):
            return False
        except OSError as exc:
            self.log.debug("Parked request's connection failed: %s", exc)
            return False
        except Exception as exc:
            self.handle_error(ticket.request, conn.sock, conn.client, exc)
            return False

    def handle_request(self, req: Any, conn: Any) -> Any:
        if not (isinstance(conn, Connection) and conn.head_first) or self.parking_app is None:
            return super().handle_request(req, conn)
        return self._handle_parkable(req, conn, Ticket(request=req))

    def _handle_parkable(self, req: Any, conn: Connection, ticket: Ticket) -> Any:
        assert self.parking_app is not None
        ticket.parked = False
        self.parking_app.current.ticket = ticket
        try:
            return super().handle_request(req, conn)
        except ParkedRequest:
            ticket.request = req
            return ticket
        finally:
            self.parking_app.current.ticket = None

    def finish_request(self, conn: Any, fs: Any) -> None:
        ticket = None if fs.cancelled() or fs.exception() else fs.result()
        if not isinstance(ticket, Ticket):
            super().finish_request(conn, fs)
            return
        # In the poller's thread: the connection waits in the parking lot, with no thread.
        ticket.resumed = True
        self.parked[conn] = ticket
        conn.sock.setblocking(False)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, partial(self._on_parked_readable, conn)
        )
        self.watched.add(conn)
        self.parking_lot.park(conn, ticket)

    def _on_parked_readable(self, conn: Connection, _fileobj: object) -> None:
        # A parked client sent something: its close (forget it now, rather than answer it
        # at its deadline), or the start of its next request (read once it is answered).
        try:
            gone = conn.sock.recv(1, socket.MSG_PEEK) == b""
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            gone = True
        self._unwatch(conn)
        if gone and self.parking_lot.forget(conn) is not None:
            self.parked.pop(conn, None)
            self.nr_conns -= 1
            conn.close()

    def _unwatch(self, conn: Connection) -> None:
        if conn in self.watched:
            self.watched.discard(conn)
            self.poller.unregister(conn.sock)

    def _resume_soon(self, conn: Connection) -> None:
        # From the parking lot's thread: the poller's loop hands the request to a thread.
        self.method_queue.defer(self._resume, conn)

    def _resume(self, conn: Connection) -> None:
        self._unwatch(conn)
        ThreadWorker.enqueue_req(self, conn)

    def _keepalive_after(self, conn: Any, keepalive: Any) -> Any:
        if isinstance(keepalive, Ticket):
            return keepalive  # parked: the connection is neither kept alive nor closed
        return super()._keepalive_after(conn, keepalive)
