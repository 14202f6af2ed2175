"""Backoff for work retried beside requests (timers whose hooks failed, undelivered webhooks)."""

from __future__ import annotations

from datetime import timedelta


def retry_delay(attempts: int, first: timedelta, longest: timedelta) -> timedelta:
    """How long after its ``attempts``-th failure a thing is tried again: ``first``, doubled
    at each failure, never more than ``longest``."""
    return min(first * (1 << min(attempts - 1, 20)), longest)
