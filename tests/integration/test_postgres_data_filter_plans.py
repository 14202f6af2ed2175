"""On PostgreSQL, a listing or count with a ``data`` filter is planned for its values
(taskflow_postgres/listing.py, planned_for_its_values): never run as a prepared statement,
whose generic plan guesses that any value matches 1% of the cases."""

from __future__ import annotations

import pytest

from taskflow_core import Taskflow
from taskflow_postgres import PostgresStore

pytestmark = pytest.mark.postgres

PROJECTS = {"data": {"licence": {"type": "project"}}}


def prepared_on_server(store: PostgresStore) -> list[str]:
    """The statements prepared on the store's one connection."""
    with store.unit_of_work() as uow:
        conn = uow._connection()
        return [str(row[0]) for row in conn.execute("SELECT statement FROM pg_prepared_statements")]


class TestDataFilters:
    def test_counts_lists_and_views_by_data_are_never_prepared_and_stay_exact(
        self, postgres_dsn: str
    ) -> None:
        store = PostgresStore(postgres_dsn, max_size=1)
        try:
            store.migrate()
            flow = Taskflow(store).view("projects", PROJECTS)
            for kind in ("project", "project", "personal"):
                flow.create({"licence": {"type": kind}})
            for _ in range(8):  # psycopg prepares a statement on its fifth run
                assert flow.counts("status", PROJECTS) == {
                    "data": [{"value": "new", "count": 2}],
                    "meta": {"count": 2},
                }
                assert flow.list(PROJECTS)["meta"]["count"] == 2
                assert flow.views() == [{"name": "projects", "title": "projects", "count": 2}]
                flow.counts("assignedTo")  # no data filter: prepared as psycopg decides
            prepared = prepared_on_server(store)
            # The count without a data filter was prepared, so the check below could fail.
            assert any("GROUP BY" in statement for statement in prepared), prepared
            assert not [statement for statement in prepared if "@>" in statement]
        finally:
            store.close()
