"""``GET /_changes``: the change feed, held open with ``wait`` until something commits.

A held request holds one of the server's threads. So that readers following the feed
cannot take every thread from other requests, a process holds at most ``max_waiting`` of
them for as long as they ask; the others wait a second at most, and ask again.
"""

from __future__ import annotations

import re
import threading

import falcon
from falcon.uri import parse_query_string

from taskflow_core import Taskflow
from taskflow_core.errors import Forbidden, InvalidRequest
from taskflow_core.feed import DEFAULT_LIMIT, check_wait

from .rendering import write_json

# Plain decimal numbers only: Python's int() and float() also take "1_000", "nan" and digits
# of other scripts, none of which a client means.
_INTEGER = re.compile(r"[0-9]{1,7}")
_SECONDS = re.compile(r"[0-9]{1,7}(\.[0-9]{1,6})?")


def _one(query: dict[str, str | list[str]], name: str) -> str | None:
    value = query.get(name)
    if isinstance(value, list):
        raise InvalidRequest(f"{name} may be given once", {name: "invalid"})
    return value


def _integer(text: str, name: str) -> int:
    if not _INTEGER.fullmatch(text):
        raise InvalidRequest(f"{name} must be an integer", {name: "invalid"})
    return int(text)


def _seconds(text: str, name: str) -> float:
    if not _SECONDS.fullmatch(text):
        raise InvalidRequest(f"{name} must be a number of seconds", {name: "invalid"})
    return float(text)


# The feed shows every case's entries whatever the flow's decorators hide from a user, so
# it answers over HTTP only where the host said so (SPEC §9); relays read it from Python.
FEED_OFF_MESSAGE = (
    "The change feed is off over HTTP: it shows every case's entries, whatever decorators "
    "hide. Turn it on with create_app(flow, feed=True) or taskflow serve --feed."
)


# How long a reader past ``max_waiting`` is held: short enough to free its thread soon, long
# enough that a client asking again at once does not spin.
SHORT_WAIT = 1.0


class ChangesResource:
    """``?after=<cursor>&limit=1..1000&wait=0..30``; the ranges are checked by the service."""

    def __init__(
        self, flow: Taskflow, *, enabled: bool = False, max_waiting: int | None = None
    ) -> None:
        self.flow = flow
        self.enabled = enabled
        self._waiting = None if max_waiting is None else threading.BoundedSemaphore(max_waiting)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not self.enabled:
            raise Forbidden(FEED_OFF_MESSAGE)
        # keep_blank: ``limit=`` must fail, not vanish; csv=False: a comma makes a value
        # malformed, not two values.
        query = parse_query_string(req.query_string, keep_blank=True, csv=False)
        after, limit, wait = (_one(query, name) for name in ("after", "limit", "wait"))
        count = DEFAULT_LIMIT if limit is None else _integer(limit, "limit")
        seconds = check_wait(0.0 if wait is None else _seconds(wait, "wait"))
        if self._waiting is None or seconds <= SHORT_WAIT:
            write_json(resp, self.flow.changes(after, count, wait=seconds))
        elif self._waiting.acquire(blocking=False):
            try:
                write_json(resp, self.flow.changes(after, count, wait=seconds))
            finally:
                self._waiting.release()
        else:
            write_json(resp, self.flow.changes(after, count, wait=SHORT_WAIT))
