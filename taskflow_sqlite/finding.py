"""The SQL of finding the work (docs/finding.md) on SQLite: the search, unassigned and
time-range filters of a listing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from taskflow_core.application.query import ListQuery

# How the store writes an instant (timestamps.timestamp): passed in, as that module reads
# listings through this one.
Stamp = Callable[[datetime], str]

# The cases whose words (migrations/0007_search.sql) start with every word of the search,
# found from the FTS5 index. The MATCH expression is a bound parameter, made of words that
# hold only letters and digits (taskflow_core/domain/search.py), each a quoted prefix: no
# character of a user's ``q`` is ever FTS5 query syntax.
_SEARCH = (
    "id IN (SELECT i.case_id FROM case_search"
    " JOIN case_search_ids AS i ON i.search_id = case_search.rowid"
    " WHERE case_search MATCH ?)"
)


def match_expression(words: tuple[str, ...]) -> str:
    """The FTS5 expression matching cases with a word starting with each of ``words``."""
    return " AND ".join(f'"{word}"*' for word in words)


def add_filters(
    query: ListQuery, conditions: list[str], params: list[object], stamp: Stamp
) -> None:
    """Add the query's search, unassigned and time-range filters to ``conditions``."""
    if query.search:
        conditions.append(_SEARCH)
        params.append(match_expression(query.search))
    if query.unassigned:
        conditions.append("assigned_to IS NULL")
    for column, span in (("created_at", query.created), ("updated_at", query.updated)):
        # The columns hold fixed-width UTC text, so text order is time order.
        if span.start is not None:
            conditions.append(f"{column} >= ?")
            params.append(stamp(span.start))
        if span.end is not None:
            conditions.append(f"{column} < ?")
            params.append(stamp(span.end))
