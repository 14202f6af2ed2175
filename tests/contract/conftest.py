"""The store-contract suite runs once per store (tests/stores lists them), through the service."""

import pytest

from taskflow_core import Taskflow
from taskflow_core.ports import Store
from tests.stores import store

__all__ = ["ALICE", "BOB", "flow", "store"]


ALICE = {"profile": {"id": "alice"}, "name": "Alice"}
BOB = {"profile": {"id": "bob"}, "name": "Bob"}


@pytest.fixture
def flow(store: Store) -> Taskflow:
    return Taskflow(store)
