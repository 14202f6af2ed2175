"""The listing's deadline parameters (SPEC §14) are answered through the deadlines table's
partial indexes, not by scanning cases: EXPLAIN on 100,000 cases with 10,000 deadlines
(TASKFLOW_EXPLAIN_ROWS to change the number of cases)."""

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import sql

from taskflow_core.application.deadline_query import DeadlineFilters
from taskflow_core.application.query import ListQuery
from taskflow_postgres.listing import list_statement
from taskflow_postgres.migrate import apply_pending
from tests.support.databases import Databases

pytestmark = pytest.mark.postgres

ROWS = int(os.environ.get("TASKFLOW_EXPLAIN_ROWS", "100000"))

# One case in ten has a deadline that counts: most running, a hundredth overdue, a
# hundredth met. The other cases' deadlines ended (met) long ago, as in an office whose cases
# mostly closed: what the partial indexes leave out. Without them the planner may read the
# small deadlines table whole rather than probe it (taskflow_postgres/listing.py, _WALK_PAGE).
SEED = """
INSERT INTO cases (id, status, data, assigned_to, created_at, updated_at)
SELECT gen_random_uuid(), 'open', jsonb_build_object('notes', repeat('x', 200)), NULL,
       timestamptz '2020-01-01' + i * interval '1 minute',
       timestamptz '2020-01-01' + i * interval '1 minute'
FROM generate_series(1::bigint, %s) AS i;
"""
SEED_DEADLINES = """
INSERT INTO deadlines (case_id, name, state, due, started_at)
SELECT id, 'decision',
       CASE WHEN n % 100 = 0 THEN 'overdue' WHEN n % 100 = 10 THEN 'met' ELSE 'running' END,
       timestamptz '2030-01-01' + n * interval '7 minutes', created_at
FROM (SELECT id, created_at, row_number() OVER (ORDER BY id) AS n FROM cases) AS numbered
WHERE n % 10 = 0
"""
SEED_ENDED = """
INSERT INTO deadlines (case_id, name, state, due, started_at)
SELECT id, 'decision', 'met', created_at + interval '40 days', created_at
FROM (SELECT id, created_at, row_number() OVER (ORDER BY id) AS n FROM cases) AS numbered
WHERE n % 10 <> 0
"""

QUERIES = {
    "overdue, sorted by due": ListQuery(
        deadlines=DeadlineFilters(overdue=True), sort_column="due", limit=50
    ),
    "due before, sorted by due": ListQuery(
        deadlines=DeadlineFilters(due_to=datetime(2030, 1, 2, tzinfo=UTC)),
        sort_column="due",
        limit=50,
    ),
}


@pytest.fixture(scope="module")
def seeded(postgres_server: Any, postgres_databases: Databases) -> Iterator[psycopg.Connection]:
    with postgres_databases.scratch("deadline_explain") as conn:
        apply_pending(conn)
        # The plans depend on the rows, not on what the triggers keep beside them (search
        # words, status counts): seeded without them, in a tenth of the time.
        conn.execute("ALTER TABLE cases DISABLE TRIGGER USER")
        conn.execute(SEED, (ROWS,))
        conn.execute(SEED_DEADLINES)
        conn.execute(SEED_ENDED)
        conn.execute("ALTER TABLE cases ENABLE TRIGGER USER")
        conn.execute("VACUUM ANALYZE cases")
        conn.execute("VACUUM ANALYZE deadlines")
        yield conn


def scans(conn: psycopg.Connection, query: ListQuery) -> list[tuple[str, str, str]]:
    """(node type, table, index) of every scan in the statement's plan."""
    statement, params = list_statement(query)
    row = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + statement, params).fetchone()
    assert row is not None
    found: list[tuple[str, str, str]] = []

    def walk(node: dict[str, Any]) -> None:
        if "Scan" in node["Node Type"]:
            found.append(
                (node["Node Type"], node.get("Relation Name", ""), node.get("Index Name", ""))
            )
        for child in node.get("Plans", []):
            walk(child)

    walk(row[0][0]["Plan"])
    return found


@pytest.mark.parametrize("query", QUERIES.values(), ids=QUERIES.keys())
def test_the_deadline_filters_read_through_indexes_and_scan_nothing(
    seeded: psycopg.Connection, query: ListQuery
) -> None:
    found = scans(seeded, query)
    assert any(index.startswith("deadlines_") for _, _, index in found), found
    assert not [s for s in found if s[0] == "Seq Scan"], found
