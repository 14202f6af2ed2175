"""The flow `benchmarks.compare` serves for its "declared workflow" variant: ten transitions,
some guarded, covering every change the status benchmark makes (so none is refused)."""

from __future__ import annotations

from typing import Any

from taskflow_compose import database_url, store_from_url
from taskflow_core import Taskflow


def _is_officer(case: dict[str, Any], user: Any) -> bool:
    return bool(user and "officer" in user.get("roles", ()))


flow = Taskflow(store_from_url(database_url()))
(
    flow.transition("*", "open")
    .transition("*", "in-review")
    .transition("*", "awaiting-info")
    .transition("new", "submitted")
    .transition("submitted", "approved", _is_officer)
    .transition("submitted", "rejected", _is_officer)
    .transition("rejected", "submitted")
    .transition("approved", "closed", _is_officer)
    .transition("*", "withdrawn")
    .transition("withdrawn", "open", _is_officer)
)
