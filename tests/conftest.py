"""Fixtures every test folder shares: one fixture per store, each a fresh, migrated store."""

import os

import pytest

from tests.stores.memory import *  # noqa: F403
from tests.stores.pgbouncer import *  # noqa: F403
from tests.stores.postgres import *  # noqa: F403
from tests.stores.sqlite import *  # noqa: F403


@pytest.fixture(autouse=True)
def _name_connections(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """With TASKFLOW_TEST_APPNAME set, each test's new PostgreSQL connections carry its name
    in pg_stat_activity, so tests/support/xact_watch.py can say which test holds what."""
    if os.environ.get("TASKFLOW_TEST_APPNAME"):
        monkeypatch.setenv("PGAPPNAME", request.node.nodeid[-63:])
