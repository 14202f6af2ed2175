"""The events time brings to a case, as operations of the request pipeline: timers set,
cancelled and fired (SPEC §10), and deadlines acted on or come due (SPEC §14; their moves
are deadline_clock.py's). A mixin of ``Pipeline`` (pipeline.py), whose ``hold`` and
``_dispatch`` every event goes through.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ..domain.calendar import Span
from ..domain.clock import TransactionClock, timestamp, utc
from ..domain.deadlines import PASSED, deadline_event, deadline_of_timer
from ..domain.model import Case, Timer
from ..domain.names import timer_event
from ..ports import UnitOfWork
from .deadline_clock import DeadlineClock


class TimedEvents:
    # Pipeline's (pipeline.py).
    uow: UnitOfWork
    user: Any
    payload: Any
    clock: TransactionClock
    deadline_clock: DeadlineClock

    def hold(self, case_id: str) -> Case:
        raise NotImplementedError

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
        raise NotImplementedError

    def set_timer(self, case_id: str, name: str, at: datetime | timedelta) -> None:
        self.hold(case_id)
        due = utc(self.clock.wall() + at if isinstance(at, timedelta) else at)
        self.uow.timers.set(Timer(case_id=case_id, name=name, due=due, fire_at=due))

    def cancel_timer(self, case_id: str, name: str) -> None:
        self.hold(case_id)
        self.uow.timers.delete(case_id, name)

    def fire_timer(self, timer: Timer) -> None:
        """The ``timer:<name>`` event of a timer claimed in this transaction, which removes it
        first: a hook may set it again, and then that one stays."""
        self.uow.timers.delete(timer.case_id, timer.name)
        self.hold(timer.case_id)
        of_deadline = deadline_of_timer(timer.name)
        if of_deadline is not None:
            self._fire_deadline(timer.case_id, *of_deadline)
            return
        meta = {"name": timer.name, "due": timestamp(timer.due), "user": None}
        self._dispatch(timer.case_id, timer_event(timer.name), meta, None)

    # -- deadlines (SPEC §14): the moves are deadline_clock.py's ---------------------------

    def deadline_action(
        self,
        case_id: str,
        name: str,
        action: str,
        reason: str,
        *,
        by: Span | None = None,
        until: datetime | None = None,
    ) -> None:
        """The ``deadline:<name>:<action>`` event: extend, remove or reinstate the case's
        deadline. Refused before any hook when its state does not allow the action."""
        self.hold(case_id)
        changed, before, deadline = self.deadline_clock.act(
            case_id, name, action, by=by, until=until
        )
        due = None if changed.due is None else timestamp(changed.due)
        meta = {
            "name": name,
            "reason": reason,
            "due": due,
            "user": self.user,
            "payload": self.payload,
        }

        def change() -> None:
            self.deadline_clock.apply(deadline, before, changed)

        self._dispatch(case_id, deadline_event(name, action), meta, change)

    def _fire_deadline(self, case_id: str, name: str, what: str) -> None:
        """A deadline's timer came due: ``deadline:<name>:passed`` (running becomes overdue)
        or ``deadline:<name>:reminder``; nothing when the deadline no longer runs."""
        found = self.deadline_clock.due(case_id, name)
        if found is None:
            return
        current, due = found
        meta = {"name": name, "due": timestamp(due), "user": None}
        change = (lambda: self.deadline_clock.passed(current)) if what == PASSED else None
        self._dispatch(case_id, deadline_event(name, what), meta, change)
