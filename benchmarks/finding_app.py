"""The flow benchmarks/finding.py serves: five named views, as an inbox declares them."""

from __future__ import annotations

from taskflow_compose import database_url, store_from_url
from taskflow_core import Taskflow

flow = Taskflow(store_from_url(database_url()))
(
    flow.view("new", {"status": ["new"]}, title="New")
    .view("waiting", {"status": ["open", "awaiting-info"], "unassigned": True}, title="Waiting")
    .view("review", {"status": ["in-review"]}, title="In review")
    .view("mine", {"assignedTo": ["user-7"], "exclude": {"status": ["closed"]}}, title="Mine")
    .view("projects", {"data": {"licence": {"type": "project"}}, "status": ["open"]})
)
