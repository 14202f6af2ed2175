"""The stores every suite runs against, and the ``store`` fixture parametrized over them.

Each name has a fixture ``<name>_store`` (in this package) yielding a fresh, migrated store.
A new store is added here once; the contract, repository and HTTP suites all pick it up.
"""

import os

import pytest

from taskflow_core.ports import Store

STORES = ["memory", "sqlite", "postgres"]
# The whole suite through PgBouncer as well: a run of its own, since it doubles the
# PostgreSQL tests' time; tests/integration/test_postgres_pgbouncer.py runs every time.
if os.environ.get("TASKFLOW_TEST_PGBOUNCER"):
    STORES.append("pgbouncer")


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]
