"""The storage port: what the service needs from a store, as typing.Protocols.

A store hands out units of work. Entering one opens a transaction; leaving the block without
``commit()`` rolls it back (cosmicpython's unit of work). Every read and write of a request
goes through the repositories of one unit of work, so a request is one transaction.

Implement these to plug in your own storage; ``tests/contract`` is the suite it must pass.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from .model import ActivityEntry, Case, IdempotencyRecord, Timer
from .query import ListPage, ListQuery


class CaseRepository(Protocol):
    """Raises ``Conflict`` for a duplicate id and ``NotFound`` for saving a missing case."""

    def add(self, case: Case) -> None:
        """Insert a new case."""

    def get(self, case_id: str, *, lock: bool = False) -> Case | None:
        """The case, or None. With ``lock``, hold it against other writers until the unit of
        work ends (``SELECT ... FOR UPDATE``), so read-modify-write cannot lose updates."""

    def get_with_activity(self, case_id: str) -> tuple[Case, list[ActivityEntry]] | None:
        """The case and its raw activity log, newest first, in one read."""

    def save(self, case: Case) -> None:
        """Persist status, data, assigned_to, updated_at and version of an existing case."""

    def list(self, query: ListQuery) -> ListPage:
        """The page of cases the query selects, and the count of all it matches."""


class ActivityRepository(Protocol):
    def add(self, entry: ActivityEntry) -> None:
        """Append an entry; ``NotFound`` when its case does not exist."""

    def for_case(self, case_id: str) -> list[ActivityEntry]:
        """Every raw entry of the case, newest first (created_at, then id, descending)."""


class TimerRepository(Protocol):
    """A case's timers, one per (case, name), and the due ones for sweeps to claim."""

    def set(self, timer: Timer) -> None:
        """Insert the timer, or replace the case's timer of that name (moving it)."""

    def get(self, case_id: str, name: str) -> Timer | None: ...

    def delete(self, case_id: str, name: str) -> None:
        """Remove the timer if there is one."""

    def for_case(self, case_id: str) -> list[Timer]:
        """The case's timers, soonest due first (then by name)."""

    def claim_due(self, now: datetime) -> Timer | None:
        """The timer with the earliest ``fire_at`` not after ``now``, held with its case for
        the rest of the unit of work, so no other unit of work fires it too; timers (and
        cases) other units of work hold are skipped, not waited for. None when none is due."""


class IdempotencyRepository(Protocol):
    """Requests made under idempotency keys, one record per (scope, key)."""

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Reserve ``record``'s key for this unit of work, unless a live record holds it.

        None: the key is now this unit of work's, the record stored without an answer (the
        key was unknown, or its record had expired by ``record.created_at`` and is replaced).
        Otherwise the record that holds the key, unchanged. While another unit of work holds
        a claim on the same key, this waits for it to end (PostgreSQL waits on the unique
        index), so that it finds the other's answer, or claims the key after a rollback.
        """

    def complete(self, record: IdempotencyRecord) -> None:
        """Store the answer (``status``, ``body``, ``version``) on the key this unit of work
        claimed; and forget a few records (``PURGE_BATCH``) expired by ``record.created_at``,
        so that expired keys go without a job of their own."""

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        """The record stored under the key, expired or not, answered or not."""


class UnitOfWork(Protocol):
    """One transaction. A thread holds at most one open unit of work at a time."""

    # Read-only in the protocol so an implementation may hold its own repository types.
    @property
    def cases(self) -> CaseRepository: ...

    @property
    def activity(self) -> ActivityRepository: ...

    @property
    def timers(self) -> TimerRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back unless committed, then release the transaction's resources."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Store(Protocol):
    """A source of units of work; one store serves every request of a process.

    ``str(store)`` names its database for the operator (the CLI prints it): a URL or a
    file, never a password.
    """

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A new, not yet entered, unit of work.

        ``read_only`` promises that it will only read: a store may then skip write locks and
        explicit transactions (each read must still see one consistent state).
        """

    def migrate(self) -> list[str]:
        """Bring the schema up to date; return the names of what was applied (idempotent)."""

    def close(self) -> None:
        """Release connections; the store may not be used afterwards."""
