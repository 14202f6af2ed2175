"""The write path: every mutation, from Python or HTTP, as one command in one transaction.

``execute`` is the one entry point: it claims the idempotency key (a stored answer is
replayed at once, a concurrent twin waits), opens the request's pipeline, checks an expected
version before any hook runs, runs the command, builds the answer inside the transaction
(so a decorator's failure fails the request as a whole), and commits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..domain.clock import Timeline, utc
from ..domain.deadlines import NO_DEADLINES, Deadlines
from ..domain.events import Hook
from ..domain.hooks import HookSet
from ..domain.model import IdempotencyRecord
from ..domain.redaction import Redactor
from ..domain.validation import canonical_actor, check_actor_id
from ..domain.workflow import Workflow
from ..errors import CaseMoved, InvalidRequest
from ..ports import Store, UnitOfWork
from . import idempotency
from .access import Access
from .answers import Decorators, checked, deadlines_of, single_case, single_case_body
from .commands import Command, Context, Outcome, writes_once
from .observing import Observers
from .pipeline import Pipeline

ActorId = Callable[[Any], "str | None"]

# How often a command that writes once runs without a transaction before it takes a lock:
# its case changed between its read and its write each time (pipeline.go_alone).
ALONE_TRIES = 3


def default_actor_id(user: Any) -> str | None:
    """``user["profile"]["id"]`` for a mapping, ``user.profile.id`` for an object."""
    if user is None:
        return None
    if isinstance(user, Mapping):
        profile = user.get("profile")
        found = profile.get("id") if isinstance(profile, Mapping) else None
    else:
        found = getattr(getattr(user, "profile", None), "id", None)
    return None if found is None else str(found)


@attrs.frozen
class Rules:
    """The hooks, declared workflow and decorators a request runs with: those registered
    when it starts, whatever is registered while it runs."""

    hooks: HookSet[Hook]
    workflow: Workflow
    decorators: Decorators
    deadlines: Deadlines = NO_DEADLINES
    # flow.access: a case the request's user may not read is NotFound, before any hook.
    access: Access | None = None


@attrs.frozen
class WritePath:
    store: Store
    clock: Timeline
    actor_id: ActorId
    redact: Redactor
    # Told what each transaction committed (metrics: taskflow_falcon/metrics.py).
    observer: Observers | None = None

    def execute(self, command: Command, context: Context, rules: Rules) -> Outcome:
        if context.expected_version is not None and command.case_id is None:
            raise InvalidRequest("A new case has no version to expect")
        if context.idempotency_key is not None:
            idempotency.check_caller(context.user, self.actor(context.user))
        # A command that writes once runs without a transaction where it may, and again
        # if its case changed between its read and its write; the last try takes a lock.
        kinds = writes_once(command)
        for _ in range(ALONE_TRIES):
            try:
                return self._attempt(command, context, rules, kinds)
            except CaseMoved:
                continue
        return self._attempt(command, context, rules, ())

    def _attempt(
        self, command: Command, context: Context, rules: Rules, kinds: tuple[str, ...]
    ) -> Outcome:
        with self._span(command), self.store.unit_of_work() as uow:
            claimed = None
            if context.idempotency_key is not None:
                if rules.access is not None and command.case_id is not None:
                    # Before a stored answer is replayed: a user who may no longer read the
                    # case gets 404, not the case as it was (checked again once held).
                    found = uow.cases.get(command.case_id)
                    if found is not None:
                        rules.access.check_case(context.user, found)
                # First of all, so that a request sent twice at once waits here for the
                # first to end, before either has locked a case or run a hook.
                claimed = self._pending(command, context, context.idempotency_key)
                stored = idempotency.claim(uow, claimed)
                if stored is not None:
                    return Outcome.replay(stored)  # leaving the block rolls back
            # Nothing but the command runs in this transaction, and nothing after it can
            # fail the request: no key to store the answer under, no decorator to run on it.
            tx = self.begin(uow, rules.hooks, context, rules.workflow, rules.deadlines)
            if kinds and claimed is None and not rules.decorators:
                tx.go_alone(kinds)
            if rules.access is not None and command.case_id is not None:
                # Held (as the command would hold it) and checked before the version, so
                # that a case the user may not read answers 404, never 412 or 409.
                rules.access.check_case(context.user, tx.hold(command.case_id))
            if context.expected_version is not None and command.case_id is not None:
                tx.check_version(command.case_id, context.expected_version)
            answered = command.run(tx)
            if not context.answered:
                return self._unanswered(uow, tx, answered, claimed)
            # Read inside the transaction, after every hook: what this request made, and
            # no later request's changes.
            case = tx.answer(answered)
            version = case["version"]
            if rules.deadlines:
                # The states as this transaction left them: read already if it moved them.
                states = tx.deadline_clock.states(answered)
                case = deadlines_of(case, rules.deadlines, states)
            result = single_case(case, rules.workflow, context.user, rules.decorators)
            body = None
            if claimed is not None:
                # Encoding the answer also proves it can be sent, before anything commits.
                body = single_case_body(result)
                answer = attrs.evolve(claimed, status=200, body=body, version=version)
                uow.idempotency.complete(answer)
            else:
                checked(result, rules.decorators)
            uow.commit()
        tx.run_settled()
        return Outcome(result, version, body=body)

    def _span(self, command: Command) -> contextlib.AbstractContextManager[object]:
        if self.observer is None:
            return contextlib.nullcontext()
        return self.observer.span(
            "taskflow.transaction", {"taskflow.command": type(command).__name__}
        )

    def _unanswered(
        self, uow: UnitOfWork, tx: Pipeline, case_id: str, claimed: IdempotencyRecord | None
    ) -> Outcome:
        """Commit a command whose caller wants no case back: only its id is answered (and
        stored under the key, for a replay to answer the same)."""
        case = {"id": case_id}
        body = None
        if claimed is not None:
            body = single_case_body(case)
            uow.idempotency.complete(attrs.evolve(claimed, status=200, body=body))
        uow.commit()
        tx.run_settled()
        return Outcome(case, body=body)

    def actor(self, user: Any) -> str | None:
        """Who acts, as the activity log names them: ``actor_id(user)``, checked."""
        return canonical_actor(check_actor_id(self.actor_id(user)))

    def begin(
        self,
        uow: UnitOfWork,
        hooks: HookSet[Hook],
        context: Context,
        workflow: Workflow,
        deadlines: Deadlines = NO_DEADLINES,
    ) -> Pipeline:
        """The pipeline of one request (or one timer's firing) in ``uow``."""
        return Pipeline(
            uow,
            hooks,
            user=context.user,
            payload=context.payload,
            actor=self.actor(context.user),
            clock=self.clock,
            redact=self.redact,
            workflow=workflow,
            deadlines=deadlines,
            observer=self.observer,
            bulk=context.bulk,
        )

    def _pending(self, command: Command, context: Context, key: str) -> IdempotencyRecord:
        """The record this request claims its idempotency key with."""
        request = context.fingerprint or idempotency.command_fingerprint(command, context.payload)
        scope = idempotency.scope_of(self.actor(context.user))
        return idempotency.pending(scope, key, request, utc(self.clock.clock()))
