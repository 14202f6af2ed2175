"""MemoryStore: a real, thread-safe, transactional store in process memory, for host tests.

Behaves like the PostgreSQL store on the contract suite: data goes in and out as JSON (so what
PostgreSQL would refuse, this refuses too), and a transaction that does not commit leaves no
trace. Transactions are serialised by one lock, which is stronger than row locks and plenty
for tests.
"""

from __future__ import annotations

import builtins
import json
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import attrs

from ..application.case_log import CaseLog, case_log
from ..application.deadline_query import DUE
from ..application.idempotency import PURGE_BATCH
from ..application.query import Deferred, ListPage, ListQuery, within
from ..domain import search
from ..domain.deadlines import OVERDUE, RUNNING
from ..domain.json_values import json_contains
from ..domain.model import PENDING, ActivityEntry, Case, DeadlineState, IdempotencyRecord, Timer
from ..domain.names import Event
from ..domain.wire import fold_comments
from ..errors import Conflict, NotFound
from .feed import FeedState, MemoryChanges, MemoryDeliveries, MemoryWebhooks


def _copy(value: Any) -> Any:
    # A JSON round trip: no aliasing between caller and store, and non-JSON values fail here
    # as they would in a database.
    return json.loads(json.dumps(value, allow_nan=False))


def _size(data: Any) -> int:
    # What the SQL stores measure: the bytes of the data's JSON text.
    return len(json.dumps(data, ensure_ascii=False).encode())


def _stored_case(case: Case) -> Case:
    return attrs.evolve(case, data=_copy(case.data))


def _stored_entry(entry: ActivityEntry) -> ActivityEntry:
    return attrs.evolve(entry, event=_copy(entry.event))


def _earliest_due(states: list[DeadlineState]) -> datetime | None:
    dues = [s.due for s in states if s.state in (RUNNING, OVERDUE) and s.due is not None]
    return min(dues, default=None)


def _deadlines_match(states: list[DeadlineState], query: ListQuery) -> bool:
    wanted = query.deadlines
    if wanted.overdue and not any(s.state == OVERDUE for s in states):
        return False
    due_to = wanted.due_to
    return due_to is None or any(
        s.state == RUNNING and s.due is not None and s.due < due_to for s in states
    )


def _deadlines_of(case_id: str, state: _State) -> list[DeadlineState]:
    return [d for (owner, _), d in state.deadlines.items() if owner == case_id]


def _matches(case: Case, query: ListQuery, state: _State) -> bool:
    if query.after_id is not None and case.id <= query.after_id:
        return False
    if query.statuses and case.status not in query.statuses:
        return False
    if query.assigned_to and case.assigned_to not in query.assigned_to:
        return False
    if case.status in query.exclude_statuses:
        return False
    if case.assigned_to is not None and case.assigned_to in query.exclude_assigned_to:
        return False
    if query.unassigned and case.assigned_to is not None:
        return False
    if not (query.created.holds(case.created_at) and query.updated.holds(case.updated_at)):
        return False
    if query.data and not json_contains(case.data, query.data):
        return False
    if query.search and not search.matches(query.search, _texts(case, state)):
        return False
    if query.deadlines and not _deadlines_match(_deadlines_of(case.id, state), query):
        return False
    return all(_matches(case, also, state) for also in query.also)


def _texts(case: Case, state: _State) -> list[str]:
    """What a search looks in: the data's strings and the comments not deleted, as edited."""
    entries = sorted(state.activity.get(case.id, []), key=lambda e: e.created_at)
    comments = [
        entry["comment"]
        for entry in fold_comments(entries[::-1])
        if entry["eventName"] == Event.COMMENT and isinstance(entry["comment"], str)
    ]
    return [*search.strings(case.data), *comments]


def _ordered(
    cases: list[Case], query: ListQuery, deadlines: dict[str, list[DeadlineState]]
) -> list[Case]:
    field = query.sort_field
    if field == DUE:
        # The soonest first (or last); cases without a running or overdue deadline last.
        timed = [(c, _earliest_due(deadlines.get(c.id, []))) for c in cases]
        with_due = sorted(
            ((c, d) for c, d in timed if d is not None),
            key=lambda pair: (pair[1], pair[0].id),
            reverse=not query.ascending,
        )
        without = sorted((c for c, d in timed if d is None), key=lambda c: c.id)
        return [c for c, _ in with_due] + without

    # PostgreSQL's default: NULL sorts above every value (last ascending, first descending).
    def key(case: Case) -> tuple[bool, Any, str]:
        value = getattr(case, field)
        return (value is None, "" if value is None else value, case.id)

    return sorted(cases, key=key, reverse=not query.ascending)


class _State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.cases: dict[str, Case] = {}
        self.activity: dict[str, list[ActivityEntry]] = {}
        self.timers: dict[tuple[str, str], Timer] = {}
        self.deadlines: dict[tuple[str, str], DeadlineState] = {}
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}
        self.feed = FeedState()


class MemoryCases:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self._state = uow.state

    def add(self, case: Case) -> None:
        if case.id in self._state.cases:
            raise Conflict("Case already exists")
        self._state.cases[case.id] = _stored_case(case)
        self._uow.undo(lambda: self._state.cases.pop(case.id))

    def get(self, case_id: str, *, lock: bool = False) -> Case | None:
        # Every unit of work holds the store's lock, so every read is already locked.
        found = self._state.cases.get(case_id)
        return None if found is None else _stored_case(found)

    def get_with_activity(self, case_id: str) -> tuple[Case, list[ActivityEntry]] | None:
        case = self.get(case_id)
        return None if case is None else (case, self._uow.activity.for_case(case_id))

    def read_with_log(self, case_id: str, budget: int) -> CaseLog | None:
        case = self.get(case_id)
        if case is None:
            return None
        # The entries as they are now (entries are never changed, only added): later pages
        # show what the first did, whatever is written meanwhile.
        ordered = self._uow.activity.newest_first(case_id)
        return case_log(case, ordered, lambda e: _size(e.event), _stored_entry, budget)

    def save(self, case: Case) -> None:
        previous = self._state.cases.get(case.id)
        if previous is None:
            raise NotFound("Case not found")
        self._state.cases[case.id] = _stored_case(case)
        self._uow.undo(lambda: self._state.cases.__setitem__(case.id, previous))

    def get_many(self, case_ids: Sequence[str]) -> list[Case]:
        found = (self._state.cases.get(case_id) for case_id in case_ids)
        return [_stored_case(case) for case in found if case is not None]

    def count_by(self, query: ListQuery, field: str) -> builtins.list[tuple[str | None, int]]:
        found = [c for c in self._state.cases.values() if _matches(c, query, self._state)]
        return list(Counter(getattr(case, field) for case in found).items())

    def list(self, query: ListQuery, *, budget: int | None = None) -> ListPage:
        found = [c for c in self._state.cases.values() if _matches(c, query, self._state)]
        deadlines: dict[str, list[DeadlineState]] = {}
        if query.sort_column == DUE:
            for (owner, _), deadline in self._state.deadlines.items():
                deadlines.setdefault(owner, []).append(deadline)
        page = _ordered(found, query, deadlines)[query.offset : query.offset + query.limit]
        count = len(found) if query.counted else 0
        if budget is None:
            return ListPage([_stored_case(c) for c in page], count)
        sizes = [_size(case.data) for case in page]
        read = within(budget, sizes)
        deferred = [
            Deferred(case.id, size) for case, size in zip(page[read:], sizes[read:], strict=True)
        ]
        return ListPage([_stored_case(c) for c in page[:read]], count, deferred)


class MemoryActivity:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self._state = uow.state

    def add(self, entry: ActivityEntry) -> None:
        if entry.case_id not in self._state.cases:
            raise NotFound("Case not found")
        stored = attrs.evolve(entry, event=_copy(entry.event))
        entries = self._state.activity.setdefault(entry.case_id, [])
        entries.append(stored)
        self._uow.undo(lambda: entries.remove(stored))
        self._uow.changes.publish(entry)

    def for_case(self, case_id: str) -> list[ActivityEntry]:
        return [_stored_entry(e) for e in self.newest_first(case_id)]

    def comment_edits(self, case_id: str) -> list[ActivityEntry]:
        edits = (Event.UPDATE_COMMENT, Event.DELETE_COMMENT)
        return [_stored_entry(e) for e in self.newest_first(case_id) if e.event_name in edits]

    def newest_first(self, case_id: str) -> list[ActivityEntry]:
        """The case's entries as stored (not copied), newest first."""
        entries = self._state.activity.get(case_id, [])
        # Ties on the time (a clock standing still) newest written first, as the stores
        # with a sequence order them: a stable sort of the entries reversed.
        return sorted(reversed(entries), key=lambda e: e.created_at, reverse=True)


class MemoryTimers:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self._state = uow.state

    def set(self, timer: Timer) -> None:
        if timer.case_id not in self._state.cases:
            raise NotFound("Case not found")
        key = (timer.case_id, timer.name)
        previous = self._state.timers.get(key)
        self._state.timers[key] = timer
        self._uow.undo(lambda: self._restore(key, previous))

    def get(self, case_id: str, name: str) -> Timer | None:
        return self._state.timers.get((case_id, name))

    def delete(self, case_id: str, name: str) -> None:
        key = (case_id, name)
        previous = self._state.timers.pop(key, None)
        if previous is not None:
            self._uow.undo(lambda: self._restore(key, previous))

    def for_case(self, case_id: str) -> list[Timer]:
        found = [t for (owner, _), t in self._state.timers.items() if owner == case_id]
        return sorted(found, key=lambda t: (t.due, t.name))

    def claim_due(self, now: datetime) -> Timer | None:
        # The unit of work holds the store's lock: nobody else can claim it meanwhile.
        due = [t for t in self._state.timers.values() if t.fire_at <= now]
        return min(due, key=lambda t: (t.fire_at, t.case_id, t.name), default=None)

    def _restore(self, key: tuple[str, str], timer: Timer | None) -> None:
        if timer is None:
            self._state.timers.pop(key, None)
        else:
            self._state.timers[key] = timer


class MemoryDeadlines:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self._state = uow.state

    def save(
        self, state: DeadlineState, *, timers: Sequence[Timer] = (), cancel: Sequence[str] = ()
    ) -> None:
        if state.case_id not in self._state.cases:
            raise NotFound("Case not found")
        key = (state.case_id, state.name)
        previous = self._state.deadlines.get(key)
        self._state.deadlines[key] = state
        self._uow.undo(lambda: self._restore(key, previous))
        for timer in timers:
            self._uow.timers.set(timer)
        for name in cancel:
            self._uow.timers.delete(state.case_id, name)

    def get(self, case_id: str, name: str) -> DeadlineState | None:
        return self._state.deadlines.get((case_id, name))

    def for_case(self, case_id: str) -> list[DeadlineState]:
        return self.for_cases([case_id])

    def hold(self, case_id: str) -> tuple[Case, list[DeadlineState]] | None:
        case = self._uow.cases.get(case_id, lock=True)
        return None if case is None else (case, self.for_case(case_id))

    def for_cases(self, case_ids: Sequence[str]) -> list[DeadlineState]:
        wanted = set(case_ids)
        found = [d for (owner, _), d in self._state.deadlines.items() if owner in wanted]
        return sorted(found, key=lambda d: (d.case_id, d.name))

    def _restore(self, key: tuple[str, str], state: DeadlineState | None) -> None:
        if state is None:
            self._state.deadlines.pop(key, None)
        else:
            self._state.deadlines[key] = state


class MemoryIdempotency:
    """Every unit of work holds the store's lock, so a claim never meets another's."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self._records = uow.state.idempotency

    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        slot = (record.scope, record.key)
        stored = self._records.get(slot)
        if stored is not None and stored.expires_at > record.created_at:
            return stored
        self._put(slot, record)
        return None

    def complete(self, record: IdempotencyRecord) -> None:
        expired = [
            slot for slot, stored in self._records.items() if stored.expires_at <= record.created_at
        ][:PURGE_BATCH]
        for slot in expired:
            self._put(slot, None)
        self._put((record.scope, record.key), record)

    def prune(self, now: datetime, limit: int) -> int:
        expired = [slot for slot, stored in self._records.items() if stored.expires_at <= now]
        for slot in expired[:limit]:
            self._put(slot, None)
        return min(len(expired), limit)

    def get(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self._records.get((scope, key))

    def _put(self, slot: tuple[str, str], record: IdempotencyRecord | None) -> None:
        previous = self._records.get(slot)
        if record is None:
            self._records.pop(slot, None)
        else:
            self._records[slot] = record

        def undo() -> None:
            if previous is None:
                self._records.pop(slot, None)
            else:
                self._records[slot] = previous

        self._uow.undo(undo)


class MemoryStats:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._state = uow.state

    def cases_by_status(self) -> builtins.list[tuple[str, int]]:
        return list(Counter(case.status for case in self._state.cases.values()).items())

    def deadlines_overdue(self, now: datetime) -> int:
        return sum(
            1
            for d in self._state.deadlines.values()
            if d.state == OVERDUE or (d.state == RUNNING and d.due is not None and d.due <= now)
        )

    def timers_due(self, now: datetime) -> int:
        return sum(1 for timer in self._state.timers.values() if timer.fire_at <= now)

    def webhooks_pending(self) -> int:
        return sum(1 for d in self._state.feed.deliveries.values() if d.status == PENDING)

    def feed_oldest_pending(self, now: datetime) -> float:
        return 0.0  # a change has its place in the feed as it is written


class MemoryUnitOfWork:
    """Holds the store's lock from enter to exit; an undo journal makes rollback exact."""

    def __init__(self, state: _State) -> None:
        self.state = state
        self.cases = MemoryCases(self)
        self.activity = MemoryActivity(self)
        self.timers = MemoryTimers(self)
        self.deadlines = MemoryDeadlines(self)
        self.idempotency = MemoryIdempotency(self)
        self.changes = MemoryChanges(self, state.feed)
        self.webhooks = MemoryWebhooks(self, state.feed)
        self.deliveries = MemoryDeliveries(self, state.feed)
        self.stats = MemoryStats(self)
        self._journal: list[Callable[[], object]] = []
        self._active = False

    def undo(self, step: Callable[[], object]) -> None:
        self._journal.append(step)

    def __enter__(self) -> Self:
        if self._active:
            raise RuntimeError("a unit of work cannot be entered twice at once")
        self.state.lock.acquire()
        self._active = True
        self._journal = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._active = False
            self.state.lock.release()

    def commit(self) -> None:
        self._journal = []

    def rollback(self) -> None:
        while self._journal:
            self._journal.pop()()


class MemoryStore:
    """The in-memory store: ``Taskflow(MemoryStore())`` needs nothing installed."""

    def __init__(self) -> None:
        self._state = _State()

    def unit_of_work(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        # Reads take the same lock: simple, and consistent is all a test store must be.
        return MemoryUnitOfWork(self._state)

    def migrate(self) -> list[str]:
        return []  # nothing to migrate: the schema is the Python classes

    def close(self) -> None:
        pass

    def __str__(self) -> str:
        return "the in-memory store"
