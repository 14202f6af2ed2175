"""Reading the change feed: opaque cursors, pages, and waiting for the next change."""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable
from typing import Any

from ..domain.model import Change, Position
from ..domain.wire import encode_json, entry_to_wire
from ..errors import Gone, InvalidRequest
from ..ports import ChangeRepository, ChangeWaiter, Store
from .answers import data
from .query import MAX_LIMIT

# How long a reader may ask to be held: long enough to save most polls, short enough for
# proxies' idle timeouts (commonly 60 s) and for a server's threads.
MAX_WAIT = 30.0
# Without a way to be told, a waiting reader looks again this often: a change is seen within
# a quarter of a second, for one indexed query per waiting reader per look.
POLL_INTERVAL = 0.25

# How much of its entries' JSON text (as they are sent) a page holds at most: a page of big
# entries ends early, its cursor at the last entry it holds, so a reader's memory and the
# server's stay bounded whatever ``limit`` says (issue 34, item 5). An entry bigger than the
# budget comes alone in its page. A parsed entry takes a few times its text in Python.
PAGE_BUDGET = 4 * 1024 * 1024
# The first read of a page asks the store for this many changes at most (more for a page of
# small entries only once their sizes are known), so that what is read past the budget, and
# dropped, is this many entries at most.
FIRST_READ = 32

# A cursor is at most two 64-bit numbers; anything much longer is not one of ours.
_MAX_CURSOR_LENGTH = 64
_POSITION_RE = re.compile(r"(0|[1-9][0-9]{0,18})\.(0|[1-9][0-9]{0,18})")
_BIGGEST = 2**63 - 1


def encode_cursor(position: Position) -> str:
    """Opaque to clients: they only hand it back. URL-safe, so it needs no escaping."""
    text = f"{position.tx}.{position.seq}".encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def decode_cursor(cursor: object, field: str = "after") -> Position | None:
    """The position a cursor names; None for None. InvalidRequest for anything this feed
    never gave out."""
    if cursor is None:
        return None
    malformed = InvalidRequest(f"{field} is not a cursor of this feed", {field: "invalid"})
    if not isinstance(cursor, str) or not 0 < len(cursor) <= _MAX_CURSOR_LENGTH:
        raise malformed
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise malformed from None
    found = _POSITION_RE.fullmatch(text)
    if found is None or encode_cursor(Position(int(found[1]), int(found[2]))) != cursor:
        raise malformed
    tx, seq = int(found[1]), int(found[2])
    if tx > _BIGGEST or seq > _BIGGEST:
        raise malformed
    return Position(tx, seq)


def check_limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        message = f"limit must be an integer from 1 to {MAX_LIMIT}"
        raise InvalidRequest(message, {"limit": "invalid"})
    return value


def check_wait(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= MAX_WAIT  # also refuses NaN
    ):
        message = f"wait must be a number of seconds from 0 to {MAX_WAIT:g}"
        raise InvalidRequest(message, {"wait": "invalid"})
    return float(value)


def change_to_wire(change: Change) -> dict[str, Any]:
    """A feed item: ``{"cursor", "caseId", "entry"}``, the entry as ``GET /{id}`` shows it."""
    return {
        "cursor": encode_cursor(change.position),
        "caseId": change.entry.case_id,
        "entry": entry_to_wire(change.entry),
    }


def page(changes: list[Change], after: str | None) -> dict[str, Any]:
    """``{"data": [...], "meta": {"next": cursor}}``; an empty page keeps the cursor given."""
    items = [change_to_wire(change) for change in changes]
    return data(items, next=items[-1]["cursor"] if items else after)


def waiter_of(store: Store) -> Callable[[float], None]:
    """How to wait for changes on ``store``: its own way, if it has one, else polling."""
    if isinstance(store, ChangeWaiter):
        return store.wait_for_changes
    return poll


def _check_not_pruned(pruned: Position | None, position: Position) -> None:
    if pruned is None or position.tx != 0 or position >= pruned:
        return
    restart = encode_cursor(pruned)
    raise Gone(
        "Changes after this cursor have been pruned; read on from the oldest kept with "
        f"after={restart}",
        {"after": "pruned", "restartAfter": restart},
    )


def poll(timeout: float) -> None:
    time.sleep(max(0.0, min(timeout, POLL_INTERVAL)))


def entry_size(change: Change) -> int:
    """The length of the change's entry as the feed sends it, near enough for a budget."""
    return len(encode_json(entry_to_wire(change.entry)))


def within_budget(
    changes: ChangeRepository, position: Position | None, limit: int, budget: int
) -> list[Change]:
    """Up to ``limit`` changes after ``position`` whose entries add up to ``budget`` at most
    (the first one whatever its size), read in as many reads as their sizes call for."""
    found: list[Change] = []
    used = 0
    ask = min(limit, FIRST_READ)
    while True:
        got = changes.after(found[-1].position if found else position, ask)
        for change in got:
            size = entry_size(change)
            if found and used + size > budget:
                return found
            found.append(change)
            used += size
        if len(got) < ask or len(found) == limit or used >= budget:
            return found
        # As many more as fit, at the average size so far.
        room = (budget - used) * len(found) // max(used, 1)
        ask = max(1, min(limit - len(found), room))


def read(
    store: Store, position: Position | None, limit: int, wait: float, budget: int | None = None
) -> list[Change]:
    """The changes after ``position``, within ``budget`` (PAGE_BUDGET by default); when there
    are none, keep looking for up to ``wait`` seconds. No connection is held between looks: a
    waiting reader costs the store nothing."""
    if budget is None:
        budget = PAGE_BUDGET  # looked up now, so a test can lower it
    deadline = time.monotonic() + wait
    wait_for_changes = waiter_of(store)
    while True:
        with store.unit_of_work(read_only=True) as uow:
            found = within_budget(uow.changes, position, limit, budget)
            if found and position is not None and found[0].position.seq != position.seq + 1:
                # A gap after the cursor: rolled back writes, or changes pruned since.
                _check_not_pruned(uow.changes.pruned(), position)
        remaining = deadline - time.monotonic()
        if found or remaining <= 0:
            return found
        wait_for_changes(remaining)
