"""The SQL of a listing: one WHERE for the page and its count, and the ORDER BY of the page."""

from __future__ import annotations

import json

from taskflow_core.application.deadline_query import DUE
from taskflow_core.application.query import ListQuery

from . import finding
from .json_contains import SQL_NAME

# The earliest due of a case's running or overdue deadlines (the deadlines_due_index).
_EARLIEST_DUE = (
    "(SELECT min(d.due) FROM deadlines AS d WHERE d.case_id = cases.id"
    " AND d.state IN ('running', 'overdue'))"
)


def where(query: ListQuery, stamp: finding.Stamp) -> tuple[str, list[object]]:
    """``WHERE ...`` (or ``""``) and its parameters; the page and the count share it."""
    conditions: list[str] = []
    params: list[object] = []
    _filters(query, conditions, params, stamp)
    if not conditions:
        return "", params
    return "WHERE " + " AND ".join(conditions), params


def _filters(
    query: ListQuery, conditions: list[str], params: list[object], stamp: finding.Stamp
) -> None:
    """Add the query's filters, and those of its view (``also``), to ``conditions``."""
    if query.statuses:
        conditions.append(f"status IN ({_marks(query.statuses)})")
        params.extend(query.statuses)
    if query.data:
        conditions.append(f"{SQL_NAME}(data, ?)")
        params.append(json.dumps(query.data))
    if query.assigned_to:
        conditions.append(f"assigned_to IN ({_marks(query.assigned_to)})")
        params.extend(query.assigned_to)
    if query.exclude_statuses:
        conditions.append(f"status NOT IN ({_marks(query.exclude_statuses)})")
        params.extend(query.exclude_statuses)
    if query.exclude_assigned_to:
        # A case with no assignee is never excluded (NOT IN alone would drop it: NULL).
        marks = _marks(query.exclude_assigned_to)
        conditions.append(f"(assigned_to IS NULL OR assigned_to NOT IN ({marks}))")
        params.extend(query.exclude_assigned_to)
    finding.add_filters(query, conditions, params, stamp)
    if query.after_id is not None:
        conditions.append("id > ?")
        params.append(query.after_id)
    if query.deadlines.overdue:
        conditions.append(
            "EXISTS (SELECT 1 FROM deadlines AS d WHERE d.case_id = cases.id"
            " AND d.state = 'overdue')"
        )
    if query.deadlines.due_to is not None:
        conditions.append(
            "EXISTS (SELECT 1 FROM deadlines AS d WHERE d.case_id = cases.id"
            " AND d.state = 'running' AND d.due < ?)"
        )
        params.append(stamp(query.deadlines.due_to))
    for also in query.also:
        _filters(also, conditions, params, stamp)


def order_by(query: ListQuery) -> str:
    """``ORDER BY ...``: the sort column, then the id in the same direction, so that pages
    neither overlap nor skip; NULLs where PostgreSQL puts them by default (largest)."""
    # No column means creation order (ListQuery's default direction is oldest first).
    column = query.sort_field  # the columns are named after the Case fields
    direction, nulls = ("ASC", "NULLS LAST") if query.ascending else ("DESC", "NULLS FIRST")
    if column == DUE:
        # Cases without a running or overdue deadline last, whichever the direction.
        return f"ORDER BY {_EARLIEST_DUE} {direction} NULLS LAST, id {direction}"
    if column == "id":
        return f"ORDER BY id {direction}"
    return f"ORDER BY {column} {direction} {nulls}, id {direction}"


def _marks(values: tuple[str, ...]) -> str:
    return ", ".join("?" * len(values))
