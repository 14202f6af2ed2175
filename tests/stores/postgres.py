"""The PostgreSQL fixtures: a fresh database per test, on the running server when one answers
(PG* settings, else 127.0.0.1:5432 as postgres), else on a private server started for the run.

Two kinds of fresh database: ``postgres_dsn`` is already migrated (cloned with ``CREATE
DATABASE ... TEMPLATE`` from a template migrated once per test process, and emptied for the
next test when the test left its schema alone: tests/support/databases.py),
``postgres_empty_dsn`` is empty, for the tests of migrating itself and of adopting the
original's tables.
"""

import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from pytest_postgresql import factories

from taskflow_postgres import PostgresStore
from tests.support.databases import Databases
from tests.support.tcp_proxy import TcpProxy

__all__ = [
    "postgres_database",
    "postgres_databases",
    "postgres_dsn",
    "postgres_empty_database",
    "postgres_empty_dsn",
    "postgres_migrated_server",
    "postgres_proxy",
    "postgres_server",
    "postgres_store",
]

SERVER = {
    "host": os.environ.get("PGHOST", "127.0.0.1"),
    "port": int(os.environ.get("PGPORT", "5432")),
    "user": os.environ.get("PGUSER", "postgres"),
    "password": os.environ.get("PGPASSWORD") or None,
}


def _answers(host: str, port: int, user: str, password: str | None) -> bool:
    try:
        psycopg.connect(
            host=host, port=port, user=user, password=password, dbname="postgres", connect_timeout=2
        ).close()
    except psycopg.OperationalError:
        return False
    return True


# Decided once, when the fixtures are defined: every test of the run uses the same server.
RUNNING_SERVER = _answers(**SERVER)  # type: ignore[arg-type]

# Unique to this run, so that test runs sharing one server never drop each other's database.
_DBNAME = f"taskflow_test_{os.getpid()}"


def _migrate(
    *, host: str, port: int, user: str, dbname: str, password: str | None, **_: Any
) -> None:
    """Loads the template every migrated test database is cloned from."""
    store = PostgresStore(host=host, port=port, user=user, password=password, database=dbname)
    try:
        store.migrate()
    finally:
        store.close()


postgres_server: Callable[..., Any]
if RUNNING_SERVER:
    postgres_server = factories.postgresql_noproc(**SERVER, dbname=_DBNAME)  # type: ignore[arg-type]
    postgres_migrated_server = factories.postgresql_noproc(
        **SERVER,  # type: ignore[arg-type]
        dbname=f"{_DBNAME}_migrated",
        load=[_migrate],
    )
else:
    postgres_server = factories.postgresql_proc(port=None, dbname=_DBNAME)
    postgres_migrated_server = factories.postgresql_noproc(
        dbname=f"{_DBNAME}_migrated", load=[_migrate], depends_on="postgres_server"
    )


@pytest.fixture(scope="session")
def postgres_databases(postgres_server: Any) -> Iterator[Databases]:
    databases = Databases(postgres_server)
    yield databases
    databases.close()


@pytest.fixture
def postgres_database(
    postgres_migrated_server: Any, postgres_databases: Databases
) -> Iterator[psycopg.Connection]:
    """A connection to a database of the test's own with every migration applied (emptied
    after a test that left its schema as it was, and given to the next)."""
    with (
        postgres_databases.fresh(postgres_migrated_server.template_dbname, reuse=True) as name,
        postgres_databases.connect(name) as connection,
    ):
        yield connection


@pytest.fixture
def postgres_empty_database(
    postgres_server: Any, postgres_databases: Databases
) -> Iterator[psycopg.Connection]:
    """A connection to a database created empty for the test."""
    with (
        postgres_databases.fresh(postgres_server.template_dbname, reuse=False) as name,
        postgres_databases.connect(name) as connection,
    ):
        yield connection


def _url(connection: psycopg.Connection) -> str:
    info = connection.info
    password = f":{quote(info.password, safe='')}" if info.password else ""
    credentials = f"{quote(info.user, safe='')}{password}"
    return f"postgresql://{credentials}@{info.host}:{info.port}/{info.dbname}"


@pytest.fixture
def postgres_dsn(postgres_database: psycopg.Connection) -> str:
    """The URL of the test's own database, with every migration applied."""
    return _url(postgres_database)


@pytest.fixture
def postgres_empty_dsn(postgres_empty_database: psycopg.Connection) -> str:
    """The URL of the test's own empty database: no tables at all."""
    return _url(postgres_empty_database)


@pytest.fixture
def postgres_store(postgres_dsn: str) -> Iterator[PostgresStore]:
    store = PostgresStore(postgres_dsn, max_size=4)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def postgres_proxy(postgres_dsn: str) -> Iterator[TcpProxy]:
    """A TCP proxy in front of the test's server: stopping it is the database going away."""
    params = conninfo_to_dict(postgres_dsn)
    with TcpProxy((str(params["host"]), int(str(params["port"])))) as proxy:
        yield proxy
