"""One request's work inside one unit of work: every operation, its events and its hooks.

Every event goes through one pipeline (``_dispatch``): its check (for a status change, the
declared workflow), ``pre-`` hooks, the change, the record step (the case saved with its new
version, the activity entry, and the same entry in the change feed), then the post hooks. A
new kind of event is a new operation calling ``_dispatch``; what every event must also leave
behind goes in ``_record``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any, Literal

import attrs

from ..domain.clock import Clock, Timeline, TransactionClock
from ..domain.deadlines import (
    NO_DEADLINES,
    Deadlines,
)
from ..domain.events import CaseHandle, DataChange, HookEvent, HookHandlers
from ..domain.model import NEW_STATUS, ActivityEntry, Case, new_id
from ..domain.names import Event, pre, status_event
from ..domain.record import activity_entry
from ..domain.redaction import Redactor
from ..domain.validation import canonical_id, same_id
from ..domain.wire import case_to_wire, edited_comment_id
from ..domain.workflow import NO_WORKFLOW, Workflow
from ..errors import Forbidden, HookUsageError, NotFound, PreconditionFailed, TaskflowError
from ..ports import EntryWithCase, ImplicitTransaction, UnitOfWork
from .deadline_clock import DeadlineClock
from .observing import Observers, event_kind
from .timed_events import TimedEvents

logger = logging.getLogger(__name__)

# Deep enough for any sane workflow; a hook that triggers itself forever stops here.
MAX_CASCADE_DEPTH = 50


def read_case(uow: UnitOfWork, case_id: str) -> dict[str, Any]:
    """The case as ``GET /{id}`` shows it, with its activity log, in one read."""
    found = uow.cases.get_with_activity(case_id)
    if found is None:
        raise NotFound("Case not found")
    case, activity = found
    return case_to_wire(case, activity)


class Pipeline(TimedEvents):
    """The state of one request: its unit of work, hooks, actor, clock and settled callbacks.

    Cases this transaction has locked or created are kept in an identity map: their rows are
    held for update until the end, so the map is exactly what the store holds for this
    transaction (once the record step has saved them) and re-reading them would only cost
    round trips.

    A case's version goes up once per transaction, at its first event: no other transaction
    sees the rows between its events, so one step is enough for "changed since you read it".
    """

    def __init__(
        self,
        uow: UnitOfWork,
        hooks: HookHandlers,
        *,
        user: Any,
        payload: Any,
        actor: str | None,
        clock: Clock | Timeline,
        redact: Redactor,
        workflow: Workflow = NO_WORKFLOW,
        deadlines: Deadlines = NO_DEADLINES,
        observer: Observers | None = None,
        bulk: str | None = None,
    ) -> None:
        self.uow = uow
        # None when nobody watches, so the record step and hooks skip the bookkeeping.
        self.observer = observer if observer else None
        # The bulk action this request is one case of (SPEC §18): its id is in every event's
        # meta, so hooks, the log, the feed and webhooks can tell a batch's events apart.
        self.bulk = bulk
        self.hooks = hooks
        self.workflow = workflow
        self.user = user
        self.payload = payload
        self.actor = actor
        self.req = new_id()
        self.clock = TransactionClock(clock)
        self.deadline_clock = DeadlineClock(uow, deadlines, self.clock)
        self.redact = redact
        self.redirect_to: str | None = None
        self._held: dict[str, Case] = {}
        # Cases whose version this transaction has set (bumped, or 1 for a case it created),
        # and cases the change step changed that the record step has not saved yet.
        self._versioned: set[str] = set()
        self._unsaved: set[str] = set()
        # Cases created whose row the record step writes, with their first entry, in one
        # round trip where the store can (ports.EntryWithCase).
        self._together = uow.activity if isinstance(uow.activity, EntryWithCase) else None
        self._unwritten: set[str] = set()
        # Gone alone (go_alone): cases are read without a lock, at these versions, and
        # written only while still at them (else CaseMoved, and the command runs again).
        self._read_at: dict[str, int] | None = None
        # The answered case as the store's last write left it (ports.EntryWithCase), while
        # nothing since can have changed it: no hook has run, no other case was written.
        self._fresh: tuple[str, Case, list[ActivityEntry]] | None = None
        self._settled: list[Callable[[], Any]] = []
        self._depth = 0
        # The events recorded, counted once they commit; and the hook failure counted last,
        # so a cascade's outer hooks, which the same error passes through, do not count it.
        self._recorded: list[str] = []
        self._failure_counted: BaseException | None = None

    # -- reading (also what hooks read through CaseAccess) ---------------------------------

    def current(self, case_id: str) -> Case | None:
        held = self._held.get(case_id)
        return held if held is not None else self.uow.cases.get(case_id)

    def hold(self, case_id: str) -> Case:
        """The case, locked against other writers for the rest of the transaction (gone
        alone: read, and written later only while still as read)."""
        held = self._held.get(case_id)
        if held is None:
            # With deadlines declared, their states come with the lock: the answer and a
            # status change need them, and then read nothing more.
            if self.deadline_clock.declared:
                held = self.deadline_clock.hold(case_id)
            else:
                held = self.uow.cases.get(case_id, lock=self._read_at is None)
            if held is None:
                raise NotFound("Case not found")
            self._held[case_id] = held
            if self._read_at is not None:
                self._read_at[case_id] = held.version
        return held

    def go_alone(self, kinds: tuple[str, ...]) -> None:
        """Run a command that writes once without a transaction (saving the BEGIN and COMMIT
        round trips), when it may. The caller vouches that the command is all this
        transaction does and that nothing after it can fail the request; then: it dispatches
        events of ``kinds`` only, no hook is registered for any (so none can run, nor
        cascade), no deadline's clock follows them, and the store writes a case with its
        entry in one statement. Its reads then take no lock and its one write is a
        transaction of its own, made only while the case is at the version read (a
        version goes up with every change, a comment's too): the same outcome as under a
        lock, or CaseMoved. Called before the command reads anything."""
        if (
            not isinstance(self.uow, ImplicitTransaction)
            or self._together is None
            or self.deadline_clock.declared
            or self.hooks.any_of_kinds(kinds + tuple(pre(kind) for kind in kinds))
        ):
            return
        self.uow.autocommit()
        self._read_at = {}

    def check_version(self, case_id: str, expected: int | frozenset[int]) -> None:
        """Refuse the request unless the case is at the version its caller expects; checked
        with the row held, so no other request can change the case after the check."""
        version = self.hold(case_id).version
        matches = version in expected if isinstance(expected, frozenset) else version == expected
        if not matches:
            raise PreconditionFailed(
                f"The case is at version {version}, not at the version the request expects"
            )

    def activity_of(self, case_id: str) -> list[ActivityEntry]:
        return self.uow.activity.for_case(case_id)

    def find(self, case_id: str) -> CaseHandle:
        found = canonical_id(case_id)
        if self.current(found) is None:
            raise NotFound("Case not found")
        return CaseHandle(self, found)

    def answer(self, case_id: str) -> dict[str, Any]:
        """The case as ``GET /{id}`` would show it now, in this transaction: as the last
        write left it when nothing has run since, else read again."""
        if self._fresh is not None and self._fresh[0] == case_id:
            return case_to_wire(self._fresh[1], self._fresh[2])
        return read_case(self.uow, case_id)

    # -- operations ------------------------------------------------------------------------

    def create(self, data: dict[str, Any]) -> str:
        """Create a case; the id of the case the request answers with (maybe a redirect)."""
        case_id = new_id()
        meta = self._stamped({"user": self.user, "data": data, "payload": self.payload})
        self._run_hooks(case_id, pre(Event.CREATE), meta, proposed=data)
        if self.redirect_to is not None:
            return self.redirect_to

        def insert() -> None:
            now = self.clock.now()
            case = Case(
                id=case_id,
                status=NEW_STATUS,
                data=data,
                assigned_to=None,
                created_at=now,
                updated_at=now,
            )
            self._held[case_id] = case
            self._versioned.add(case_id)
            if self.deadline_clock.declared:
                # The clocks' rows refer to the case's: it is written first.
                self.uow.cases.add(case)
                self.deadline_clock.created(case_id)
                self.deadline_clock.follow(case_id, NEW_STATUS)
            else:
                self._unwritten.add(case_id)

        self._dispatch(case_id, Event.CREATE, meta, insert, pre_hooks=False)
        return case_id

    def change_data(
        self, case_id: str, new_data: DataChange, *, preserve_updated_at: bool = False
    ) -> None:
        """The ``update`` event: the case's data becomes ``new_data(data)``."""
        meta = {
            "data": new_data(self.hold(case_id).data),
            "user": self.user,
            "payload": self.payload,
        }

        def apply(case: Case) -> Case:
            # Merged again into the data as pre-hooks left it (one may have patched this case
            # through find()), and meta follows, so post hooks and the log see what was saved.
            meta["data"] = new_data(case.data)
            at = case.updated_at if preserve_updated_at else self.clock.now()
            return attrs.evolve(case, data=meta["data"], updated_at=at)

        self._dispatch(case_id, Event.UPDATE, meta, self._saving(case_id, apply))

    def set_status(self, case_id: str, status: str) -> None:
        previous = self.hold(case_id).status
        meta = {"previous": previous, "next": status, "user": self.user, "payload": self.payload}

        def apply(case: Case) -> Case:
            return attrs.evolve(case, status=status, updated_at=self.clock.now())

        saving = self._saving(case_id, apply)

        def change() -> None:
            saving()
            # The clocks follow the status in the same transaction, whoever changes it.
            self.deadline_clock.follow(case_id, status)

        # Undeclared, there is nothing to check: not even a closure on the hot path.
        check = self._transition(case_id, previous, status) if self.workflow.declared else None
        self._dispatch(case_id, status_event(previous, status), meta, change, check=check)

    def _transition(self, case_id: str, previous: str, status: str) -> Callable[[], None]:
        """The status event's check: the declared workflow, for this request's user."""

        def seen_by_guards() -> dict[str, Any]:
            # The case as GET /{id} would show it now, in this transaction; its data copied,
            # because the held case is what the change saves and a guard must not edit it.
            seen = case_to_wire(self.hold(case_id), self.activity_of(case_id))
            seen["data"] = copy.deepcopy(seen["data"])
            return seen

        return lambda: self.workflow.check(previous, status, self.user, seen_by_guards)

    def assign(
        self, case_id: str, assigned_to: str | None, *, unless_current: bool = False
    ) -> None:
        """Assign the case. ``unless_current``: the assign route's rule, under which assigning
        the current assignee again is no event at all (a hook's assign() always is one)."""
        if unless_current and self.hold(case_id).assigned_to == assigned_to:
            return
        meta = {"assignedTo": assigned_to, "user": self.user, "payload": self.payload}
        self._dispatch(
            case_id,
            Event.ASSIGN,
            meta,
            self._saving(case_id, lambda c: attrs.evolve(c, assigned_to=assigned_to)),
        )

    def log_assign(self, case_id: str) -> None:
        """The assign route given no assignee: as the original, whose update dropped the
        missing value, the assignee stays as it is and the ``assign`` event is still logged,
        its meta without ``assignedTo``."""
        self.hold(case_id)
        meta = {"user": self.user, "payload": self.payload}
        self._dispatch(case_id, Event.ASSIGN, meta, None)

    def comment(self, case_id: str, comment: str) -> None:
        self.hold(case_id)
        meta = {"user": self.user, "comment": comment, "payload": self.payload}
        self._dispatch(case_id, Event.COMMENT, meta, None)

    def update_comment(self, case_id: str, comment_id: str, comment: str) -> None:
        self._own_comment(case_id, comment_id)
        meta = {"id": comment_id, "user": self.user, "comment": comment, "payload": self.payload}
        self._dispatch(case_id, Event.UPDATE_COMMENT, meta, None)

    def delete_comment(self, case_id: str, comment_id: str) -> None:
        self._own_comment(case_id, comment_id)
        meta = {"id": comment_id, "user": self.user}
        self._dispatch(case_id, Event.DELETE_COMMENT, meta, None)

    def _own_comment(self, case_id: str, comment_id: str) -> None:
        self.hold(case_id)
        entries = self.activity_of(case_id)
        deleted = {edited_comment_id(e) for e in entries if e.event_name == Event.DELETE_COMMENT}
        original = next(
            (e for e in entries if e.id == comment_id and e.event_name == Event.COMMENT), None
        )
        if original is None or comment_id in deleted:
            raise NotFound("Comment not found")
        if not same_id(original.changed_by, self.actor):
            raise Forbidden("Only the author of a comment can change it")

    # -- what hooks may do besides operations ------------------------------------------------

    def redirect(self, case_id: str) -> None:
        self.redirect_to = case_id

    def on_settled(self, fn: Callable[[], Any]) -> None:
        self._settled.append(fn)

    def run_settled(self) -> None:
        """After commit: the observer told what committed, then every callback in order; a
        failing one is logged, never raised."""
        if self.observer is not None and self._recorded:
            self.observer.events_committed(self._recorded)
        for fn in self._settled:
            try:
                fn()
            except Exception:
                logger.exception("an on_settled callback failed after commit")

    # -- the pipeline --------------------------------------------------------------------

    def _saving(self, case_id: str, apply: Callable[[Case], Case]) -> Callable[[], None]:
        """The change step for an existing case: ``apply`` to it as pre-hooks left it (they
        may have changed other fields); the record step right after it saves the result."""

        def change() -> None:
            self._held[case_id] = apply(self.hold(case_id))
            self._unsaved.add(case_id)

        return change

    def _dispatch(
        self,
        case_id: str,
        name: str,
        meta: dict[str, Any],
        change: Callable[[], None] | None,
        *,
        pre_hooks: bool = True,
        check: Callable[[], None] | None = None,
    ) -> None:
        """One event: its check, ``pre-`` hooks, the change, the record, then the post hooks.

        ``check`` refuses the event by raising, before any hook has run or anything changed.
        """
        if self._depth >= MAX_CASCADE_DEPTH:
            raise HookUsageError(f"hooks cascaded more than {MAX_CASCADE_DEPTH} events deep")
        self._depth += 1
        self._stamped(meta)
        try:
            if check is not None:
                check()
            if pre_hooks:
                self._run_hooks(case_id, pre(name), meta)
            if change is not None:
                change()
            self._record(case_id, name, meta)
            self._run_hooks(case_id, name, meta)
        finally:
            self._depth -= 1

    def _stamped(self, meta: dict[str, Any]) -> dict[str, Any]:
        """``meta`` with the bulk action's id, when the request is one case of one."""
        if self.bulk is not None:
            meta["bulk"] = self.bulk
        return meta

    def _record(self, case_id: str, name: str, meta: dict[str, Any]) -> None:
        """What every event leaves behind, before any post hook runs (so they see it): the
        case saved with its new version, and the activity entry."""
        case, write = self._saved(case_id)
        entry = activity_entry(
            case,
            name,
            meta,
            actor=self.actor,
            request_id=self.req,
            at=self.clock.now(),
            redact=self.redact,
        )
        # The feed gets the entry with it, in the same transaction: it commits with the
        # change, or neither does. The case's write, when it has one, goes with them.
        self._fresh = None
        if write is None:
            self.uow.activity.add(entry)
        elif self._together is not None:
            at = None if self._read_at is None or write == "add" else self._read_at[case_id]
            stored, log = self._together.add_with_case(
                entry, case, new=write == "add", stored_version=at
            )
            self._fresh = (case_id, stored, log)
        else:
            if write == "add":
                self.uow.cases.add(case)
            else:
                self.uow.cases.save(case)
            self.uow.activity.add(entry)
        # An event of a bulk action counts as the batch's (SPEC §17's kind "bulk"), so a
        # dashboard tells a run of a thousand status changes from a thousand requests.
        kind = None
        if self.observer is not None:
            kind = "bulk" if self.bulk is not None else event_kind(name)
        if kind is not None:
            self._recorded.append(kind)

    def _saved(self, case_id: str) -> tuple[Case, Literal["add", "save"] | None]:
        """The case as the event leaves it, its version bumped (once per transaction), and
        the write the record step owes the store for it: its first (``add``), an update
        (``save``), or none. The version rides on the change step's save where there is
        one; an event that changes no field (a comment) costs one UPDATE, on its first
        event in the transaction only."""
        case = self.hold(case_id)
        if case_id in self._unwritten:
            self._unwritten.discard(case_id)
            return case, "add"
        if case_id not in self._versioned:
            case = attrs.evolve(case, version=case.version + 1)
            self._versioned.add(case_id)
            self._unsaved.add(case_id)
        if case_id in self._unsaved:
            self._held[case_id] = case
            self._unsaved.discard(case_id)
            return case, "save"
        return case, None

    def _run_hooks(
        self,
        case_id: str,
        name: str,
        meta: dict[str, Any],
        proposed: dict[str, Any] | None = None,
    ) -> None:
        hooks = self.hooks.matching(name)
        if not hooks:
            return
        # A hook may change any case, through taskflow or its own SQL on this transaction.
        self._fresh = None
        event = HookEvent(self, case_id, name, meta, proposed)
        for index, hook in enumerate(hooks):
            if self.redirect_to is not None and name == pre(Event.CREATE):
                return  # a pre-create hook redirected: the pre-create hooks after it do not run
            event.refresh()
            try:
                if self.observer is None:
                    hook(event)
                else:
                    pattern = self.hooks.patterns(name)[index]
                    attributes = {"taskflow.event": name, "taskflow.hook.pattern": pattern}
                    with self.observer.span("taskflow.hook", attributes):
                        hook(event)
            except Exception as exc:
                if self.observer is not None and not isinstance(exc, TaskflowError):
                    self._count_failure(exc, self.hooks.patterns(name)[index])
                raise

    def _count_failure(self, exc: Exception, pattern: str) -> None:
        if exc is not self._failure_counted:
            self._failure_counted = exc
            assert self.observer is not None
            self.observer.hook_failed(pattern)
