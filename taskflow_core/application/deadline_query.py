"""The listing's deadline parameters (SPEC §14): ``overdue``, ``due[to]`` and the ``due``
sort column, parsed once here; each store's listing reads them off ``ListQuery``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final, Literal

import attrs

from ..errors import InvalidRequest

DUE: Final[Literal["due"]] = (
    "due"  # the sort column: the earliest due of a case's running or overdue deadlines
)


@attrs.frozen
class DeadlineFilters:
    overdue: bool = False  # only cases with an overdue deadline
    due_to: datetime | None = None  # only cases with a running deadline due before this

    def __bool__(self) -> bool:
        return self.overdue or self.due_to is not None


NO_DEADLINE_FILTERS = DeadlineFilters()


def _moment(name: str, value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            # A date alone is midnight UTC, as the listing's other ranges read it.
            moment = (
                datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
                if len(value) == 10
                else datetime.fromisoformat(value)
            )
        except ValueError:
            raise InvalidRequest(
                f"{name} must be an ISO 8601 timestamp", {name: "invalid"}
            ) from None
    else:
        raise InvalidRequest(f"{name} must be an ISO 8601 timestamp", {name: "invalid"})
    if moment.tzinfo is None:
        raise InvalidRequest(f"{name} needs a UTC offset", {name: "invalid"})
    return moment.astimezone(UTC)


def parse_deadline_filters(query: Mapping[str, Any]) -> DeadlineFilters:
    """``overdue`` (true/false) and ``due[to]`` of a listing query's mapping."""
    overdue = query.get("overdue")
    if overdue is not None and overdue not in (True, False, "true", "false"):
        raise InvalidRequest("overdue must be true or false", {"overdue": "invalid"})
    due = query.get("due")
    if due is not None and (not isinstance(due, Mapping) or set(due) - {"to"}):
        raise InvalidRequest("due takes due[to] only", {"due": "invalid"})
    due_to = None if due is None or due.get("to") is None else _moment("due[to]", due["to"])
    return DeadlineFilters(overdue=overdue in (True, "true"), due_to=due_to)
