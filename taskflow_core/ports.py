"""The storage port: what the service needs from a store, as typing.Protocols.

A store hands out units of work. Entering one opens a transaction; leaving the block without
``commit()`` rolls it back (cosmicpython's unit of work). Every read and write of a request
goes through the repositories of one unit of work, so a request is one transaction.

Implement these to plug in your own storage; ``tests/contract`` is the suite it must pass.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from .application.case_log import CaseLog
from .application.query import EncodedPage, ListPage, ListQuery
from .domain.model import (
    ActivityEntry,
    Case,
    Change,
    DeadlineState,
    Delivery,
    IdempotencyRecord,
    Position,
    Timer,
    Webhook,
)


class CaseRepository(Protocol):
    """Raises ``Conflict`` for a duplicate id and ``NotFound`` for saving a missing case."""

    def add(self, case: Case) -> None:
        """Insert a new case."""

    def get(self, case_id: str, *, lock: bool = False) -> Case | None:
        """The case, or None. With ``lock``, hold it against other writers until the unit of
        work ends (``SELECT ... FOR UPDATE``), so read-modify-write cannot lose updates."""

    def get_with_activity(self, case_id: str) -> tuple[Case, builtins.list[ActivityEntry]] | None:
        """The case and its raw activity log, newest first, in one read."""

    def read_with_log(self, case_id: str, budget: int) -> CaseLog | None:
        """The case and its raw activity log, newest first, the log in pages whose entries'
        events add up to ``budget`` at most (bytes of JSON text, as the store measures
        them; the first entry of a page whatever its size); None when there is no case.
        The case and the first page come now; the other pages as ``rest`` is iterated,
        while the unit of work is open, all from one consistent state of the store (a
        read-only unit of work included)."""

    def save(self, case: Case) -> None:
        """Persist status, data, assigned_to, updated_at and version of an existing case."""

    def get_many(self, case_ids: Sequence[str]) -> builtins.list[Case]:
        """The cases with these ids, in the order given; ids of no case are left out."""

    def list(self, query: ListQuery, *, budget: int | None = None) -> ListPage:
        """The page of cases the query selects, and the count of all it matches.

        With ``budget``, the page's cases are read in order while the sum of their data's
        sizes (bytes of JSON text, as the store measures them) stays within it, the first
        always; the rest of the page comes as ``deferred`` ids with their sizes, unread.
        """

    def count_by(self, query: ListQuery, field: str) -> builtins.list[tuple[str | None, int]]:
        """How many of the cases the query selects (its page aside) have each value of
        ``field`` (``status`` or ``assigned_to``): ``(value, count)`` pairs in any order."""


class ActivityRepository(Protocol):
    def add(self, entry: ActivityEntry) -> None:
        """Append an entry to its case's log and to the change feed; ``NotFound`` when its
        case does not exist. The feed is the log in commit order, so one call writes both,
        in this unit of work (a rollback drops both); a SQL store writes them in one
        statement."""

    def for_case(self, case_id: str) -> list[ActivityEntry]:
        """Every raw entry of the case, newest first (created_at, then id, descending)."""

    def comment_edits(self, case_id: str) -> list[ActivityEntry]:
        """The case's ``update-comment`` and ``delete-comment`` entries, newest first: what
        a log read a page at a time needs to show its comments as edited."""


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


class DeadlineRepository(Protocol):
    """Where each case's deadlines stand (SPEC §14), one state per (case, deadline name)."""

    def save(
        self, state: DeadlineState, *, timers: Sequence[Timer] = (), cancel: Sequence[str] = ()
    ) -> None:
        """Insert the state, or replace the case's state of that deadline; with it, set
        ``timers`` (of the state's case, as ``TimerRepository.set`` does) and delete the
        case's timers named in ``cancel``. A SQL store does all of it in one statement: a
        status change that moves a deadline costs one write more, not three."""

    def get(self, case_id: str, name: str) -> DeadlineState | None: ...

    def for_case(self, case_id: str) -> list[DeadlineState]:
        """The case's deadline states, by name."""

    def hold(self, case_id: str) -> tuple[Case, list[DeadlineState]] | None:
        """The case, locked as ``CaseRepository.get(lock=True)`` locks it, with its deadline
        states (by name), in one read; None when there is no such case. What a request on a
        flow with deadlines reads first: its answer and its status changes need the states,
        and then cost no read of their own."""

    def for_cases(self, case_ids: Sequence[str]) -> list[DeadlineState]:
        """The deadline states of these cases (a listing's page), by case then name."""


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

    def prune(self, now: datetime, limit: int) -> int:
        """Delete up to ``limit`` keys expired at ``now``; how many."""

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        """The record stored under the key, expired or not, answered or not."""


class ChangeRepository(Protocol):
    """The change feed: every activity entry that commits, in one order readers can resume.
    Entries enter it through ``ActivityRepository.add``."""

    def after(self, position: Position | None, limit: int) -> list[Change]:
        """Up to ``limit`` changes after ``position`` (None: from the start), in feed order.

        Only changes no later reader could see anything precede: a change a transaction
        still running would place before them is waited for, not skipped. So a reader that
        resumes from the last position it read never misses a change.
        """

    def at(self, position: Position) -> Change | None:
        """The change at ``position``, or None."""

    def prune(self, before: datetime, upto: Position, limit: int) -> list[Position]:
        """Delete up to ``limit`` changes from the start of the feed, in feed order, while each
        committed before ``before`` and sits at or before ``upto``; never the newest change
        of the feed. The feed keeps no gap: it only ever loses its oldest changes. Remembers
        the last one deleted (``pruned``). The positions deleted."""

    def pruned(self) -> Position | None:
        """The position of the last change ever pruned; None when none was."""

    def head(self) -> Position:
        """A position every change committed from now on comes after."""


class WebhookRepository(Protocol):
    """Subscriptions, one per URL, and how far the feed has been fanned out to each."""

    def register(self, webhook: Webhook) -> None:
        """Insert the webhook, or update the events and secret of the one with its URL (whose
        cursor stays where it is)."""

    def get(self, url: str) -> Webhook | None: ...

    def all(self) -> list[Webhook]:
        """Every webhook, by URL, locking none."""

    def remove(self, url: str) -> bool:
        """Delete the webhook with this URL (its deliveries stay); whether there was one."""

    def rename(self, url: str, new_url: str) -> None:
        """Give the webhook ``url`` (which exists) and its deliveries the URL ``new_url``
        (which no webhook has), keeping everything else."""

    def claim_all(self) -> list[Webhook]:
        """Every webhook no other unit of work holds, held for the rest of this one (others
        are skipped, not waited for)."""

    def advance(self, url: str, cursor: Position) -> None:
        """Record that the feed up to ``cursor`` has been fanned out to the webhook."""


class DeliveryRepository(Protocol):
    """Events on their way to webhooks: queued in feed order, claimed, finished."""

    def enqueue(self, deliveries: list[Delivery]) -> None:
        """Add pending deliveries, given in feed order. Each becomes due at its
        ``next_attempt_at``, unless a delivery of the same webhook and case is pending
        already: then it waits (``next_attempt_at`` None) until that one finishes."""

    def claim_next(
        self, now: datetime, claim: str, until: datetime, skip: Collection[str] = ()
    ) -> Delivery | None:
        """The pending delivery due soonest (at or before ``now``) that no live claim holds,
        claimed with ``claim`` until ``until``, and returned as claimed. Deliveries other
        units of work hold are skipped, not waited for, and so are those of the webhook URLs
        in ``skip``. None when nothing is due."""

    def finish(self, delivery: Delivery, now: datetime) -> bool:
        """Save the attempt's outcome (status, attempts, next_attempt_at, last_error) and
        drop the claim, if the delivery is still claimed with ``delivery.claim``; whether it
        was. When the delivery is no longer pending, the next pending delivery of its webhook
        and case becomes due at ``now``."""

    def prune(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` deliveries that ended (delivered or failed) and were created
        before ``before``; how many."""

    def for_case(self, case_id: str) -> list[Delivery]:
        """The case's deliveries, in feed order, then by webhook URL."""

    def cancel_pending(self, url: str, now: datetime, reason: str) -> int:
        """Mark the webhook URL's pending deliveries failed with ``reason`` as their last
        error, claims dropped (a relay sending one finds it gone); how many there were."""


class StatsRepository(Protocol):
    """What the metrics read of the whole store at scrape time (SPEC §17). Each is one cheap
    statement (an index or a kept count), never a walk over every case."""

    def cases_by_status(self) -> builtins.list[tuple[str, int]]:
        """How many cases have each status: ``(status, count)`` for every status with one
        case or more, in any order."""

    def deadlines_overdue(self, now: datetime) -> int:
        """Deadlines overdue at ``now``: those in state ``overdue``, and those still running
        whose due has passed (their ``passed`` event not fired yet)."""

    def timers_due(self, now: datetime) -> int:
        """Timers whose time to fire (``fire_at``) has come at ``now``: not fired yet."""

    def webhooks_pending(self) -> int:
        """Webhook deliveries still pending (due, waiting their turn, or waiting a retry)."""

    def feed_oldest_pending(self, now: datetime) -> float:
        """Seconds since the oldest committed change a feed reader cannot be served yet was
        written; 0 when there is none. On PostgreSQL, a change committed but not yet given
        its place by a sequencing step (taskflow_postgres/changes.py); always 0 where a
        change has its place when it commits (memory, SQLite)."""


@runtime_checkable
class EncodedListings(Protocol):
    """A case repository that can write a page's answers itself, sparing the service a
    parse and an encode per case: for an inbox page of 100 cases, most of the request's
    CPU (benchmarks/README.md). Optional: without it, the service encodes the cases
    ``list`` returns; with list decorators registered, it always does.
    """

    def list_encoded(
        self, query: ListQuery, *, budget: int, as_stored: bool = False
    ) -> EncodedPage:
        """``list(query, budget=budget)``, each case within the budget as the JSON text
        ``encode_json(case_to_wire(case))`` makes (taskflow_core/domain/wire.py): the same text,
        except that a number stored by another client with more precision than a float is
        written exactly, where the worker would round it. ``as_stored``: numbers as the
        store keeps them (``1.0``, ``1000000000000000000000``) rather than as JavaScript
        writes them, so that parsing the text gives the values ``list`` reads."""


@runtime_checkable
class ConcurrentWriters(Protocol):
    """A store whose writers wait on each other only for the rows they share (PostgreSQL),
    so that a bulk action may run several of its cases at once (application/bulk.py), each
    still in a transaction of its own. Optional: without it, a batch runs its cases one
    after another (SQLite has one writer; the memory store locks the whole store)."""

    @property
    def concurrent_writers(self) -> int:
        """How many transactions one batch may hold open at once (1: one at a time)."""


@runtime_checkable
class EntryWithCase(Protocol):
    """An activity repository that writes an event's case (new, or changed) and its entry
    in one round trip, and answers with the case as it is then. Optional: without it, the
    pipeline calls ``cases.add`` or ``cases.save``, then ``add``, and reads the answered
    case back once the command is done; a store whose statements cost a round trip each
    (PostgreSQL) saves two on most writes with it.
    """

    def add_with_case(
        self, entry: ActivityEntry, case: Case, *, new: bool, stored_version: int | None = None
    ) -> tuple[Case, list[ActivityEntry]]:
        """``cases.add(case)`` when ``new``, else ``cases.save(case)``; then ``add(entry)``:
        the same effects and the same errors, in one statement. Returns what
        ``cases.get_with_activity(case.id)`` would return right after it.

        ``stored_version``: save only while the stored case is at this version; otherwise
        write nothing and raise ``CaseMoved`` (the case was read without a lock)."""


@runtime_checkable
class ImplicitTransaction(Protocol):
    """A unit of work that can leave each statement to be a transaction of its own, which
    the database makes atomic by itself. Optional: a store whose BEGIN and COMMIT each cost
    a round trip (PostgreSQL) saves both on a command that writes once, with a version
    condition on what it read (pipeline.py, ``go_alone``)."""

    def autocommit(self) -> None:
        """Every statement from now on commits as it ends, and ``commit()`` has nothing
        left to do. Called before anything else is sent."""


@runtime_checkable
class ChangeWaiter(Protocol):
    """A store that can tell when changes may have committed, so readers need not poll."""

    def wait_for_changes(self, timeout: float) -> None:
        """Return when changes may have committed, or after ``timeout`` seconds at most.

        Returning early with nothing new is allowed: callers check again and wait again.
        """


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

    @property
    def deadlines(self) -> DeadlineRepository: ...

    @property
    def changes(self) -> ChangeRepository: ...

    @property
    def webhooks(self) -> WebhookRepository: ...

    @property
    def deliveries(self) -> DeliveryRepository: ...

    @property
    def stats(self) -> StatsRepository: ...

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
