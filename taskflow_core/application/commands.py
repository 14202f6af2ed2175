"""What a caller asks the service to do (commands), with what context, and what it gets back.

Every mutation is a command run through ``Taskflow.execute``: the one entry point where the
request's context (user, payload, and what comes with it) meets the transaction. A command
holds checked arguments only; running it is one call on the transaction.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

import attrs

from ..domain.calendar import BusinessDays, Span
from ..domain.deadlines import ACTIONS, EXTEND, NAME_RE
from ..domain.json_values import deep_merge, merge_patch
from ..domain.model import IdempotencyRecord
from ..domain.names import STATUS, Event
from ..domain.validation import (
    canonical_id,
    check_assignee,
    check_comment,
    check_data,
    check_status,
)
from ..errors import InvalidRequest, NotFound
from .idempotency import check_idempotency_key
from .pipeline import Pipeline


def _is_version(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_expected_version(_: Any, __: Any, value: object) -> None:
    if value is None or _is_version(value):
        return
    if isinstance(value, frozenset) and all(_is_version(v) for v in value):
        return
    raise InvalidRequest("expected_version must be an integer", {"expected_version": "invalid"})


def _check_idempotency_key(_: Any, __: Any, value: str | None) -> None:
    if value is not None:
        check_idempotency_key(value)


@attrs.frozen
class Context:
    """Who asks, and with what: the same for every command."""

    user: Any = None
    payload: Any = None  # the request body as received (None from Python: the arguments)
    # The version the caller last saw (HTTP's If-Match): one, or any of several. The command
    # is refused with PreconditionFailed unless its case is at it. None: no condition.
    expected_version: int | frozenset[int] | None = attrs.field(
        default=None, validator=_check_expected_version
    )
    # Under this key the answer is stored, and a repeated request answered with it.
    idempotency_key: str | None = attrs.field(default=None, validator=_check_idempotency_key)
    # What identifies the request under its key (``idempotency.fingerprint``); None: the
    # command, its arguments and the payload, which is what a Python call sends.
    fingerprint: str | None = None
    # The bulk action (SPEC §18) this command is one case of: every event it makes carries
    # the batch's id as ``meta.bulk``. None: a request of its own.
    bulk: str | None = None
    # Whether the caller wants the case back. A bulk action answers a status per case, so
    # reading each case and its whole log back after the change would be wasted.
    answered: bool = True


@attrs.frozen
class Outcome:
    """A read's or a mutation's answer: the case as ``GET /{id}`` shows it (decorated), and
    what a transport needs besides."""

    # None for a replay: ``case`` is then decoded from ``body`` when asked for, so that HTTP,
    # which sends the stored bytes as they are, never holds a big answer parsed (issue 34).
    _case: dict[str, Any] | None
    # The case's version as answered, whatever decorators did to ``case`` (HTTP's ETag).
    version: int | None = None
    status: int = 200
    # The answer's body as sent, when it is stored under an idempotency key: a replay sends
    # these bytes again, so a client sees the very same answer.
    body: bytes | None = None
    replayed: bool = False  # answered from an idempotency key: nothing was done this time

    @property
    def case(self) -> dict[str, Any]:
        if self._case is not None:
            return self._case
        if self.body is None:
            raise ValueError("an outcome without a case has a body to decode it from")
        case: dict[str, Any] = json.loads(self.body)["data"]
        return case

    @classmethod
    def replay(cls, stored: IdempotencyRecord) -> Outcome:
        """The answer stored under an idempotency key, as a request made again receives it."""
        if stored.status is None or stored.body is None:
            raise ValueError("a request that has not answered yet has nothing to replay")
        return cls(None, stored.version, stored.status, stored.body, replayed=True)


class Command(Protocol):
    @property
    def case_id(self) -> str | None:
        """The case the command acts on; None for a create."""

    def run(self, tx: Pipeline) -> str:
        """Do it in ``tx``; the id of the case to answer with."""


def writes_once(command: Command) -> tuple[str, ...]:
    """The kinds of event (``status``, ``update``...) of a command that makes one event with
    one write of its case, which may then go without a transaction (pipeline.go_alone):
    its ``WRITES_ONCE``. Empty for every other command."""
    kinds: tuple[str, ...] = getattr(command, "WRITES_ONCE", ())
    return kinds


def _data(value: object) -> dict[str, Any]:
    return dict(check_data(value))


def _data_or_nothing(value: object) -> dict[str, Any]:
    return {} if value is None else dict(check_data(value))


def _patch(value: object) -> dict[str, Any]:
    return dict(check_data(value, "patch"))


def _comment_id(value: object) -> str:
    return canonical_id(value, "Comment")


# Each command checks its own fields when it is built (the converters), under their Python
# names: a Python call and an HTTP request build the same command, and an HTTP field of
# another name (``profileId``) is renamed at the HTTP edge. The case's id comes first, so
# that a request naming no case is a 404 whatever else is wrong with it.


@attrs.frozen
class CreateCase:
    data: dict[str, Any] = attrs.field(converter=_data)
    case_id: None = None

    WRITES_ONCE: ClassVar[tuple[str, ...]] = (Event.CREATE,)

    def run(self, tx: Pipeline) -> str:
        return tx.create(self.data)


@attrs.frozen
class UpdateData:
    """Deep-merge ``data`` into the case's data; ``None`` merges nothing, and the update is
    still an event and in the log (how the original's clients record a note)."""

    case_id: str = attrs.field(converter=canonical_id)
    data: dict[str, Any] = attrs.field(converter=_data_or_nothing)
    preserve_updated_at: bool = False

    WRITES_ONCE: ClassVar[tuple[str, ...]] = (Event.UPDATE,)

    def run(self, tx: Pipeline) -> str:
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

    case_id: str = attrs.field(converter=canonical_id)
    patch: dict[str, Any] = attrs.field(converter=_patch)

    WRITES_ONCE: ClassVar[tuple[str, ...]] = (Event.UPDATE,)

    def run(self, tx: Pipeline) -> str:
        patch = self.patch
        tx.change_data(self.case_id, lambda old: merge_patch(old, patch))
        return self.case_id


@attrs.frozen
class SetStatus:
    case_id: str = attrs.field(converter=canonical_id)
    status: str = attrs.field(converter=check_status)

    WRITES_ONCE: ClassVar[tuple[str, ...]] = (STATUS,)

    def run(self, tx: Pipeline) -> str:
        tx.set_status(self.case_id, self.status)
        return self.case_id


@attrs.frozen
class Assign:
    case_id: str = attrs.field(converter=canonical_id)
    assigned_to: str | None = attrs.field(converter=check_assignee)

    WRITES_ONCE: ClassVar[tuple[str, ...]] = (Event.ASSIGN,)

    def run(self, tx: Pipeline) -> str:
        tx.assign(self.case_id, self.assigned_to, unless_current=True)
        return self.case_id


@attrs.frozen
class LogAssign:
    """``PUT /{id}/assign`` with no ``profileId``: the assignee stays, and an ``assign`` event
    without ``assignedTo`` is logged, as the original did (SPEC §3)."""

    case_id: str = attrs.field(converter=canonical_id)

    def run(self, tx: Pipeline) -> str:
        tx.log_assign(self.case_id)
        return self.case_id


@attrs.frozen
class AddComment:
    case_id: str = attrs.field(converter=canonical_id)
    comment: str = attrs.field(converter=check_comment)

    WRITES_ONCE: ClassVar[tuple[str, ...]] = (Event.COMMENT,)

    def run(self, tx: Pipeline) -> str:
        tx.comment(self.case_id, self.comment)
        return self.case_id


@attrs.frozen
class EditComment:
    case_id: str = attrs.field(converter=canonical_id)
    comment_id: str = attrs.field(converter=_comment_id)
    comment: str = attrs.field(converter=check_comment)

    def run(self, tx: Pipeline) -> str:
        tx.update_comment(self.case_id, self.comment_id, self.comment)
        return self.case_id


@attrs.frozen
class DeleteComment:
    case_id: str = attrs.field(converter=canonical_id)
    comment_id: str = attrs.field(converter=_comment_id)

    def run(self, tx: Pipeline) -> str:
        tx.delete_comment(self.case_id, self.comment_id)
        return self.case_id


def _deadline_name(value: object) -> str:
    # A name no deadline can have is as unknown as one not declared: 404 either way.
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        raise NotFound("No deadline of that name")
    return value


def _action(value: object) -> str:
    if value not in ACTIONS:
        raise InvalidRequest(
            f"action is one of {', '.join(ACTIONS)}", {"action": "invalid" if value else "required"}
        )
    return str(value)


def _reason(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("reason is required, a non-empty string", {"reason": "required"})
    return value


def _by(value: object) -> Span | None:
    if value is None:
        return None
    if isinstance(value, BusinessDays):
        return value
    if isinstance(value, timedelta) and value > timedelta(0):
        return value
    raise InvalidRequest("by is a positive timedelta or BusinessDays", {"by": "invalid"})


def _until(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidRequest("until is a timezone-aware datetime", {"until": "invalid"})
    return value


@attrs.frozen
class DeadlineAction:
    """Extend, remove or reinstate a case's deadline (SPEC §14), with the reason why: the
    event ``deadline:<name>:<action>``. Extending takes exactly one of ``by`` and ``until``;
    the other actions neither."""

    case_id: str = attrs.field(converter=canonical_id)
    name: str = attrs.field(converter=_deadline_name)
    action: str = attrs.field(converter=_action)
    reason: str = attrs.field(converter=_reason)
    by: Span | None = attrs.field(default=None, converter=_by)
    until: datetime | None = attrs.field(default=None, converter=_until)

    def __attrs_post_init__(self) -> None:
        given = (self.by is not None) + (self.until is not None)
        if self.action == EXTEND and given != 1:
            raise InvalidRequest(
                "extend takes exactly one of by and until", {"by": "exactly one of by, until"}
            )
        if self.action != EXTEND and given:
            raise InvalidRequest(f"{self.action} takes neither by nor until", {"by": "not allowed"})

    def run(self, tx: Pipeline) -> str:
        tx.deadline_action(
            self.case_id, self.name, self.action, self.reason, by=self.by, until=self.until
        )
        return self.case_id


def _span_from_json(value: object) -> Span | None:
    """``{"businessDays": n}`` or ``{"days": n}``, as a request body writes ``by``."""
    if value is None:
        return None
    if isinstance(value, dict) and len(value) == 1:
        ((unit, amount),) = value.items()
        number = isinstance(amount, int | float) and not isinstance(amount, bool)
        if unit == "businessDays" and number and amount == int(amount) and amount > 0:
            return BusinessDays(int(amount))
        if unit == "days" and number and 0 < amount <= MAX_EXTENSION_DAYS:
            return timedelta(days=amount)
    raise InvalidRequest('by is {"businessDays": n} or {"days": n}, n positive', {"by": "invalid"})


def _moment_from_json(value: object) -> datetime | None:
    """An ISO 8601 timestamp with an offset, as a request body writes ``until``."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidRequest(
            "until is an ISO 8601 timestamp with a UTC offset", {"until": "invalid"}
        )
    return moment


# A bound that keeps a timedelta (and the due it makes) far inside what datetimes hold.
MAX_EXTENSION_DAYS = 36_500


def deadline_action_from_json(case_id: str, name: str, body: dict[str, Any]) -> DeadlineAction:
    """The command a JSON body asks for: ``{"action", "reason", "by"?, "until"?}``."""
    canonical_id(case_id)  # a request naming no case is a 404 whatever its body
    _deadline_name(name)
    return DeadlineAction(
        case_id,
        name,
        body.get("action"),
        body.get("reason"),
        _span_from_json(body.get("by")),
        _moment_from_json(body.get("until")),
    )
