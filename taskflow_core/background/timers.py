"""Firing due timers: each in a transaction of its own, retried with backoff when it fails."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from ..application.pipeline import Pipeline
from ..domain.model import Timer
from ..ports import Store, UnitOfWork
from .backoff import retry_delay as backoff

logger = logging.getLogger(__name__)

# A failed timer is tried again after 5 s, then twice as long each time, up to an hour.
FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(hours=1)
# One sweep fires at most this many: a backlog is worked off in bounded steps, so a sweeper
# loop stays responsive to being stopped.
MAX_PER_SWEEP = 1000


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failure a timer is tried again."""
    return backoff(attempts, FIRST_RETRY, LONGEST_RETRY)


def run_due(
    store: Store, begin: Callable[[UnitOfWork], Pipeline], now: datetime, limit: int
) -> int:
    """Fire what is due at ``now``, one transaction each; how many fired. ``begin`` makes
    the transaction a timer fires in (no user, no payload: the system acts)."""
    fired = 0
    for _ in range(limit):
        outcome = _fire_next(store, begin, now)
        if outcome is None:
            break
        fired += outcome
    return fired


def _fire_next(store: Store, begin: Callable[[UnitOfWork], Pipeline], now: datetime) -> int | None:
    """1 when a timer fired, 0 when one failed (and waits for its retry), None when none is
    due."""
    with store.unit_of_work() as uow:
        timer = uow.timers.claim_due(now)
        if timer is None:
            return None
        tx = begin(uow)
        try:
            tx.fire_timer(timer)
            uow.commit()
        except Exception as exc:
            failure: Exception | None = exc
        else:
            failure = None
    if failure is None:
        tx.run_settled()
        return 1
    _postpone(store, timer, now, failure)
    return 0


def _postpone(store: Store, timer: Timer, now: datetime, failure: Exception) -> None:
    attempts = timer.attempts + 1
    delay = retry_delay(attempts)
    logger.warning(
        "timer %r of case %s failed (attempt %d); trying again in %s",
        timer.name,
        timer.case_id,
        attempts,
        delay,
        exc_info=failure,
    )
    with store.unit_of_work() as uow:
        current = uow.timers.get(timer.case_id, timer.name)
        # Only the timer that failed: if the case's timer was moved meanwhile, it is new.
        if current is not None and current.due == timer.due:
            error = f"{type(failure).__name__}: {failure}"[:1000]
            uow.timers.set(
                attrs.evolve(current, attempts=attempts, fire_at=now + delay, last_error=error)
            )
            uow.commit()
