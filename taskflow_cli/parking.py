"""Requests parked without a thread: the worker's side of ``taskflow_falcon/parking.py``.

A request the app asks to park (a reader of the change feed waiting for a change) leaves
its thread; its connection waits here. One thread per worker waits for a change with the
app's ``wait`` (on PostgreSQL, the process's ``LISTEN``), then asks each parked request's
``ready()`` (one look per cursor), and hands back those ready or out of time, to be called
again on a thread of the pool. So 64 waiting readers cost one thread, not 64, and every
other request finds the pool's threads free.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

import attrs

from taskflow_falcon.parking import PARKING

logger = logging.getLogger(__name__)

# The longest the waiting thread waits before looking at every parked request again, so a
# request parked meanwhile, or out of time, is answered within about this long.
LONGEST_WAIT = 0.5


def _no_wait(seconds: float) -> None:
    time.sleep(min(seconds, LONGEST_WAIT))


@attrs.define(eq=False)
class Ticket:
    """One request's ``Parking`` (``environ[PARKING]``), kept across its calls of the app."""

    request: Any = None  # the server's parsed request, to call the app with again
    resumed: bool = False
    parked: bool = False
    deadline: float | None = None
    state: dict[str, Any] = attrs.field(factory=dict)
    ready: Callable[[], bool] = attrs.field(default=lambda: True)
    wait: Callable[[float], None] = _no_wait
    key: Hashable = None

    def park(
        self,
        *,
        until: float,
        ready: Callable[[], bool],
        wait: Callable[[float], None],
        key: Hashable = None,
    ) -> None:
        self.parked, self.deadline, self.ready, self.wait, self.key = True, until, ready, wait, key


class ParkedRequest(Exception):
    """Raised out of the app's call when it parked the request: nothing is to be written."""


class ParkingApp:
    """The WSGI app, offered a ``Ticket`` on each request the worker can park."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.current = threading.local()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        ticket: Ticket | None = getattr(self.current, "ticket", None)
        if ticket is None:
            return self.app(environ, start_response)
        environ[PARKING] = ticket
        answer = self.app(environ, start_response)
        if ticket.parked:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
            raise ParkedRequest
        return answer


class ParkingLot:
    """Parked connections, and the one thread that wakes them.

    ``resume(conn)`` is called from that thread for each connection to call the app again;
    it must hand the work to the worker's own loop (it is not thread-safe).
    """

    def __init__(self, resume: Callable[[Any], None]) -> None:
        self._resume = resume
        self._parked: dict[Any, Ticket] = {}
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = False

    def __len__(self) -> int:
        with self._changed:
            return len(self._parked)

    def park(self, conn: Any, ticket: Ticket) -> None:
        with self._changed:
            if self._closing and ticket.deadline is not None:
                ticket.deadline = time.monotonic()
            self._parked[conn] = ticket
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="taskflow-parked-requests", daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def forget(self, conn: Any) -> Ticket | None:
        """Take ``conn`` out (its client is gone); None when it is being resumed already."""
        with self._changed:
            return self._parked.pop(conn, None)

    def close(self) -> None:
        """Answer every parked request now (the worker stops), and any parked later."""
        now = time.monotonic()
        with self._changed:
            self._closing = True
            for ticket in self._parked.values():
                ticket.deadline = now
            self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._parked:
                    self._changed.wait()
                parked = list(self._parked.items())
            try:
                self._look(parked)
            except Exception:
                # Never let the thread die: parked requests would wait for their deadline.
                logger.exception("waking parked requests failed")
                time.sleep(LONGEST_WAIT)

    def _look(self, parked: list[tuple[Any, Ticket]]) -> None:
        earliest = min(ticket.deadline or 0.0 for _, ticket in parked)
        remaining = min(earliest - time.monotonic(), LONGEST_WAIT)
        if remaining > 0:
            parked[0][1].wait(remaining)
        now = time.monotonic()
        seen: dict[Hashable, bool] = {}
        due = []
        for conn, ticket in parked:
            if (ticket.deadline or 0.0) <= now or self._is_ready(ticket, seen):
                due.append(conn)
        with self._changed:
            # One whose client hung up meanwhile was forgotten (``forget``): not resumed.
            due = [conn for conn in due if self._parked.pop(conn, None) is not None]
        for conn in due:
            self._resume(conn)

    @staticmethod
    def _is_ready(ticket: Ticket, seen: dict[Hashable, bool]) -> bool:
        if ticket.key is not None and ticket.key in seen:
            return seen[ticket.key]
        try:
            ready = ticket.ready()
        except Exception:
            # The app, called again, answers the failure (a 503 when the store is away).
            logger.debug("a parked request's look failed", exc_info=True)
            ready = True
        if ticket.key is not None:
            seen[ticket.key] = ready
        return ready
