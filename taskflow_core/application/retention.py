"""Pruning what grows forever: the change feed's oldest changes, deliveries that ended, and
expired idempotency keys. Never a case or its activity log: those are the record.

Each kind goes in batches, each batch a short transaction of its own, so a prune holds no
lock for long and can run beside a serving node. The feed only loses its oldest changes, and
none a webhook still has to fan out, nor the newest; a feed reader whose cursor points into
pruned changes is told so (410) with the cursor to read on from (application/feed.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ..domain.model import Position
from ..ports import Store, UnitOfWork

BATCH = 1000


def prune(
    store: Store, now: datetime, older_than: timedelta, *, dry_run: bool = False, batch: int = BATCH
) -> dict[str, int]:
    """How many changes, deliveries and idempotency keys were (with ``dry_run``: would be)
    deleted: changes and ended deliveries older than ``older_than``, keys expired by now."""
    if older_than < timedelta(0):
        raise ValueError("older_than must not be negative")
    if batch < 1:
        raise ValueError("batch must be at least 1")
    before = now - older_than
    counts = {"changes": 0, "deliveries": 0, "idempotencyKeys": 0}

    def changes(uow: UnitOfWork, limit: int) -> int:
        return len(uow.changes.prune(before, _fanned_out(uow), limit))

    def deliveries(uow: UnitOfWork, limit: int) -> int:
        return uow.deliveries.prune(before, limit)

    def keys(uow: UnitOfWork, limit: int) -> int:
        return uow.idempotency.prune(now, limit)

    steps: dict[str, Callable[[UnitOfWork, int], int]] = {
        "changes": changes,
        "deliveries": deliveries,
        "idempotencyKeys": keys,
    }
    for kind, step in steps.items():
        while True:
            with store.unit_of_work() as uow:
                # A dry run counts all in one batch and rolls it back: nothing it deleted
                # stays deleted, so a second batch would count the same rows again.
                done = step(uow, batch if not dry_run else 2**31)
                if not dry_run:
                    uow.commit()
            counts[kind] += done
            if dry_run or done < batch:
                break
    return counts


def _fanned_out(uow: UnitOfWork) -> Position:
    """The last change every webhook has turned into deliveries: none after it may go."""
    cursors = [webhook.cursor for webhook in uow.webhooks.all()]
    head = uow.changes.head()
    if any(cursor is None for cursor in cursors):
        return Position(0, 0)  # a webhook that starts from the feed's very beginning
    return min([head, *(c for c in cursors if c is not None)])
