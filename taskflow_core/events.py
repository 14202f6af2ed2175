"""The event a hook receives: the case as it stands, the event's meta, and what a hook may do."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import HookUsageError
from .model import Case, canonical_id, check_assignee, check_data, check_status
from .wire import fold_comments

if TYPE_CHECKING:
    from .transaction import Transaction

logger = logging.getLogger(__name__)

# The original's refusals: mutations that make no sense before the change happens.
_REFUSED_BEFORE = {
    "pre-create": frozenset({"set_status", "update", "patch", "assign"}),
    "pre-status": frozenset({"set_status"}),
    "pre-update": frozenset({"update", "patch"}),
}


class CaseHandle:
    """Another case, found from inside a hook; its changes run their own events and hooks."""

    def __init__(self, transaction: Transaction, case_id: str) -> None:
        self._tx = transaction
        self.id = case_id
        # A private copy of the data, remade whenever the case changes, so a hook that edits
        # the dict in place cannot change the case behind the transaction's back.
        self._seen: Case | None = None
        self._data: dict[str, Any] | None = None

    @property
    def status(self) -> str | None:
        case = self._tx.current(self.id)
        return case.status if case else None

    @property
    def data(self) -> dict[str, Any] | None:
        case = self._tx.current(self.id)
        if case is None:
            return None
        if case is not self._seen:
            self._seen, self._data = case, copy.deepcopy(case.data)
        return self._data

    @property
    def assigned_to(self) -> str | None:
        case = self._tx.current(self.id)
        return case.assigned_to if case else None

    def set_status(self, status: str) -> None:
        self._tx.set_status(self.id, check_status(status))

    def update(self, data: Mapping[str, Any]) -> None:
        replacement = dict(check_data(data))
        self._tx.change_data(self.id, lambda _old: replacement)

    def patch(self, data: Mapping[str, Any]) -> None:
        changes = dict(check_data(data))
        self._tx.change_data(self.id, lambda old: {**old, **changes})

    def assign(self, assigned_to: str | None) -> None:
        self._tx.assign(self.id, check_assignee(assigned_to))


class HookEvent(CaseHandle):
    """What a hook is called with (SPEC §2, "The event object a hook receives").

    ``status``, ``data``, ``assigned_to`` and ``activity_log`` are read from the transaction
    when first used after each hook starts, so a hook sees what earlier hooks changed and
    a hook that never looks costs no query.
    """

    def __init__(
        self,
        transaction: Transaction,
        case_id: str,
        event: str,
        meta: dict[str, Any],
        proposed: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(transaction, case_id)
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
            self._log = fold_comments(self._tx.activity_of(self.id)) if exists else []
        return self._log

    def _allowed(self, action: str) -> bool:
        kind = self.event.split(":", 1)[0]
        if action in _REFUSED_BEFORE.get(kind, frozenset()):
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

    def find(self, case_id: str) -> CaseHandle:
        return self._tx.find(case_id)

    def redirect(self, target: str | Mapping[str, Any]) -> None:
        if self.event != "pre-create":
            raise HookUsageError(f"redirect() is only possible in pre-create, not {self.event}")
        raw = target.get("id") if isinstance(target, Mapping) else target
        self._tx.redirect(canonical_id(raw))

    def on_settled(self, fn: Callable[[], Any]) -> None:
        self._tx.on_settled(fn)


def log_activity(event: HookEvent) -> None:
    """The built-in logger: the first post-event hook of every logged event."""
    event._tx.write_activity(event)


LOGGED_EVENTS = (
    "create",
    "update",
    "assign",
    "status:*:*",
    "comment",
    "update-comment",
    "delete-comment",
)
