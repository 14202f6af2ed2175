"""A flow's clock moved by hand (``Taskflow(store, clock=...)``): tests set ``at`` instead of
sleeping through delays, backoff or deadlines."""

from __future__ import annotations

from datetime import datetime


class HandClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at
