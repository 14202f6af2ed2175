"""A licence application's declared workflow: the worked example of docs/workflow.md.

Run by the test suite (so the page cannot drift from the code) and loadable by the CLI:

    taskflow graph --app docs.examples.licence:licence_flow --format dot
    taskflow serve --app docs.examples.licence:licence_flow
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taskflow_compose import database_url, store_from_url
from taskflow_core import HookEvent, InvalidRequest, Taskflow

# The actor of the office's own jobs. Compared by identity, so no HTTP request can pass
# for it: whatever a client sends, the middleware builds a new object.
SYSTEM = {"profile": {"id": "system"}, "roles": ["system"]}


def is_officer(case: dict[str, Any], user: Any) -> bool:
    """Only a licensing officer may approve."""
    return isinstance(user, Mapping) and "officer" in user.get("roles", ())


def is_system(case: dict[str, Any], user: Any) -> bool:
    """Only the office's own jobs, never a person, let a licence expire."""
    return user is SYSTEM


def fee_paid(event: HookEvent) -> None:
    """Approval is offered to every officer; this still refuses it, saying why."""
    if not (event.data or {}).get("feePaid"):
        raise InvalidRequest("the fee has not been paid", {"feePaid": "required"})


def configure(flow: Taskflow) -> Taskflow:
    """Declare the licence workflow on ``flow``."""
    return (
        flow.transition("new", "submitted")
        .transition("submitted", "approved", guard=is_officer)
        .transition("submitted", "rejected")
        .transition("submitted", "returned")
        .transition("returned", "submitted")
        .transition("approved", "expired", guard=is_system)
        .transition("*", "withdrawn")
        .hook("pre-status:submitted:approved", fee_paid)
    )


def expire(flow: Taskflow, case_id: str) -> dict[str, Any]:
    """What the nightly job calls for each licence past its end date."""
    return flow.set_status(case_id, "expired", user=SYSTEM)


def licence_flow() -> Taskflow:
    """The configured flow on ``TASKFLOW_DATABASE_URL``'s store (else ``taskflow.db``);
    building it opens no connection."""
    return configure(Taskflow(store_from_url(database_url())))
