"""A background loop that prunes what grows forever (application/retention.py) on a schedule:
what `taskflow serve --prune-older-than` runs in its workers, one of them at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from ..application.retention import BATCH
from .periodic import Periodic

logger = logging.getLogger(__name__)

DEFAULT_EVERY = timedelta(hours=1)


class Prunable(Protocol):
    def prune(
        self, older_than: timedelta, *, dry_run: bool = False, batch: int = BATCH
    ) -> dict[str, int]: ...


def _always() -> bool:
    return True


class Pruner(Periodic):
    """Calls ``flow.prune(older_than)`` every ``every``, in its batches of short
    transactions, when ``ours()`` says this process is the one to (a server's workers would
    otherwise each delete the same rows, waiting on each other's locks). The first prune
    runs at start."""

    what = "prune"

    def __init__(
        self,
        flow: Prunable,
        older_than: timedelta,
        every: timedelta = DEFAULT_EVERY,
        ours: Callable[[], bool] = _always,
    ) -> None:
        super().__init__(every.total_seconds())
        self.flow = flow
        self.older_than = older_than
        self._ours = ours

    def work(self) -> None:
        if not self._ours():
            return
        counts = self.flow.prune(self.older_than)
        if any(counts.values()):
            logger.info(
                "pruned %d change(s), %d delivery(ies), %d idempotency key(s)",
                counts["changes"],
                counts["deliveries"],
                counts["idempotencyKeys"],
            )
