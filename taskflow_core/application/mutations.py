"""Every mutation of a case as the ``Taskflow`` face offers it: each builds one command
(which checks its own arguments, commands.py) and runs it through ``execute``.

A mixin of the face (service.py), so that the face's module holds configuration and reads
and this one the mutations' signatures and documentation.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..domain.calendar import Span
from ..domain.deadlines import EXTEND, REINSTATE, REMOVE
from .commands import (
    AddComment,
    Assign,
    Command,
    Context,
    CreateCase,
    DeadlineAction,
    DeleteComment,
    EditComment,
    MergePatch,
    Outcome,
    SetStatus,
    UpdateData,
)


class Mutations:
    """Each method takes ``user`` (who acts: the activity entry's ``changedBy`` and what hooks
    and guards see), ``payload`` (the request as received, logged in the entry's meta) and
    ``idempotency_key`` (the answer is stored under it; the same call made again with it
    returns that answer and does nothing); each but ``create`` takes ``expected_version``
    (``PreconditionFailed`` unless the case is at that version). Each returns the case as
    ``get`` does; raises ``NotFound`` for a case that does not exist, ``InvalidRequest`` for an
    argument it cannot take, and what the event's checks and hooks raise (``Conflict`` and
    ``Forbidden`` from a declared workflow); nothing is changed when it raises."""

    def execute(self, command: Command, context: Context) -> Outcome:
        raise NotImplementedError  # the face's (service.py)

    def create(
        self,
        data: Mapping[str, Any],
        *,
        user: Any = None,
        payload: Any = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Create a case whose data is ``data`` (status ``new``); its payload defaults to the
        data."""
        command = CreateCase(data)
        payload = command.data if payload is None else payload
        return self.execute(command, Context(user, payload, None, idempotency_key)).case

    def update(
        self,
        case_id: str,
        data: Mapping[str, Any] | None,
        *,
        user: Any = None,
        payload: Any = None,
        preserve_updated_at: bool = False,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Deep-merge ``data`` as lodash's merge does; ``None`` merges nothing, and the update
        is still an event and in the log (how the original's clients record a note)."""
        command = UpdateData(case_id, data, preserve_updated_at)
        return self.execute(command, Context(user, payload, expected_version, idempotency_key)).case

    def merge_patch(
        self,
        case_id: str,
        patch: Mapping[str, Any],
        *,
        user: Any = None,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Apply a JSON Merge Patch (RFC 7396) to the data: ``null`` deletes, arrays replace."""
        command = MergePatch(case_id, patch)
        return self.execute(command, Context(user, payload, expected_version, idempotency_key)).case

    def set_status(
        self,
        case_id: str,
        status: str,
        *,
        user: Any = None,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Move the case to ``status`` (the event ``status:<old>:<new>``), as the declared
        workflow allows when one is."""
        command = SetStatus(case_id, status)
        return self.execute(command, Context(user, payload, expected_version, idempotency_key)).case

    def assign(
        self,
        case_id: str,
        assigned_to: str | None,
        *,
        user: Any = None,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Assign the case to ``assigned_to`` (None unassigns); nothing is logged when it is
        already so."""
        command = Assign(case_id, assigned_to)
        return self.execute(command, Context(user, payload, expected_version, idempotency_key)).case

    def comment(
        self,
        case_id: str,
        comment: str,
        *,
        user: Any = None,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Add a comment by ``user`` to the case's activity log."""
        command = AddComment(case_id, comment)
        return self.execute(command, Context(user, payload, expected_version, idempotency_key)).case

    def update_comment(
        self,
        case_id: str,
        comment_id: str,
        comment: str,
        *,
        user: Any = None,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Replace a comment's text; its author only (Forbidden for anyone else)."""
        command = EditComment(case_id, comment_id, comment)
        return self.execute(command, Context(user, payload, expected_version, idempotency_key)).case

    def delete_comment(
        self,
        case_id: str,
        comment_id: str,
        *,
        user: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Delete a comment; its author only (Forbidden for anyone else)."""
        command = DeleteComment(case_id, comment_id)
        return self.execute(command, Context(user, None, expected_version, idempotency_key)).case

    def extend_deadline(
        self,
        case_id: str,
        name: str,
        *,
        by: Span | None = None,
        until: datetime | None = None,
        reason: str,
        user: Any = None,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Move the deadline's due on ``by`` (a timedelta or ``BusinessDays``) or to
        ``until`` (an aware datetime in the future): exactly one of them. An overdue
        deadline extended past now runs again. ``Conflict`` unless it is running or overdue;
        ``NotFound`` for a name not declared."""
        command = DeadlineAction(case_id, name, EXTEND, reason, by, until)
        return self.execute(command, Context(user, payload, expected_version, idempotency_key)).case

    def remove_deadline(
        self,
        case_id: str,
        name: str,
        *,
        reason: str,
        user: Any = None,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Take the deadline off the case (state ``removed``): no longer counted or fired.
        ``Conflict`` when it never started or is removed already."""
        command = DeadlineAction(case_id, name, REMOVE, reason)
        return self.execute(command, Context(user, payload, expected_version, idempotency_key)).case

    def reinstate_deadline(
        self,
        case_id: str,
        name: str,
        *,
        reason: str,
        user: Any = None,
        payload: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Put a removed deadline back, in the state and with the due it had (a running one
        whose due has passed meanwhile fires at once). ``Conflict`` unless it is removed."""
        command = DeadlineAction(case_id, name, REINSTATE, reason)
        return self.execute(command, Context(user, payload, expected_version, idempotency_key)).case
