"""Deadlines (SPEC §14): their declarations, their states, and how a status change, a due
moment or an action moves them. Pure: the pipeline reads and saves the states, and keeps the
timers (§10) that fire ``deadline:<name>:passed`` and ``deadline:<name>:reminder``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from ..errors import Conflict, InvalidRequest
from .calendar import DEFAULT_CALENDAR, BusinessCalendar, BusinessDays, Span, check_span
from .clock import timestamp
from .model import DeadlineState
from .validation import is_status

NAME_RE = re.compile(r"[a-z0-9-]+")
DEADLINE = "deadline"
PASSED = "passed"
REMINDER = "reminder"

RUNNING = "running"
PAUSED = "paused"
OVERDUE = "overdue"
MET = "met"
MISSED = "missed"
REMOVED = "removed"
# After these a ``starts`` status begins a new clock.
ENDED = frozenset({MET, MISSED, REMOVED})

EXTEND, REMOVE, REINSTATE = "extend", "remove", "reinstate"
ACTIONS = (EXTEND, REMOVE, REINSTATE)


def deadline_event(name: str, what: str) -> str:
    """``deadline:<name>:<what>``: an event's name, and the name of the timer firing it."""
    return f"{DEADLINE}:{name}:{what}"


def deadline_of_timer(timer_name: str) -> tuple[str, str] | None:
    """``(deadline, passed|reminder)`` for a deadline's timer, None for any other timer (a
    hook's timer name has no ``:``, so the two never meet)."""
    parts = timer_name.split(":")
    if len(parts) == 3 and parts[0] == DEADLINE and parts[2] in (PASSED, REMINDER):
        return parts[1], parts[2]
    return None


def _statuses(value: Iterable[str] | str) -> frozenset[str]:
    if isinstance(value, str):
        value = (value,)
    found = frozenset(value)
    bad = sorted(s for s in found if not is_status(s))
    if bad:
        raise ValueError(f"deadline statuses must be statuses ([a-z-]+), not {bad!r}")
    return found


def _name(_: object, __: object, value: str) -> None:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        raise ValueError(f"a deadline's name is [a-z0-9-]+, not {value!r}")


def _within(value: object) -> Span:
    return check_span(value, "within")


def _remind(value: object) -> Span | None:
    return None if value is None else check_span(value, "remind")


def _calendar(value: object) -> BusinessCalendar:
    if value is None:
        return DEFAULT_CALENDAR
    if not isinstance(value, BusinessCalendar):
        raise ValueError(f"calendar is a BusinessCalendar, not {value!r}")
    return value


@attrs.frozen
class Deadline:
    """One declared deadline: ``within`` of entering a ``starts`` status, paused by the
    ``pauses`` statuses and ended by the ``stops`` statuses. ValueError for a bad name, span,
    status or calendar, or a status in two of the lists."""

    name: str = attrs.field(validator=_name)
    within: Span = attrs.field(converter=_within)
    starts: frozenset[str] = attrs.field(converter=_statuses)
    pauses: frozenset[str] = attrs.field(converter=_statuses, factory=frozenset)
    stops: frozenset[str] = attrs.field(converter=_statuses, factory=frozenset)
    calendar: BusinessCalendar = attrs.field(converter=_calendar, default=None)
    remind: Span | None = attrs.field(converter=_remind, default=None)

    def __attrs_post_init__(self) -> None:
        if not self.starts:
            raise ValueError(f"deadline {self.name!r} needs at least one status in starts")
        shared = (
            (self.starts & self.pauses) | (self.starts & self.stops) | (self.pauses & self.stops)
        )
        if shared:
            raise ValueError(f"deadline {self.name!r}: {sorted(shared)} in two of the lists")

    def concerns(self, status: str) -> bool:
        return status in self.starts or status in self.pauses or status in self.stops

    # -- what a status change does -----------------------------------------------------

    def follow(
        self, case_id: str, current: DeadlineState | None, status: str, now: datetime
    ) -> DeadlineState | None:
        """The deadline's state after the case enters ``status`` at ``now``; None when it
        does not change."""
        state = None if current is None else current.state
        if status in self.starts:
            if state is None or state in ENDED:
                return self._start(case_id, now)
            if state == PAUSED and current is not None:
                return self._resume(current, now)
            return None
        if status in self.pauses and current is not None and state in (RUNNING, OVERDUE):
            return attrs.evolve(current, state=PAUSED, remaining=self._remaining(current, now))
        if status in self.stops and current is not None and state in (RUNNING, PAUSED, OVERDUE):
            late = state == OVERDUE or (
                state == RUNNING and current.due is not None and current.due <= now
            )
            return attrs.evolve(current, state=MISSED if late else MET)
        return None

    def _start(self, case_id: str, now: datetime) -> DeadlineState:
        due = self.calendar.add(now, self.within)
        return DeadlineState(
            case_id=case_id, name=self.name, state=RUNNING, due=due, started_at=now
        )

    def _remaining(self, current: DeadlineState, now: datetime) -> float | None:
        """What a pause keeps: business days (or seconds) left; None when already overdue."""
        if current.state == OVERDUE or current.due is None or current.due <= now:
            return None
        if isinstance(self.within, BusinessDays):
            return float(self.calendar.business_days_left(now, current.due))
        return (current.due - now).total_seconds()

    def _resume(self, current: DeadlineState, now: datetime) -> DeadlineState:
        if current.remaining is None:
            # Paused when already overdue: it comes back overdue, its due as it was.
            return attrs.evolve(current, state=OVERDUE, remaining=None)
        span: Span = (
            BusinessDays(int(current.remaining))
            if isinstance(self.within, BusinessDays)
            else timedelta(seconds=current.remaining)
        )
        return attrs.evolve(
            current, state=RUNNING, due=self.calendar.add(now, span), remaining=None
        )

    # -- what an action does --------------------------------------------------------------

    def act(
        self,
        current: DeadlineState | None,
        action: str,
        now: datetime,
        *,
        by: Span | None = None,
        until: datetime | None = None,
    ) -> DeadlineState:
        """The state after ``action``; ``Conflict`` when the state does not allow it (extend
        what is not running or overdue, remove what never started or is removed, reinstate
        what is not removed), ``InvalidRequest`` for an ``until`` not after ``now``."""
        state = None if current is None else current.state
        if current is None or state is None:
            raise Conflict(f"Deadline {self.name} has not started", {"state": None})
        if action == EXTEND:
            if state not in (RUNNING, OVERDUE) or current.due is None:
                raise Conflict(
                    f"Deadline {self.name} is {state}: only a running or overdue"
                    " deadline can be extended",
                    {"state": state},
                )
            if until is not None:
                if until <= now:
                    raise InvalidRequest("until must be in the future", {"until": "past"})
                due = until.astimezone(UTC)
            elif by is not None:
                due = self.calendar.extend(current.due, by)
            else:
                raise InvalidRequest("extend takes by or until", {"by": "required"})
            # Running stays running (a due already past fires at once); an overdue deadline
            # extended past now runs again.
            running = state == RUNNING or due > now
            return attrs.evolve(current, state=RUNNING if running else OVERDUE, due=due)
        if action == REMOVE:
            if state == REMOVED:
                raise Conflict(f"Deadline {self.name} is removed already", {"state": state})
            return attrs.evolve(current, state=REMOVED, prior=state)
        if action == REINSTATE:
            if state != REMOVED or current.prior is None:
                raise Conflict(f"Deadline {self.name} is {state}, not removed", {"state": state})
            return attrs.evolve(current, state=current.prior, prior=None)
        raise InvalidRequest(f"unknown action {action!r}", {"action": "invalid"})

    # -- timers ----------------------------------------------------------------------------

    def reminder_at(self, due: datetime) -> datetime | None:
        return None if self.remind is None else self.calendar.subtract(due, self.remind)


@attrs.frozen
class Deadlines:
    """The deadlines a flow declares, in declaration order."""

    declared: tuple[Deadline, ...] = ()

    def add(self, deadline: Deadline) -> Deadlines:
        if any(d.name == deadline.name for d in self.declared):
            raise ValueError(f"a deadline named {deadline.name!r} is declared already")
        return Deadlines((*self.declared, deadline))

    def named(self, name: str) -> Deadline | None:
        return next((d for d in self.declared if d.name == name), None)

    def concerning(self, status: str) -> list[Deadline]:
        return [d for d in self.declared if d.concerns(status)]

    def __bool__(self) -> bool:
        return bool(self.declared)


NO_DEADLINES = Deadlines()


def deadline_to_wire(name: str, state: DeadlineState | None) -> dict[str, Any]:
    """``{"name", "state", "due", "startedAt"}`` as answers show it; a paused deadline has no
    due (it is not counting)."""
    if state is None:
        return {"name": name, "state": None, "due": None, "startedAt": None}
    due = None if state.due is None or state.state == PAUSED else timestamp(state.due)
    started = None if state.started_at is None else timestamp(state.started_at)
    return {"name": name, "state": state.state, "due": due, "startedAt": started}
