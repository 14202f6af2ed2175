"""Fixtures every test folder shares: one fixture per store, each a fresh, migrated store."""

import os
from collections.abc import Iterator

import pytest

from tests.stores.memory import *  # noqa: F403
from tests.stores.pgbouncer import *  # noqa: F403
from tests.stores.postgres import *  # noqa: F403
from tests.stores.sqlite import *  # noqa: F403
from tests.support import alone
from tests.support.alone import taking_turns


@pytest.fixture(autouse=True)
def _name_connections(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """With TASKFLOW_TEST_APPNAME set, each test's new PostgreSQL connections carry its name
    in pg_stat_activity, so tests/support/xact_watch.py can say which test holds what."""
    if os.environ.get("TASKFLOW_TEST_APPNAME"):
        monkeypatch.setenv("PGAPPNAME", request.node.nodeid[-63:])


@pytest.fixture(autouse=True)
def _timed_tests_alone(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """A test marked ``timed`` runs while no other does (tests/support/alone.py)."""
    # The parent of a process's temporary folder is the run's, shared by its processes.
    folder = tmp_path_factory.getbasetemp().parent
    alone.use(folder)
    with taking_turns(folder, alone=request.node.get_closest_marker("timed") is not None):
        yield
