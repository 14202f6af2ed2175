"""The behaviour suite's two sides: the in-process flow, and a ``Client`` talking to a real
``taskflow serve`` of the same configuration (served.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from taskflow_client import Backoff, Client
from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore
from tests.client.served import build
from tests.e2e.serving import Server, clean_env, free_port, serving, taskflow_command
from tests.stores.postgres import _url as postgres_url
from tests.support.databases import Databases

ROOT = Path(__file__).resolve().parents[2]
# Retries in tests wait milliseconds, not the default quarter seconds.
QUICK = Backoff(first=0.01, longest=0.05)


@contextmanager
def serve(cwd: Path, database_url: str) -> Iterator[Server]:
    """``taskflow serve`` of served.py's flow on ``database_url``, feed on."""
    port = free_port()
    command = [
        *taskflow_command(),
        *("serve", "--app", "tests.client.served:flow", "--port", str(port), "--feed"),
        *("--workers", "1"),
    ]
    env = clean_env(TASKFLOW_DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    with serving(command, cwd=cwd, env=env, port=port) as server:
        yield server


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One ``taskflow serve`` per test process, on SQLite; tests keep apart by tagging their
    cases (``tag`` fixture) rather than by a server each."""
    cwd = tmp_path_factory.mktemp("served")
    with serve(cwd, f"sqlite:///{cwd / 'served.db'}") as server:
        yield server


@pytest.fixture(scope="session")
def served_postgres(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_migrated_server: Any,
    postgres_databases: Databases,
) -> Iterator[Server]:
    """The same on a PostgreSQL database of its own."""
    cwd = tmp_path_factory.mktemp("served-postgres")
    with (
        postgres_databases.fresh(postgres_migrated_server.template_dbname, reuse=False) as name,
        postgres_databases.connect(name) as connection,
        serve(cwd, postgres_url(connection)) as server,
    ):
        yield server


@pytest.fixture
def client(served: Server) -> Iterator[Client]:
    with Client(served.url, backoff=QUICK) as remote:
        yield remote


# The client's side starts a real gunicorn (taskflow serve): marked as the e2e tests are.
@pytest.fixture(
    params=[
        "flow",
        pytest.param("client", marks=pytest.mark.e2e),
        pytest.param("client-postgres", marks=[pytest.mark.e2e, pytest.mark.postgres]),
    ]
)
def flow_or_client(request: pytest.FixtureRequest) -> Iterator[Taskflow | Client]:
    """The same calls, in process (a memory store) and over HTTP (``taskflow serve`` on
    SQLite, and on PostgreSQL)."""
    if request.param == "flow":
        yield build(MemoryStore())
    elif request.param == "client":
        yield request.getfixturevalue("client")
    else:
        server: Server = request.getfixturevalue("served_postgres")
        with Client(server.url, backoff=QUICK) as remote:
            yield remote


@pytest.fixture
def tag() -> str:
    """A value no other test's cases hold: ``data.tag`` filters a shared server's listing
    down to this test's cases."""
    return f"t-{uuid.uuid4().hex}"
