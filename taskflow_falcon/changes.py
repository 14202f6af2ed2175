"""``GET /_changes``: the change feed, held open with ``wait`` until something commits.

Under a server that can park a request (``taskflow serve``'s worker: ``parking.py``), a
waiting reader holds no thread: it is parked, and called again when something commits or
its time is up. Under any other server a held request holds one of the server's threads, so
a process holds at most ``max_waiting`` of them; the others are answered at once, with
``Retry-After`` when there is nothing yet (docs/integrations.md, "Waiting").
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import falcon
from falcon.uri import parse_query_string

from taskflow_core import Taskflow
from taskflow_core.application.feed import check_wait, waiter_of
from taskflow_core.application.query import DEFAULT_LIMIT
from taskflow_core.errors import Forbidden, InvalidRequest

from .parking import Parking, parking_of
from .rendering import write_json
from .resources import user_of

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


# Without parking, how many readers a process holds on its threads by default: a few, so
# that a server of a handful of threads keeps most of them for everything else.
DEFAULT_MAX_WAITING = 2
# What a reader answered at once, past ``max_waiting``, is told to wait before asking again.
RETRY_AFTER_SECONDS = 1


class ChangesResource:
    """``?after=<cursor>&limit=1..1000&wait=0..30``; the ranges are checked by the service."""

    def __init__(
        self,
        flow: Taskflow,
        *,
        enabled: bool = False,
        max_waiting: int | None = DEFAULT_MAX_WAITING,
    ) -> None:
        self.flow = flow
        self.enabled = enabled
        self._waiting = None if max_waiting is None else threading.BoundedSemaphore(max_waiting)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        user = user_of(req)
        access = self.flow.access_rules
        if access is not None:
            # Declared access rules decide who reads the feed, whatever create_app said.
            access.check_feed(user)
        elif not self.enabled:
            raise Forbidden(FEED_OFF_MESSAGE)
        # keep_blank: ``limit=`` must fail, not vanish; csv=False: a comma makes a value
        # malformed, not two values.
        query = parse_query_string(req.query_string, keep_blank=True, csv=False)
        after, limit, wait = (_one(query, name) for name in ("after", "limit", "wait"))
        count = DEFAULT_LIMIT if limit is None else _integer(limit, "limit")
        seconds = check_wait(0.0 if wait is None else _seconds(wait, "wait"))
        parking = parking_of(req.env)
        if seconds == 0:
            write_json(resp, self.flow.changes(after, count, user=user))
        elif parking is not None:
            self._park_until_changed(resp, parking, after, count, seconds, user)
        elif self._waiting is not None and not self._waiting.acquire(blocking=False):
            page = self.flow.changes(after, count, user=user)
            if not page["data"]:
                resp.set_header("Retry-After", str(RETRY_AFTER_SECONDS))
            write_json(resp, page)
        else:
            try:
                write_json(resp, self.flow.changes(after, count, wait=seconds, user=user))
            finally:
                if self._waiting is not None:
                    self._waiting.release()

    def _park_until_changed(
        self,
        resp: falcon.Response,
        parking: Parking,
        after: str | None,
        count: int,
        seconds: float,
        user: Any,
    ) -> None:
        deadline = parking.deadline if parking.resumed else None
        if deadline is None:
            deadline = time.monotonic() + seconds
        page = self.flow.changes(after, count, user=user)
        if page["data"] or time.monotonic() >= deadline:
            write_json(resp, page)
            return

        def ready() -> bool:
            return bool(self.flow.changes(after, 1, user=user)["data"])

        # Readers at the same cursor (most are at the head) share one look per wake-up.
        key = (id(self.flow), after)
        parking.park(until=deadline, ready=ready, wait=waiter_of(self.flow.store), key=key)
