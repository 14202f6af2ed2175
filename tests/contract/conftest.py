"""The store-contract suite runs once per store (tests/stores lists them), through the service."""

from collections.abc import Callable
from typing import Any

import pytest

from taskflow_core import HookEvent, Taskflow
from taskflow_core.ports import Store
from tests.stores import store

__all__ = ["ALICE", "BOB", "OPERATIONS", "flow", "hook_calls", "store"]


ALICE = {"profile": {"id": "alice"}, "name": "Alice"}
BOB = {"profile": {"id": "bob"}, "name": "Bob"}


@pytest.fixture
def flow(store: Store) -> Taskflow:
    return Taskflow(store)


def comment_of(case: dict[str, Any]) -> str:
    return str(next(e["id"] for e in case["activityLog"] if e["eventName"] == "comment"))


# Every mutation of an existing case, as a call taking the flow, the case (with a comment by
# alice) and keyword arguments such as expected_version.
OPERATIONS: dict[str, Callable[..., dict[str, Any]]] = {
    "update": lambda f, c, **kw: f.update(c["id"], {"more": 1}, user=ALICE, **kw),
    "update without data": lambda f, c, **kw: f.update(c["id"], None, user=ALICE, **kw),
    "merge_patch": lambda f, c, **kw: f.merge_patch(c["id"], {"name": None}, user=ALICE, **kw),
    "set_status": lambda f, c, **kw: f.set_status(c["id"], "open", user=ALICE, **kw),
    "assign": lambda f, c, **kw: f.assign(c["id"], "bob", user=ALICE, **kw),
    "comment": lambda f, c, **kw: f.comment(c["id"], "more", user=ALICE, **kw),
    "update_comment": lambda f, c, **kw: f.update_comment(
        c["id"], comment_of(c), "edited", user=ALICE, **kw
    ),
    "delete_comment": lambda f, c, **kw: f.delete_comment(c["id"], comment_of(c), user=ALICE, **kw),
}


def hook_calls(flow: Taskflow) -> list[str]:
    """The events of every hook that runs from now on, pre-hooks included."""
    calls: list[str] = []

    def record(event: HookEvent) -> None:
        calls.append(event.event)

    for name in ("create", "update", "assign", "comment", "update-comment", "delete-comment"):
        flow.hook(name, record).hook(f"pre-{name}", record)
    flow.hook("status:*:*", record).hook("pre-status:*:*", record)
    return calls
