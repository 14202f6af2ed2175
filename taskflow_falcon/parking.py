"""Parking a request: how a server that can hold a request without a thread offers to.

A WSGI app answers on the thread that called it, so a request held open (``GET
/_changes?wait=``) holds that thread. A server that can do better puts a ``Parking`` in the
request's environ under ``PARKING`` (``taskflow serve``'s worker does:
``taskflow_cli/parking.py``). The app then asks it to park the request and answers nothing
this time; the server keeps the connection, with no thread, until ``ready()`` says there is
something to answer or the deadline passes, and then calls the app again with the same
request (``resumed`` true, the same ``Parking`` object), on a thread then free.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Protocol

PARKING = "taskflow.parking"


class Parking(Protocol):
    """A server's offer to hold one request without a thread."""

    @property
    def resumed(self) -> bool:
        """Whether this call of the app is a parked request, called again."""

    @property
    def parked(self) -> bool:
        """Whether the app asked, in this call, to park the request."""

    @property
    def deadline(self) -> float | None:
        """The ``until`` the request was last parked with (``time.monotonic()``), else None."""

    @property
    def state(self) -> dict[str, Any]:
        """The app's own notes about the request, kept from one call to the next."""

    def park(
        self,
        *,
        until: float,
        ready: Callable[[], bool],
        wait: Callable[[float], None],
        key: Hashable = None,
    ) -> None:
        """Hold the request until ``ready()`` (or until ``until``, a ``time.monotonic()``),
        then call the app again. ``wait(seconds)`` returns when something may have made a
        parked request ready (or after at most ``seconds``); the server's one waiting thread
        calls it, then ``ready`` of each parked request; requests parked with the same
        ``key`` (not None) share one call of ``ready`` per look."""


def parking_of(environ: dict[str, Any]) -> Parking | None:
    """The server's offer to park this request, or None when it makes none."""
    offer: Parking | None = environ.get(PARKING)
    return offer
