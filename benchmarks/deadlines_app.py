"""The flow benchmarks/deadlines.py serves and sweeps with: one deadline, as a licensing
office declares it (docs/deadlines.md), on the statuses benchmarks/seed.sql gives cases."""

from __future__ import annotations

from taskflow_compose import database_url, store_from_url
from taskflow_core import BusinessDays, Taskflow

flow = Taskflow(store_from_url(database_url())).deadline(
    "decision",
    within=BusinessDays(40),
    starts=["new", "open"],
    pauses=["awaiting-info"],
    stops=["approved", "rejected", "closed"],
)
