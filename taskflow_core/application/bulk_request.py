"""What a bulk action (SPEC §18) asks for, checked before anything is done: the action
(exactly one verb), the cases (``ids``, or a listing ``query``) and whether for real."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from ..domain.validation import canonical_id, check_assignee, check_comment, check_status
from ..errors import InvalidRequest, NotFound
from .commands import AddComment, Assign, Command, SetStatus

MAX_CASES = 1000
Verb = Literal["status", "assign", "comment"]
VERBS: tuple[Verb, ...] = ("status", "assign", "comment")
# The body's keys (POST /_bulk); a key not among them is refused rather than ignored: a
# misspelt ``dry_run`` ignored would act for real.
BODY_KEYS = ("ids", "query", "action", "dryRun")
# Listing parameters a selection may not carry: a batch acts on every case its filters
# match (at most MAX_CASES), never on a page of them.
PAGING_KEYS = ("limit", "offset")


@attrs.frozen
class BulkAction:
    """One verb and its value, checked: ``{"status": s}``, ``{"assign": id | None}`` or
    ``{"comment": text}``."""

    verb: Verb
    value: str | None

    def command(self, case_id: str) -> Command:
        if self.verb == "status":
            return SetStatus(case_id, self.value)
        if self.verb == "assign":
            return Assign(case_id, self.value)
        return AddComment(case_id, self.value)

    @property
    def payload(self) -> dict[str, Any]:
        """The body the single-case route takes for the same change: each case's event
        logs this (with ``meta.bulk``), not the whole batch's body."""
        name = "profileId" if self.verb == "assign" else self.verb
        return {name: self.value}


def parse_action(action: object) -> BulkAction:
    """The action a mapping asks for: exactly one verb. InvalidRequest otherwise."""
    if not isinstance(action, Mapping):
        raise InvalidRequest(
            "action must be an object with one of: status, assign, comment",
            {"action": "required" if action is None else "invalid"},
        )
    verbs = [key for key in action if key in VERBS]
    unknown = sorted(str(key) for key in action if key not in VERBS)
    if unknown or len(verbs) != 1:
        raise InvalidRequest(
            "action must have exactly one of: status, assign, comment",
            {"action": "exactly one of status, assign, comment"},
        )
    verb = verbs[0]
    value = action[verb]
    field = f"action.{verb}"
    if verb == "status":
        return BulkAction(verb, check_status(value, field))
    if verb == "assign":
        return BulkAction(verb, check_assignee(value, field))
    return BulkAction(verb, check_comment(value, field))


def _ids(ids: object) -> tuple[str, ...]:
    """The distinct ids, in the order first given (a duplicate is acted on once).

    A malformed id fails the whole request (400), where a single-case route answers 404:
    an id that can never exist in a batch is a client's bug, and acting on the rest would
    hide it."""
    if isinstance(ids, str) or not isinstance(ids, list | tuple):
        raise InvalidRequest("ids must be a list of case ids", {"ids": "invalid"})
    found: dict[str, None] = {}
    for index, value in enumerate(ids):
        try:
            found[canonical_id(value)] = None
        except NotFound:
            raise InvalidRequest(
                f"ids[{index}] is not a case id", {f"ids[{index}]": "invalid"}
            ) from None
    if len(found) > MAX_CASES:
        raise InvalidRequest(
            f"A bulk action takes at most {MAX_CASES} cases, not {len(found)}",
            {"ids": "too many"},
        )
    return tuple(found)


def _query(query: object) -> dict[str, Any]:
    if not isinstance(query, Mapping):
        raise InvalidRequest("query must be an object of listing parameters", {"query": "invalid"})
    paging = [key for key in PAGING_KEYS if key in query]
    if paging:
        raise InvalidRequest(
            f"query may not have {paging[0]}: a bulk action acts on every case it matches",
            {f"query.{paging[0]}": "not allowed"},
        )
    return dict(query)


@attrs.frozen
class BulkRequest:
    """What a batch acts on (``ids``, or a listing ``query``), how, and whether for real."""

    action: BulkAction
    ids: tuple[str, ...] | None
    query: dict[str, Any] | None
    dry_run: bool

    @classmethod
    def of(
        cls, action: object, ids: object = None, query: object = None, dry_run: object = False
    ) -> BulkRequest:
        """The checked request; InvalidRequest for anything it cannot take."""
        if (ids is None) == (query is None):
            raise InvalidRequest(
                "A bulk action takes either ids or query", {"ids": "exactly one of ids, query"}
            )
        if not isinstance(dry_run, bool):
            raise InvalidRequest("dryRun must be true or false", {"dryRun": "invalid"})
        checked = parse_action(action)
        if ids is not None:
            return cls(checked, _ids(ids), None, dry_run)
        return cls(checked, None, _query(query), dry_run)

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> BulkRequest:
        """The request a ``POST /_bulk`` body asks for."""
        unknown = sorted(key for key in body if key not in BODY_KEYS)
        if unknown:
            raise InvalidRequest(
                f"{unknown[0]} is not a field of a bulk action; use: {', '.join(BODY_KEYS)}",
                {unknown[0]: "unknown"},
            )
        dry_run = body.get("dryRun", False)
        return cls.of(body.get("action"), body.get("ids"), body.get("query"), dry_run)

    def as_json(self) -> dict[str, Any]:
        """What identifies the request under an idempotency key, from Python."""
        action = {self.action.verb: self.action.value}
        ids = None if self.ids is None else list(self.ids)
        return {"action": action, "ids": ids, "query": self.query, "dryRun": self.dry_run}
