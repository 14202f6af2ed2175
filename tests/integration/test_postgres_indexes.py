"""Every list filter and sort is answered through an index, not a sequential scan.

Checked with EXPLAIN on a seeded table with the planner's own choices (no enable_seqscan=off):
20,000 cases by default, which runs in a few seconds; set TASKFLOW_EXPLAIN_ROWS=1000000 to
check at a million.
"""

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from taskflow_core import ListQuery
from taskflow_postgres.listing import list_statement
from taskflow_postgres.migrate import apply_pending
from tests.support.databases import Databases

pytestmark = pytest.mark.postgres

ROWS = int(os.environ.get("TASKFLOW_EXPLAIN_ROWS", "20000"))

# Skewed like a real workload: most cases closed, few escalated; a fifth unassigned, the rest
# spread over 400 people (user-N, N not a multiple of 5); 50 models, 20 kinds; and a wordy
# field, so that rows are as wide as real ones and a table scan costs what it would.
SEED = """
INSERT INTO cases (id, status, data, assigned_to, created_at, updated_at)
SELECT gen_random_uuid(),
       CASE WHEN b < 60 THEN 'closed' WHEN b < 85 THEN 'open' WHEN b < 95 THEN 'new'
            WHEN b < 99 THEN 'review' ELSE 'escalated' END,
       jsonb_build_object(
           'subject', 'subject ' || (i %% 5000),
           'model', 'model-' || (i %% 50),
           'meta', jsonb_build_object('kind', 'kind-' || (i %% 20), 'n', (i %% 1000)::text),
           'notes', repeat('x', 200)),
       CASE WHEN i %% 5 = 0 THEN NULL ELSE 'user-' || (i %% 500) END,
       timestamptz '2020-01-01' + i * interval '1 minute',
       timestamptz '2020-01-01' + i * interval '1 minute' + ((i * 37) %% 1000) * interval '1 minute'
FROM generate_series(1::bigint, %s) AS i, LATERAL (SELECT (i / 7) %% 100 AS b) AS bucket
"""

FILTERS = {
    "one status": ListQuery(statuses=("escalated",)),
    "several statuses": ListQuery(statuses=("review", "escalated")),
    "json containment": ListQuery(data={"model": "model-7"}),
    "nested json containment": ListQuery(data={"meta": {"kind": "kind-3", "n": "3"}}),
    "assignee": ListQuery(assigned_to=("user-7",)),
    "several assignees": ListQuery(assigned_to=("user-6", "user-7")),
    "status and json and assignee": ListQuery(
        statuses=("closed",), data={"model": "model-7"}, assigned_to=("user-7",)
    ),
    "exclusions beside a filter": ListQuery(
        assigned_to=("user-6", "user-7"), exclude_statuses=("closed",), exclude_assigned_to=("x",)
    ),
    "a status sorted by update": ListQuery(
        statuses=("escalated",), sort_column="updatedAt", ascending=False
    ),
}
SORTS = {
    f"sort {column} {'asc' if ascending else 'desc'}": ListQuery(
        sort_column=column, ascending=ascending, offset=200
    )
    for column in ("createdAt", "updatedAt", "status", "assignedTo", "id", None)
    for ascending in (True, False)
}


@pytest.fixture(scope="module")
def seeded(
    postgres_server: Any, postgres_databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[psycopg.Connection]:
    """One seeded database for the whole module: seeding is the slow part."""
    with postgres_databases.scratch("explain") as conn:
        apply_pending(conn)
        conn.execute(SEED, (ROWS,))
        # What autovacuum would have done on a live table: statistics, visibility map.
        conn.execute("VACUUM ANALYZE cases")
        yield conn


def scans(conn: psycopg.Connection, query: ListQuery) -> list[tuple[str, str]]:
    """(node type, index or table) for every scan of ``cases`` in the statement's plan."""
    statement, params = list_statement(query)
    row = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + statement, params).fetchone()
    assert row is not None
    plan = row[0]
    found: list[tuple[str, str]] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Relation Name") == "cases" or node.get("Index Name", "").startswith("cases"):
            found.append((node["Node Type"], node.get("Index Name", "cases")))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return found


@pytest.mark.parametrize("query", FILTERS.values(), ids=FILTERS.keys())
def test_each_filter_pages_and_counts_through_an_index(
    seeded: psycopg.Connection, query: ListQuery
) -> None:
    found = scans(seeded, query)
    assert found, "the plan reads cases somewhere"
    assert all(node != "Seq Scan" for node, _ in found), found


@pytest.mark.parametrize("query", SORTS.values(), ids=SORTS.keys())
def test_each_sort_reads_its_page_in_index_order(
    seeded: psycopg.Connection, query: ListQuery
) -> None:
    # Without a filter the count reads every row, whichever way; the page must not sort them.
    page = scans(seeded, query)[-1]
    assert page[0] in ("Index Scan", "Index Scan Backward", "Index Only Scan"), page
