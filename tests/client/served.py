"""The flow the behaviour suite runs against, in process and behind ``taskflow serve``: one
configuration, so both sides answer the same requests under the same rules."""

from __future__ import annotations

from taskflow_core import BusinessDays, Store, Taskflow


def configure(flow: Taskflow) -> Taskflow:
    """A declared workflow, a deadline and two views, as a host would declare them."""
    flow.transition("new", "submitted")
    flow.transition("submitted", "approved")
    flow.transition("*", "withdrawn")
    flow.deadline("decision", within=BusinessDays(10), starts=["submitted"], stops=["approved"])
    flow.view("waiting", {"status": ["submitted"]}, title="Waiting")
    flow.view("unassigned", {"unassigned": True})
    return flow


def build(store: Store) -> Taskflow:
    return configure(Taskflow(store))


def flow() -> Taskflow:
    """``taskflow serve --app tests.client.served:flow``: the store the server is given."""
    from taskflow_compose import database_url, store_from_url

    served = build(store_from_url(database_url()))
    served.migrate()  # a fresh SQLite file per test session; idempotent
    return served
