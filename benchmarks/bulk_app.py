"""The flow benchmarks/bulk.py serves: one hook on every status change, as a host's
notification or bookkeeping hook would be (it reads the case and patches its data)."""

from __future__ import annotations

from taskflow_compose import database_url, store_from_url
from taskflow_core import HookEvent, Taskflow

flow = Taskflow(store_from_url(database_url()))


@flow.hook("status:*:*")
def stamp(event: HookEvent) -> None:
    event.patch({"lastMove": event.event})
