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

import contextvars
import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs

from ..domain.clock import Timeline, utc
from ..domain.model import IdempotencyRecord
from ..domain.wire import encode_json
from ..domain.workflow import Workflow
from ..errors import (
    INTERNAL_ERROR_MESSAGE,
    UNAVAILABLE_MESSAGE,
    InvalidRequest,
    StoreUnavailable,
    TaskflowError,
    status_for,
)
from ..ports import ConcurrentWriters, Store
from . import bulk_request, idempotency
from .bulk_request import BulkAction, BulkRequest
from .commands import Command, Context, Outcome
from .query import ListQuery

logger = logging.getLogger(__name__)

# Data read while selecting by query: only the ids are wanted, so the store defers the
# data of every case past the first.
_SELECT_BUDGET = 1
# The namespace of a keyed batch's id (uuid5 of its key and request): any fixed UUID.
_BULK_NAMESPACE = uuid.UUID("6f1b3c1e-0b8e-4d5e-9c57-3f1f0c2b7a10")


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
        most = bulk_request.MAX_CASES  # looked up now, so a test can lower it
        page = attrs.evolve(selection, limit=most + 1, offset=0, counted=False)
        with self.store.unit_of_work(read_only=True) as uow:
            found = uow.cases.list(page, budget=_SELECT_BUDGET)
        ids = tuple([c.id for c in found.cases] + [d.id for d in found.deferred])
        if len(ids) > most:
            raise InvalidRequest(
                f"The query matches more than {most} cases; a bulk action takes at most "
                f"{most}: narrow it",
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

        def act(case_id: str) -> dict[str, Any]:
            return self._act(request.action, case_id, user, bulk_id, keyed)

        return in_turn(act, ids, self.writers())

    def writers(self) -> int:
        """How many cases run at once: what the store takes, 1 where it has one writer."""
        if isinstance(self.store, ConcurrentWriters):
            return max(1, self.store.concurrent_writers)
        return 1

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


def in_turn(
    act: Callable[[str], dict[str, Any]], ids: Sequence[str], writers: int
) -> list[dict[str, Any]]:
    """``act`` on each id, ``writers`` at a time at most, the rows in the ids' order.

    A case's time goes mostly to waiting on the database (its round trips and its commit),
    so a few cases in flight at once (each its own transaction, on its own connection) make
    a batch several times faster. Each runs in a copy of the caller's context variables, so
    a hook sees what it would see run by the caller. A case failing ends only its own row
    (``_act`` answers it); anything else (a dying process: ``KeyboardInterrupt``,
    ``SystemExit``) starts no further case, lets those in flight end, and is raised, as it
    would have been one case at a time: each case's own key still tells a retry what
    committed."""
    if writers <= 1 or len(ids) <= 1:
        return [act(case_id) for case_id in ids]
    with ThreadPoolExecutor(
        max_workers=min(writers, len(ids)), thread_name_prefix="taskflow-bulk"
    ) as pool:
        futures: list[Future[dict[str, Any]]] = [
            pool.submit(contextvars.copy_context().run, act, case_id) for case_id in ids
        ]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _loads(body: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(body)
    return loaded


def _replayed(stored: IdempotencyRecord) -> BulkOutcome:
    if stored.body is None:
        raise ValueError("a request that has not answered yet has nothing to replay")
    return BulkOutcome(_loads(stored.body), stored.body, replayed=True)
