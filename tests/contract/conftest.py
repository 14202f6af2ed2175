"""The store-contract suite runs once per store: every store the project ships is listed here."""

import pytest

from taskflow_core import Taskflow
from taskflow_core.ports import Store

# Each name has a fixture ``<name>_store`` (tests/stores/) yielding a fresh, migrated store.
STORES = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]


ALICE = {"profile": {"id": "alice"}, "name": "Alice"}
BOB = {"profile": {"id": "bob"}, "name": "Bob"}


@pytest.fixture
def flow(store: Store) -> Taskflow:
    return Taskflow(store)
