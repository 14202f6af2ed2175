"""The event a hook receives: the case as it stands, the event's meta, and what a hook may do.

What a handle needs from the running transaction is the ``CaseAccess`` protocol below, so
this module does not know the transaction (nor the transaction this module's internals).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..errors import HookUsageError
from .model import ActivityEntry, Case
from .names import STATUS, Event, kind, pre
from .validation import (
    canonical_id,
    check_assignee,
    check_data,
    check_status,
    check_timer_name,
    check_when,
)
from .wire import fold_comments

logger = logging.getLogger(__name__)

DataChange = Callable[[dict[str, Any]], dict[str, Any]]

# The original's refusals: mutations that make no sense before the change happens.
_REFUSED_BEFORE = {
    pre(Event.CREATE): frozenset(
        {"set_status", "update", "patch", "assign", "set_timer", "cancel_timer"}
    ),
    pre(STATUS): frozenset({"set_status"}),
    pre(Event.UPDATE): frozenset({"update", "patch"}),
}


class CaseAccess(Protocol):
    """What hooks may read and do through the transaction they run in."""

    def current(self, case_id: str) -> Case | None: ...

    def activity_of(self, case_id: str) -> list[ActivityEntry]: ...

    def set_status(self, case_id: str, status: str) -> None: ...

    def change_data(self, case_id: str, new_data: DataChange) -> None: ...

    def assign(self, case_id: str, assigned_to: str | None) -> None: ...

    def find(self, case_id: str) -> CaseHandle: ...

    def set_timer(self, case_id: str, name: str, at: datetime | timedelta) -> None: ...

    def cancel_timer(self, case_id: str, name: str) -> None: ...

    def redirect(self, case_id: str) -> None: ...

    def on_settled(self, fn: Callable[[], Any]) -> None: ...


class CaseHandle:
    """Another case, found from inside a hook; its changes run their own events and hooks."""

    def __init__(self, access: CaseAccess, case_id: str) -> None:
        self._access = access
        self.id = case_id
        # A private copy of the data, remade whenever the case changes, so a hook that edits
        # the dict in place cannot change the case behind the transaction's back.
        self._seen: Case | None = None
        self._data: dict[str, Any] | None = None

    @property
    def status(self) -> str | None:
        case = self._access.current(self.id)
        return case.status if case else None

    @property
    def data(self) -> dict[str, Any] | None:
        case = self._access.current(self.id)
        if case is None:
            return None
        if case is not self._seen:
            self._seen, self._data = case, copy.deepcopy(case.data)
        return self._data

    @property
    def assigned_to(self) -> str | None:
        case = self._access.current(self.id)
        return case.assigned_to if case else None

    def set_status(self, status: str) -> None:
        self._access.set_status(self.id, check_status(status))

    def update(self, data: Mapping[str, Any]) -> None:
        replacement = dict(check_data(data))
        self._access.change_data(self.id, lambda _old: replacement)

    def patch(self, data: Mapping[str, Any]) -> None:
        changes = dict(check_data(data))
        self._access.change_data(self.id, lambda old: {**old, **changes})

    def assign(self, assigned_to: str | None) -> None:
        self._access.assign(self.id, check_assignee(assigned_to))

    def set_timer(self, name: str, at: datetime | timedelta) -> None:
        """Fire ``timer:<name>`` on this case at ``at`` (an aware datetime, or a timedelta
        from now); setting a timer of the same name again moves it. Undone with a rollback."""
        self._access.set_timer(self.id, check_timer_name(name), check_when(at))

    def cancel_timer(self, name: str) -> None:
        """Forget the case's timer ``name``; nothing happens when there is none."""
        self._access.cancel_timer(self.id, check_timer_name(name))


class HookEvent(CaseHandle):
    """What a hook is called with: the event's name and meta, and the case as it stands.

    ``status``, ``data``, ``assigned_to`` and ``activity_log`` are read from the transaction
    when first used after each hook starts, so a hook sees what earlier hooks changed and
    a hook that never looks costs no query.
    """

    def __init__(
        self,
        access: CaseAccess,
        case_id: str,
        event: str,
        meta: dict[str, Any],
        proposed: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(access, case_id)
        self.event = event
        self.meta = meta
        # In pre-create there is no case yet; the proposed data stands in for it.
        self._proposed = proposed
        self._log: list[dict[str, Any]] | None = None

    def refresh(self) -> None:
        """Forget what was read, so the next hook sees the transaction's latest state."""
        self._log = None
        self._seen = None

    @property
    def data(self) -> dict[str, Any] | None:
        if self._proposed is not None:
            return self._proposed
        return super().data

    @property
    def activity_log(self) -> list[dict[str, Any]]:
        if self._log is None:
            exists = self._proposed is None
            self._log = fold_comments(self._access.activity_of(self.id)) if exists else []
        return self._log

    def _allowed(self, action: str) -> bool:
        if action in _REFUSED_BEFORE.get(kind(self.event), frozenset()):
            logger.warning(
                "%s() is ignored in a %s hook: the change has not happened yet", action, self.event
            )
            return False
        return True

    def set_status(self, status: str) -> None:
        if self._allowed("set_status"):
            super().set_status(status)

    def update(self, data: Mapping[str, Any]) -> None:
        if self._allowed("update"):
            super().update(data)

    def patch(self, data: Mapping[str, Any]) -> None:
        if self._allowed("patch"):
            super().patch(data)

    def assign(self, assigned_to: str | None) -> None:
        if self._allowed("assign"):
            super().assign(assigned_to)

    def set_timer(self, name: str, at: datetime | timedelta) -> None:
        if self._allowed("set_timer"):
            super().set_timer(name, at)

    def cancel_timer(self, name: str) -> None:
        if self._allowed("cancel_timer"):
            super().cancel_timer(name)

    def find(self, case_id: str) -> CaseHandle:
        return self._access.find(case_id)

    def redirect(self, target: str | Mapping[str, Any]) -> None:
        if self.event != pre(Event.CREATE):
            raise HookUsageError(f"redirect() is only possible in pre-create, not {self.event}")
        raw = target.get("id") if isinstance(target, Mapping) else target
        self._access.redirect(canonical_id(raw))

    def on_settled(self, fn: Callable[[], Any]) -> None:
        self._access.on_settled(fn)


Hook = Callable[[HookEvent], Any]


class HookHandlers(Protocol):
    """The hooks one request runs with: those matching an event name, in order."""

    def matching(self, event_name: str) -> tuple[Hook, ...]: ...

    def patterns(self, event_name: str) -> tuple[str, ...]:
        """The patterns ``matching``'s hooks were registered for, in its order."""

    def any_of_kinds(self, kinds: tuple[str, ...]) -> bool:
        """Whether any hook is registered for an event of these kinds (first parts)."""
