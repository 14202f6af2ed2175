"""What a caller asks the service to do (commands), with what context, and what it gets back.

Every mutation is a command run through ``Taskflow.execute``: the one entry point where the
request's context (user, payload, and what comes with it) meets the transaction. A command
holds checked arguments only; running it is one call on the transaction.
"""

from __future__ import annotations

from typing import Any, Protocol

import attrs

from .merge import deep_merge, merge_patch
from .transaction import Transaction


@attrs.frozen
class Context:
    """Who asks, and with what: the same for every command."""

    user: Any = None
    payload: Any = None  # the request body as received (None from Python: the arguments)


@attrs.frozen
class Outcome:
    """A mutation's answer: the case as ``GET /{id}`` shows it (decorated)."""

    case: dict[str, Any]


class Command(Protocol):
    @property
    def case_id(self) -> str | None:
        """The case the command acts on; None for a create."""

    def run(self, tx: Transaction) -> str:
        """Do it in ``tx``; the id of the case to answer with."""


@attrs.frozen
class CreateCase:
    data: dict[str, Any]
    case_id: None = None

    def run(self, tx: Transaction) -> str:
        return tx.create(self.data)


@attrs.frozen
class UpdateData:
    """Deep-merge ``data`` into the case's data."""

    case_id: str
    data: dict[str, Any]
    preserve_updated_at: bool = False

    def run(self, tx: Transaction) -> str:
        changes = self.data
        tx.change_data(
            self.case_id,
            lambda old: deep_merge(old, changes),
            preserve_updated_at=self.preserve_updated_at,
        )
        return self.case_id


@attrs.frozen
class MergePatch:
    """Apply a JSON Merge Patch (RFC 7396) to the case's data: ``null`` deletes a key, arrays
    replace; the same ``update`` event as a deep merge."""

    case_id: str
    patch: dict[str, Any]

    def run(self, tx: Transaction) -> str:
        patch = self.patch
        tx.change_data(self.case_id, lambda old: merge_patch(old, patch))
        return self.case_id


@attrs.frozen
class SetStatus:
    case_id: str
    status: str

    def run(self, tx: Transaction) -> str:
        tx.set_status(self.case_id, self.status)
        return self.case_id


@attrs.frozen
class Assign:
    case_id: str
    assigned_to: str | None

    def run(self, tx: Transaction) -> str:
        tx.assign(self.case_id, self.assigned_to, unless_current=True)
        return self.case_id


@attrs.frozen
class AddComment:
    case_id: str
    comment: str

    def run(self, tx: Transaction) -> str:
        tx.comment(self.case_id, self.comment)
        return self.case_id


@attrs.frozen
class EditComment:
    case_id: str
    comment_id: str
    comment: str

    def run(self, tx: Transaction) -> str:
        tx.update_comment(self.case_id, self.comment_id, self.comment)
        return self.case_id


@attrs.frozen
class DeleteComment:
    case_id: str
    comment_id: str

    def run(self, tx: Transaction) -> str:
        tx.delete_comment(self.case_id, self.comment_id)
        return self.case_id
