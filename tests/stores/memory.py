"""The in-memory store fixture."""

from collections.abc import Iterator

import pytest

from taskflow_core.memory import MemoryStore


@pytest.fixture
def memory_store() -> Iterator[MemoryStore]:
    store = MemoryStore()
    store.migrate()
    yield store
    store.close()
