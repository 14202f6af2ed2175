"""The PostgreSQL store through a real PgBouncer in transaction pooling mode: one PgBouncer
for the run, in front of the test server, and the test's own fresh database behind it."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from taskflow_postgres import PostgresStore
from tests.support.pgbouncer import PgBouncer, pgbouncer_binary

__all__ = [
    "pgbouncer",
    "pgbouncer_dsn",
    "pgbouncer_empty_dsn",
    "pgbouncer_store",
    "started_pgbouncer",
]


@contextmanager
def started_pgbouncer(postgres_server: Any, *, pool_size: int) -> Iterator[PgBouncer]:
    """A PgBouncer in front of the test server; the test is skipped where none is installed."""
    if pgbouncer_binary() is None:
        pytest.skip("pgbouncer is not installed (.ci/run installs it)")
    with PgBouncer(postgres_server.host, int(postgres_server.port), pool_size=pool_size) as bouncer:
        yield bouncer


@pytest.fixture(scope="session")
def pgbouncer(postgres_server: Any) -> Iterator[PgBouncer]:
    # Two server sessions per database: fewer than the clients of every test using it, so
    # that clients take turns on the same sessions, which is what breaks session state.
    with started_pgbouncer(postgres_server, pool_size=2) as bouncer:
        yield bouncer


@pytest.fixture
def pgbouncer_dsn(pgbouncer: PgBouncer, postgres_dsn: str) -> str:
    """The URL of the test's own empty database through PgBouncer, with the switch on."""
    return pgbouncer.url(postgres_dsn) + "?pgbouncer=true"


@pytest.fixture
def pgbouncer_empty_dsn(pgbouncer: PgBouncer, postgres_empty_dsn: str) -> str:
    """The same for the test's own empty database, to migrate through PgBouncer."""
    return pgbouncer.url(postgres_empty_dsn) + "?pgbouncer=true"


@pytest.fixture
def pgbouncer_store(pgbouncer_dsn: str) -> Iterator[PostgresStore]:
    store = PostgresStore(pgbouncer_dsn, max_size=4)
    store.migrate()
    yield store
    store.close()
