"""The SQL of finding the work (docs/finding.md): the search, unassigned and time-range
filters of a listing, and its counts by status or assignee."""

from __future__ import annotations

from typing import Any

from psycopg import sql

from taskflow_core.application.query import ListQuery

# The cases whose words (migrations/0012_search.sql) start with every word of the search,
# found from the GIN index of case_search. The query's text is a bound parameter, made of
# words that hold only letters and digits (taskflow_core/domain/search.py), each as a quoted
# prefix lexeme: no character of a user's ``q`` is ever tsquery syntax.
# An array of the matching ids, not ``id IN (SELECT ...)``: the planner cannot tell how many
# cases a prefix matches (it guessed 2,000 of 100,000 for a word on 16) and joined them by
# reading every case; looked up by id, a word on 20 cases took 0.4 ms at 100,000
# (tests/integration/test_postgres_search.py asserts the plan).
_SEARCH = (
    "id = ANY(ARRAY(SELECT case_id FROM case_search WHERE document @@ to_tsquery('simple', %s)))"
)

# A status count with no other filter is the sum of the status's counter rows
# (migrations/0009_status_counts.sql): a few rows per status, however many cases.
_COUNTED_STATUSES = sql.SQL(
    "SELECT status AS value, sum(cases)::bigint AS count FROM case_status_counts{where}"
    " GROUP BY status"
)
_COUNT_BY = sql.SQL(
    "SELECT {field} AS value, count(*) AS count FROM cases WHERE {where} GROUP BY 1"
)


# The count of a query whose one filter is ``q``, from the rows of words alone: each belongs
# to one case (its primary key is the case's id, its foreign key removes it with the case),
# so counting them is counting the cases. Through ``_SEARCH`` every match was looked up in
# ``cases`` once more: a listing's count of a word on 100,000 cases of 1,000,000 took
# 670-690 ms that way, 190 ms this way (benchmarks/results/finding-speed-1000000.md).
_COUNT_SEARCHED = sql.SQL(
    "SELECT count(*) AS total FROM case_search WHERE document @@ to_tsquery('simple', %s)"
)


def count_searched_alone(query: ListQuery) -> tuple[sql.Composable, list[Any]] | None:
    """The subquery counting ``query``'s matches from the rows of words, when ``q`` is its
    one filter; else None."""
    if not query.search or query.after_id is not None or not query.filters_only_by("search"):
        return None
    return _COUNT_SEARCHED, [tsquery(query.search)]


def tsquery(words: tuple[str, ...]) -> str:
    """The text of the tsquery matching cases with a word starting with each of ``words``."""
    return " & ".join(f"'{word}':*" for word in words)


def add_filters(query: ListQuery, clauses: list[sql.Composable], params: list[Any]) -> None:
    """Add the query's search, unassigned and time-range filters to ``clauses``."""
    if query.search:
        clauses.append(sql.SQL(_SEARCH))
        params.append(tsquery(query.search))
    if query.unassigned:
        clauses.append(sql.SQL("assigned_to IS NULL"))
    for column, span in (("created_at", query.created), ("updated_at", query.updated)):
        if span.start is not None:
            clauses.append(sql.SQL("{} >= %s").format(sql.Identifier(column)))
            params.append(span.start)
        if span.end is not None:
            clauses.append(sql.SQL("{} < %s").format(sql.Identifier(column)))
            params.append(span.end)


def count_by_statement(
    query: ListQuery, field: str, where: sql.Composable, params: list[Any]
) -> tuple[sql.Composed, list[Any]]:
    """The statement counting the query's cases (``where`` and its params) by ``field``:
    rows of ``value`` and ``count``."""
    if field == "status" and query.by_status_alone:
        if not query.statuses:
            return _COUNTED_STATUSES.format(where=sql.SQL("")), []
        return _COUNTED_STATUSES.format(where=sql.SQL(" WHERE status = ANY(%s)")), [
            list(query.statuses)
        ]
    return _COUNT_BY.format(field=sql.Identifier(field), where=where), params
