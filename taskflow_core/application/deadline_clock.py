"""One transaction's deadlines (SPEC §14): each case's states read once, moved by its status
changes, actions and due timers, and saved with the timers that fire their events.

The pipeline (pipeline.py) calls this from its change steps; the rules of what moves a
deadline are pure, in taskflow_core/domain/deadlines.py. The states a transaction has read or
written are kept, so the answer's ``deadlines`` costs no second read.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from ..domain.calendar import Span
from ..domain.clock import TransactionClock
from ..domain.deadlines import (
    OVERDUE,
    PASSED,
    REMINDER,
    RUNNING,
    Deadline,
    Deadlines,
    deadline_event,
)
from ..domain.model import Case, DeadlineState, Timer
from ..errors import NotFound
from ..ports import UnitOfWork


class DeadlineClock:
    def __init__(self, uow: UnitOfWork, deadlines: Deadlines, clock: TransactionClock) -> None:
        self._uow = uow
        self.declared = deadlines
        self._clock = clock
        # Per case, every state it has (as this transaction left them), once read.
        self._states: dict[str, dict[str, DeadlineState]] = {}

    def states(self, case_id: str) -> list[DeadlineState]:
        """The case's deadline states as they stand in this transaction."""
        return list(self._of(case_id).values())

    def _of(self, case_id: str) -> dict[str, DeadlineState]:
        found = self._states.get(case_id)
        if found is None:
            found = {s.name: s for s in self._uow.deadlines.for_case(case_id)}
            self._states[case_id] = found
        return found

    def created(self, case_id: str) -> None:
        """A case this transaction created has no states yet: nothing to read."""
        self._states[case_id] = {}

    def hold(self, case_id: str) -> Case | None:
        """The case locked, its states read with it in one read (and kept)."""
        found = self._uow.deadlines.hold(case_id)
        if found is None:
            return None
        case, states = found
        self._states[case_id] = {s.name: s for s in states}
        return case

    def follow(self, case_id: str, status: str) -> None:
        """Move the case's deadlines that ``status`` starts, pauses or stops."""
        concerned = self.declared.concerning(status)
        if not concerned:
            return  # no statement at all for a status no deadline names
        now = self._clock.wall()
        states = self._of(case_id)
        for deadline in concerned:
            current = states.get(deadline.name)
            changed = deadline.follow(case_id, current, status, now)
            if changed is not None:
                self._save(deadline, current, changed, now)

    def act(
        self,
        case_id: str,
        name: str,
        action: str,
        *,
        by: Span | None,
        until: datetime | None,
    ) -> tuple[DeadlineState, DeadlineState | None, Deadline]:
        """The state ``action`` leaves the deadline in, with the state before and the
        declaration; nothing saved yet (``Conflict`` or ``InvalidRequest`` when refused)."""
        deadline = self.declared.named(name)
        if deadline is None:
            raise NotFound(f"No deadline named {name}")
        current = self._of(case_id).get(name)
        return (
            deadline.act(current, action, self._clock.wall(), by=by, until=until),
            current,
            deadline,
        )

    def apply(self, deadline: Deadline, before: DeadlineState | None, after: DeadlineState) -> None:
        """Save what ``act`` decided (the action's change step)."""
        self._save(deadline, before, after, self._clock.wall())

    def due(self, case_id: str, name: str) -> tuple[DeadlineState, datetime] | None:
        """The running deadline a due timer belongs to, with its due; None when the state
        no longer wants the timer (paused or ended meanwhile). Needs the stored state only,
        no declaration, so a sweeper without the host's app fires it too."""
        current = self._of(case_id).get(name)
        if current is None or current.state != RUNNING or current.due is None:
            return None
        return current, current.due

    def passed(self, current: DeadlineState) -> None:
        """A running deadline's due has come: it is overdue (its timers have fired)."""
        overdue = attrs.evolve(current, state=OVERDUE)
        self._uow.deadlines.save(overdue)
        self._of(current.case_id)[current.name] = overdue

    def _save(
        self,
        deadline: Deadline,
        before: DeadlineState | None,
        after: DeadlineState,
        now: datetime,
    ) -> None:
        """Save the state with the timers that fire its events: set while it runs, gone when
        it does not (only a running deadline has any, so a start deletes nothing)."""
        passed = deadline_event(deadline.name, PASSED)
        reminder = deadline_event(deadline.name, REMINDER)
        had_timers = before is not None and before.state == RUNNING
        timers: list[Timer] = []
        cancel: list[str] = []
        if after.state == RUNNING and after.due is not None:
            timers.append(
                Timer(case_id=after.case_id, name=passed, due=after.due, fire_at=after.due)
            )
            at = deadline.reminder_at(after.due)
            if at is not None and at > now:
                timers.append(Timer(case_id=after.case_id, name=reminder, due=at, fire_at=at))
            elif had_timers:
                cancel.append(reminder)
        elif had_timers:
            cancel.extend((passed, reminder))
        self._uow.deadlines.save(after, timers=timers, cancel=cancel)
        self._of(after.case_id)[after.name] = after
