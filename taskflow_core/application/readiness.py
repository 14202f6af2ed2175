"""Whether a store can serve requests: it answers a query on its tables."""

from __future__ import annotations

from ..ports import Store

# The nil UUID: looking it up runs a real query on the cases table, and never finds a case.
_NO_CASE = "00000000-0000-0000-0000-000000000000"


def check_ready(store: Store) -> None:
    """Return when ``store`` answers a query on its cases; else raise its ``StoreError``:
    ``StoreUnavailable`` when it cannot be reached, ``NotMigrated`` when it has no schema."""
    with store.unit_of_work(read_only=True) as uow:
        uow.cases.get(_NO_CASE)
