"""Bulk actions (SPEC §18): one action on up to 1,000 cases, each case in a transaction of
its own, through the whole write path (transitions, guards, hooks, versions, the feed).

A batch is many transactions, so it is never all-or-nothing: a case that fails (not found,
refused by a guard, a hook that raised) rolls back alone, and its row of the answer says
why, with the HTTP status the same failure gets on its own route. Every event of the batch
carries the batch's id as ``meta.bulk``.

With an idempotency key, each case's transaction is keyed in turn (a key made of the
batch's key and the case's id), so a batch sent again after it was cut short does again
only what had not committed; the whole answer is stored under the batch's key once every
case has run, and a batch sent again after that replays it, doing nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from ..domain.clock import Timeline, utc
from ..domain.model import IdempotencyRecord
from ..domain.validation import canonical_id, check_assignee, check_comment, check_status
from ..domain.wire import encode_json
from ..domain.workflow import Workflow
from ..errors import (
    INTERNAL_ERROR_MESSAGE,
    UNAVAILABLE_MESSAGE,
    InvalidRequest,
    NotFound,
    StoreUnavailable,
    TaskflowError,
    status_for,
)
from ..ports import Store
from . import idempotency
from .commands import AddComment, Assign, Command, Context, Outcome, SetStatus
from .query import ListQuery

logger = logging.getLogger(__name__)

MAX_CASES = 1000
Verb = Literal["status", "assign", "comment"]
VERBS: tuple[Verb, ...] = ("status", "assign", "comment")
# The body's keys (POST /_bulk); a key not among them is refused rather than ignored: a
# misspelt ``dry_run`` ignored would act for real.
BODY_KEYS = ("ids", "query", "action", "dryRun")
# Listing parameters a selection may not carry: a batch acts on every case its filters
# match (at most MAX_CASES), never on a page of them.
PAGING_KEYS = ("limit", "offset")
# Data read while selecting by query: only the ids are wanted, so the store defers the
# data of every case past the first.
_SELECT_BUDGET = 1
_BULK_NAMESPACE = uuid.UUID("6f1b3c1e-0b8e-4d5e-9c57-3f1f0c2b7a10")


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


@attrs.frozen
class BulkOutcome:
    """A batch's answer: ``{"data": [{"id", "status", "message"?}], "meta": {"bulk",
    "count", "succeeded", "failed"}}``; with an idempotency key, the bytes it is stored (and
    replayed) as."""

    answer: dict[str, Any]
    body: bytes | None = None
    replayed: bool = False


def _row(case_id: str, status: int, message: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"id": case_id, "status": status}
    if message is not None:
        row["message"] = message
    return row


def failure_row(case_id: str, error: Exception) -> dict[str, Any]:
    """A case's row when acting on it failed: the status its own route would answer."""
    if isinstance(error, TaskflowError):
        return _row(case_id, status_for(error), error.message)
    if isinstance(error, StoreUnavailable):
        logger.warning("a bulk action's case %s failed: the store is unavailable", case_id)
        return _row(case_id, 503, UNAVAILABLE_MESSAGE)
    logger.error("a bulk action's case %s failed", case_id, exc_info=error)
    return _row(case_id, 500, INTERNAL_ERROR_MESSAGE)


def answer(bulk_id: str, rows: list[dict[str, Any]], dry_run: bool) -> dict[str, Any]:
    succeeded = sum(1 for row in rows if row["status"] < 300)
    meta: dict[str, Any] = {
        "bulk": bulk_id,
        "count": len(rows),
        "succeeded": succeeded,
        "failed": len(rows) - succeeded,
    }
    if dry_run:
        meta["dryRun"] = True
    return {"data": rows, "meta": meta}


def _case_key(key: str, case_id: str) -> str:
    """The idempotency key of one case of a keyed batch (printable, within the length)."""
    digest = hashlib.sha256(f"{key}\n{case_id}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"bulk:{digest}"


@attrs.frozen
class Bulk:
    """Runs batches on a store, through the flow's own entry points: ``execute`` for each
    case's change, ``read`` for a dry run's look at each case (both with the flow's rules
    of the moment, access included), and ``workflow`` for what a dry run predicts."""

    store: Store
    clock: Timeline
    actor: Callable[[Any], str | None]
    execute: Callable[[Command, Context], Outcome]
    read: Callable[[str, Any], dict[str, Any]]
    workflow: Callable[[], Workflow]

    def run(
        self,
        request: BulkRequest,
        selection: ListQuery | None,
        *,
        user: Any,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
    ) -> BulkOutcome:
        """Run ``request``; ``selection`` is its query resolved for ``user`` (views, and
        what the user may see), None when it names ids."""
        if idempotency_key is None:
            ids = self._select(request, selection)
            bulk_id = str(uuid.uuid4())
            return BulkOutcome(
                answer(bulk_id, self._rows(request, ids, user, bulk_id, None), request.dry_run)
            )
        idempotency.check_caller(user, self.actor(user))
        scope = idempotency.scope_of(self.actor(user))
        request_print = fingerprint or idempotency.fingerprint({"bulk": request.as_json()})
        claim = idempotency.pending(scope, idempotency_key, request_print, utc(self.clock.clock()))
        stored = self._stored(claim)
        if stored is not None:
            return stored
        ids = self._select(request, selection)
        # The same batch sent again has the same id, so that a batch cut short and sent
        # again is one batch in the log.
        bulk_id = str(uuid.uuid5(_BULK_NAMESPACE, f"{scope}\n{idempotency_key}\n{request_print}"))
        keyed = (idempotency_key, request_print)
        body = encode_json(
            answer(bulk_id, self._rows(request, ids, user, bulk_id, keyed), request.dry_run)
        ).encode()
        with self.store.unit_of_work() as uow:
            # A twin of this batch that finished first stored its answer: that is the one.
            twin = idempotency.claim(uow, claim)
            if twin is not None:
                return _replayed(twin)
            uow.idempotency.complete(attrs.evolve(claim, status=200, body=body))
            uow.commit()
        return BulkOutcome(_loads(body), body)

    def _stored(self, claim: IdempotencyRecord) -> BulkOutcome | None:
        """The answer stored under the batch's key, if it has one (422 for the key used
        with another request). Only a look: the claim is rolled back, not held while the
        batch runs, since each case's transaction needs the store (SQLite has one writer)."""
        with self.store.unit_of_work() as uow:
            stored = idempotency.claim(uow, claim)
        return None if stored is None else _replayed(stored)

    def _select(self, request: BulkRequest, selection: ListQuery | None) -> tuple[str, ...]:
        if request.ids is not None:
            return request.ids
        assert selection is not None  # a request names ids or has a query
        # One more than allowed: finding it says the query matches too many.
        page = attrs.evolve(selection, limit=MAX_CASES + 1, offset=0, counted=False)
        with self.store.unit_of_work(read_only=True) as uow:
            found = uow.cases.list(page, budget=_SELECT_BUDGET)
        ids = tuple([c.id for c in found.cases] + [d.id for d in found.deferred])
        if len(ids) > MAX_CASES:
            raise InvalidRequest(
                f"The query matches more than {MAX_CASES} cases; a bulk action takes at most "
                f"{MAX_CASES}: narrow it",
                {"query": "too many"},
            )
        return ids

    def _rows(
        self,
        request: BulkRequest,
        ids: tuple[str, ...],
        user: Any,
        bulk_id: str,
        keyed: tuple[str, str] | None,
    ) -> list[dict[str, Any]]:
        if request.dry_run:
            workflow = self.workflow()
            return [self._predict(request.action, case_id, user, workflow) for case_id in ids]
        return [self._act(request.action, case_id, user, bulk_id, keyed) for case_id in ids]

    def _act(
        self,
        action: BulkAction,
        case_id: str,
        user: Any,
        bulk_id: str,
        keyed: tuple[str, str] | None,
    ) -> dict[str, Any]:
        key = print_ = None
        if keyed is not None:
            key = _case_key(keyed[0], case_id)
            print_ = idempotency.fingerprint({"bulk": keyed[1], "case": case_id})
        context = Context(user, action.payload, None, key, print_, bulk=bulk_id, answered=False)
        try:
            outcome = self.execute(action.command(case_id), context)
        except Exception as error:  # each case fails alone; its row says how
            return failure_row(case_id, error)
        return _row(case_id, outcome.status)

    def _predict(
        self, action: BulkAction, case_id: str, user: Any, workflow: Workflow
    ) -> dict[str, Any]:
        """What acting on the case would answer, as far as can be known without acting:
        whether the user may see it, and for a status, whether the declared workflow (its
        guards included) allows the change. Hooks do not run: they might refuse too."""
        try:
            case = self.read(case_id, user)
            if action.verb == "status" and action.value is not None:
                workflow.check(case["status"], action.value, user, lambda: case)
        except Exception as error:
            return failure_row(case_id, error)
        return _row(case_id, 200)


def _loads(body: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def _replayed(stored: IdempotencyRecord) -> BulkOutcome:
    if stored.body is None:
        raise ValueError("a request that has not answered yet has nothing to replay")
    return BulkOutcome(_loads(stored.body), stored.body, replayed=True)
