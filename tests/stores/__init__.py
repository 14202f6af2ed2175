"""The stores every suite runs against, and the ``store`` fixture parametrized over them.

Each name has a fixture ``<name>_store`` (in this package) yielding a fresh, migrated store.
A new store is added here once; the contract, repository and HTTP suites all pick it up.
"""

import pytest

from taskflow_core.ports import Store

STORES = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Store:
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]
