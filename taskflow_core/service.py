"""The Taskflow service: hooks, decorators, and every operation as one transaction."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar, overload

import attrs

from . import feed, idempotency
from . import query as query_module
from .clock import Clock, Timeline, system_clock, timestamp, utc
from .commands import (
    AddComment,
    Assign,
    Command,
    Context,
    CreateCase,
    DeleteComment,
    EditComment,
    MergePatch,
    Outcome,
    SetStatus,
    UpdateData,
)
from .delivery import DEFAULT_TIMEOUT, DEFAULT_WORKERS, Relay, delivery_to_wire
from .errors import InvalidRequest, NotFound
from .events import Hook
from .hooks import HookBus, HookSet, parse_pattern
from .http_sender import Sender, post
from .listing import Listing, listing
from .merge import check_encodable
from .model import Case, IdempotencyRecord, Webhook
from .ports import EncodedListings, Store, UnitOfWork
from .query import EncodedPage, ListPage, parse_list_query
from .redaction import DEFAULT_SECRET_KEYS, Redactor
from .timers import MAX_PER_SWEEP, run_due
from .transaction import Transaction, read_case
from .validation import (
    canonical_actor,
    canonical_id,
    check_assignee,
    check_comment,
    check_data,
    check_status,
)
from .webhooks import EVERY_EVENT, check_events, check_secret, check_url, register
from .wire import case_to_wire, encode_json, single_case_body
from .workflow import Guard, Transitions, Workflow

Decorator = Callable[[dict[str, Any], Any], dict[str, Any]]
ActorId = Callable[[Any], "str | None"]
H = TypeVar("H", bound=Hook)


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


def with_next(case: dict[str, Any], workflow: Workflow, user: Any) -> dict[str, Any]:
    """A single-case answer with ``nextStatuses`` for ``user`` when a workflow is declared;
    added before decorators, so they see it, and computed from the case without it."""
    if workflow.declared:
        case["nextStatuses"] = workflow.allowed(case, user)
    return case


class Taskflow:
    """A case workflow on a store. Thread-safe: one instance serves every request.

    ``clock`` returns the current time as an aware datetime; every timestamp the flow writes
    comes from it (default: the system clock), so tests can move time instead of sleeping.
    ``redact`` names the key fragments whose values the activity log does not keep of the
    request's user and payload (default: tokens, secrets, passwords, authorization, cookies,
    API keys); ``redact=()`` keeps everything, as the original did. ``send_webhook`` sends
    one webhook message (default: a POST with the standard library's ``http.client``).
    """

    def __init__(
        self,
        store: Store,
        *,
        actor_id: ActorId | None = None,
        clock: Clock | None = None,
        redact: Iterable[str] = DEFAULT_SECRET_KEYS,
        send_webhook: Sender = post,
    ) -> None:
        self.store = store
        self.clock: Clock = clock or system_clock
        # Every transaction's readings, kept in order across requests (clock.py).
        self._timeline = Timeline(self.clock)
        self._redact = Redactor(redact)
        self._actor_id = actor_id or default_actor_id
        self._hooks: HookBus[Hook] = HookBus()
        self._transitions = Transitions()
        self._lock = threading.Lock()
        self._decorators: tuple[tuple[Decorator, bool], ...] = ()
        self._send_webhook = send_webhook
        # Registered here, saved in the store before the flow next touches it: registering
        # (at import time, typically) opens no connection.
        self._unsaved_webhooks: dict[str, Webhook] = {}
        self._saving_webhooks = threading.Lock()

    # -- configuration ---------------------------------------------------------------------

    @overload
    def hook(self, pattern: str) -> Callable[[H], H]: ...

    @overload
    def hook(self, pattern: str, fn: Hook) -> Taskflow: ...

    def hook(self, pattern: str, fn: Hook | None = None) -> Taskflow | Callable[[H], H]:
        """Bind ``fn`` to events matching ``pattern``; without ``fn``, a decorator."""
        if fn is not None:
            self._hooks.register(pattern, fn)
            return self
        parse_pattern(pattern)  # refuse a bad pattern where it is written, not when applied

        def register(function: H) -> H:
            self._hooks.register(pattern, function)
            return function

        return register

    def decorate(self, fn: Decorator, *, list: bool = True) -> Taskflow:
        """Apply ``fn(case, user)`` to every case returned; ``list=False`` skips listings."""
        if not callable(fn):
            raise TypeError("a decorator must be callable")
        with self._lock:
            self._decorators = (*self._decorators, (fn, list))
        return self

    def transition(self, source: str, target: str, guard: Guard | None = None) -> Taskflow:
        """Declare that a case may move from ``source`` (a status, or ``"*"`` for any) to
        ``target``, for users ``guard(case, user)`` accepts (everyone without a guard).

        Once one transition is declared, every status change must match one: ``Conflict``
        when none does, ``Forbidden`` when the guards of every match refuse. Several
        declarations of a change are OR'ed. ValueError for a malformed status, ``"*"`` as a
        target or a guard that is not callable.
        """
        self._transitions.declare(source, target, guard)
        return self

    def workflow(self) -> dict[str, Any]:
        """``{"statuses": [...], "transitions": [{"from", "to", "guarded"}]}``."""
        return self._transitions.snapshot().as_dict()

    def webhook(
        self,
        url: str,
        events: Iterable[str] = (EVERY_EVENT,),
        secret: str | None = None,
    ) -> Taskflow:
        """Subscribe ``url`` to the events matching any of ``events`` (hook patterns, or
        ``"*"`` for every event); a relay POSTs each, signed with ``secret`` when given.

        The subscription is the URL's: every process registering it shares its deliveries,
        and registering it again changes its events and secret. It takes the events that
        commit from when it first reaches the store (the next time the flow uses it).
        """
        webhook = Webhook(
            url=check_url(url), events=check_events(events), secret=check_secret(secret)
        )
        with self._lock:
            self._unsaved_webhooks = {**self._unsaved_webhooks, webhook.url: webhook}
        return self

    def migrate(self) -> list[str]:
        return self.store.migrate()

    # -- reading ---------------------------------------------------------------------------

    def get(self, case_id: str, *, user: Any = None) -> dict[str, Any]:
        return self.read(case_id, user=user).case

    def read(self, case_id: str, *, user: Any = None) -> Outcome:
        """``get``, with the case's version beside it (what an HTTP ETag is made of), which
        decorators cannot drop."""
        found = canonical_id(case_id)
        workflow, decorators = self._transitions.snapshot(), self._decorators
        with self.store.unit_of_work(read_only=True) as uow:
            case = read_case(uow, found)
        version = case["version"]
        decorated = self._decorated(
            with_next(case, workflow, user), user, decorators, listing=False
        )
        return Outcome(decorated, version)

    def next_statuses(self, case_id: str, user: Any = None) -> builtins.list[str]:
        """The statuses ``user`` may move the case to, sorted (empty when nothing is declared).
        A guard that raises counts as a refusal here, and is logged."""
        found = canonical_id(case_id)
        workflow = self._transitions.snapshot()
        with self.store.unit_of_work(read_only=True) as uow:
            case = read_case(uow, found)
        return workflow.allowed(case, user)

    def list(self, query: Mapping[str, Any] | None = None, *, user: Any = None) -> dict[str, Any]:
        parsed = parse_list_query(query)
        decorators = self._decorators
        with self.store.unit_of_work(read_only=True) as uow:
            page = uow.cases.list(parsed)
        return {
            "data": [
                self._decorated(case_to_wire(case), user, decorators, listing=True)
                for case in page.cases
            ],
            "meta": {"count": page.count},
        }

    def listing(
        self,
        query: Mapping[str, Any] | None = None,
        *,
        user: Any = None,
        budget: int | None = None,
    ) -> Listing:
        """``list``, for an answer sent case by case: the count and the cases within
        ``budget`` (bytes of data as JSON text; default ``LISTING_BUDGET``) are read now, in
        one read; the rest of the page as the listing's ``rest`` is iterated, a batch within
        the budget at a time (taskflow_core/listing.py). What the whole page holds is never
        in memory at once."""
        if budget is None:
            budget = query_module.LISTING_BUDGET  # looked up now, so a test can lower it
        parsed = parse_list_query(query)
        decorators = self._decorators
        decorated = any(on_lists for _, on_lists in decorators)
        with self.store.unit_of_work(read_only=True) as uow:
            cases = uow.cases
            page: ListPage | EncodedPage
            if not decorated and isinstance(cases, EncodedListings):
                page = cases.list_encoded(parsed, budget=budget)
            else:
                page = cases.list(parsed, budget=budget)

        def present(case: Case) -> str:
            wire = self._decorated(case_to_wire(case), user, decorators, listing=True)
            return encode_json(wire)

        return listing(self.store, page, budget, present)

    def timers(self, case_id: str) -> builtins.list[dict[str, Any]]:
        """The case's pending timers, soonest first: ``[{"name", "due"}]``."""
        found = canonical_id(case_id)
        with self.store.unit_of_work(read_only=True) as uow:
            if uow.cases.get(found) is None:
                raise NotFound("Case not found")
            pending = uow.timers.for_case(found)
        return [{"name": t.name, "due": timestamp(t.due)} for t in pending]

    def changes(
        self, after: str | None = None, limit: int = feed.DEFAULT_LIMIT, *, wait: float = 0
    ) -> dict[str, Any]:
        """The change feed after the cursor ``after``: ``{"data": [{"cursor", "caseId",
        "entry"}], "meta": {"next": cursor}}``, in commit order. With ``wait`` (seconds, at
        most 30), an empty page is waited for until a change commits or the time is up."""
        position = feed.decode_cursor(after)
        found = feed.read(self.store, position, feed.check_limit(limit), feed.check_wait(wait))
        return feed.page(found, after)

    def deliveries(self, case_id: str) -> builtins.list[dict[str, Any]]:
        """The case's webhook deliveries, in the order of its events: ``[{"webhookUrl",
        "eventName", "attempts", "status", "lastError"}]``."""
        found = canonical_id(case_id)
        with self.store.unit_of_work(read_only=True) as uow:
            if uow.cases.get(found) is None:
                raise NotFound("Case not found")
            deliveries = uow.deliveries.for_case(found)
        return [delivery_to_wire(d) for d in deliveries]

    # -- webhooks and timers: the work beside requests ---------------------------------------

    def deliver_pending(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        workers: int = DEFAULT_WORKERS,
        stop: threading.Event | None = None,
    ) -> int:
        """Send every webhook message due now, each POST bounded by ``timeout`` seconds, up
        to ``workers`` at once; how many were delivered. Failed ones are retried by a later
        call, with backoff. Safe to run in any number of processes at once."""
        if timeout <= 0 or workers < 1:
            raise ValueError("timeout must be positive and workers at least 1")
        self._save_webhooks()
        relay = Relay(self.store, self._send_webhook, self.clock, timeout)
        return relay.deliver_pending(workers, stop)

    def run_due_timers(self, now: datetime | None = None) -> int:
        """Fire every timer due at ``now`` (default: the flow's clock), each in a transaction
        of its own with its hooks; how many fired. A timer whose hooks fail stays, and is
        tried again later with backoff. Safe to run in any number of processes at once."""
        moment = utc(now) if now is not None else utc(self.clock())
        hooks, workflow = self._hooks.snapshot(), self._transitions.snapshot()
        self._save_webhooks()

        def begin(uow: UnitOfWork) -> Transaction:
            return self._transaction(uow, hooks, Context(), workflow)

        return run_due(self.store, begin, moment, MAX_PER_SWEEP)

    # -- mutations: each checks its arguments, then runs one command ------------------------
    #
    # Every one takes ``idempotency_key`` (the answer is stored under it, and the same call
    # made again with it returns that answer and does nothing), and each but ``create`` takes
    # ``expected_version`` (PreconditionFailed unless the case is at that version).

    def create(
        self,
        data: Mapping[str, Any],
        *,
        user: Any = None,
        payload: Any = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        body = dict(check_data(data))
        context = Context(
            user, body if payload is None else payload, idempotency_key=idempotency_key
        )
        return self.execute(CreateCase(body), context).case

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
        changes = {} if data is None else dict(check_data(data))
        command = UpdateData(canonical_id(case_id), changes, preserve_updated_at)
        context = Context(user, payload, expected_version, idempotency_key)
        return self.execute(command, context).case

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
        command = MergePatch(canonical_id(case_id), dict(check_data(patch, "patch")))
        context = Context(user, payload, expected_version, idempotency_key)
        return self.execute(command, context).case

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
        command = SetStatus(canonical_id(case_id), check_status(status))
        context = Context(user, payload, expected_version, idempotency_key)
        return self.execute(command, context).case

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
        command = Assign(canonical_id(case_id), check_assignee(assigned_to))
        context = Context(user, payload, expected_version, idempotency_key)
        return self.execute(command, context).case

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
        command = AddComment(canonical_id(case_id), check_comment(comment))
        context = Context(user, payload, expected_version, idempotency_key)
        return self.execute(command, context).case

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
        command = EditComment(
            canonical_id(case_id), canonical_id(comment_id, "Comment"), check_comment(comment)
        )
        context = Context(user, payload, expected_version, idempotency_key)
        return self.execute(command, context).case

    def delete_comment(
        self,
        case_id: str,
        comment_id: str,
        *,
        user: Any = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        command = DeleteComment(canonical_id(case_id), canonical_id(comment_id, "Comment"))
        context = Context(user, None, expected_version, idempotency_key)
        return self.execute(command, context).case

    # -- the seam --------------------------------------------------------------------------

    def execute(self, command: Command, context: Context) -> Outcome:
        """Run one command in one transaction, with the hooks and decorators of this moment;
        every mutation, from Python or HTTP, passes here."""
        if context.expected_version is not None and command.case_id is None:
            raise InvalidRequest("A new case has no version to expect")
        hooks, decorators = self._hooks.snapshot(), self._decorators
        self._save_webhooks()
        workflow = self._transitions.snapshot()
        actor = canonical_actor(self._actor_id(context.user))
        with self.store.unit_of_work() as uow:
            claimed = None
            if context.idempotency_key is not None:
                # First of all, so that a request sent twice at once waits here for the
                # first to end, before either has locked a case or run a hook.
                claimed = self._pending(command, context, context.idempotency_key, actor)
                stored = idempotency.claim(uow, claimed)
                if stored is not None:
                    return Outcome.replay(stored)  # leaving the block rolls back
            tx = self._transaction(uow, hooks, context, workflow)
            if context.expected_version is not None and command.case_id is not None:
                tx.check_version(command.case_id, context.expected_version)
            answered = command.run(tx)
            # Read inside the transaction, after every hook: what this request made, and
            # no later request's changes. Decorated before the commit, so that a failing
            # decorator fails the request as a whole instead of after its changes landed.
            case = with_next(read_case(uow, answered), workflow, context.user)
            version = case["version"]
            result = self._decorated(case, context.user, decorators, listing=False)
            body = None
            if claimed is not None:
                # Encoding the answer also proves it can be sent, before anything commits.
                body = single_case_body(result)
                answer = attrs.evolve(claimed, status=200, body=body, version=version)
                uow.idempotency.complete(answer)
            elif decorators:
                # What the store returns is JSON; a decorator's additions may not be, and an
                # answer that cannot be sent must fail the request before it commits.
                check_encodable(result)
            uow.commit()
        tx.run_settled()
        return Outcome(result, version, body=body)

    def _pending(
        self, command: Command, context: Context, key: str, actor: str | None
    ) -> IdempotencyRecord:
        """The record this request claims its idempotency key with."""
        request = context.fingerprint or idempotency.command_fingerprint(command, context.payload)
        scope = idempotency.scope_of(actor)
        return idempotency.pending(scope, key, request, utc(self.clock()))

    def _save_webhooks(self) -> None:
        """Save the webhooks registered since the last call, before the events they take."""
        if not self._unsaved_webhooks:
            return
        # Other threads wait here rather than go on to write: an event they commit before
        # the webhook is saved would not be the webhook's.
        with self._saving_webhooks:
            unsaved = self._unsaved_webhooks
            if not unsaved:
                return
            register(self.store, unsaved.values())
            with self._lock:
                # Forgotten once saved, unless registered anew meanwhile.
                self._unsaved_webhooks = {
                    url: webhook
                    for url, webhook in self._unsaved_webhooks.items()
                    if unsaved.get(url) is not webhook
                }

    def _transaction(
        self, uow: UnitOfWork, hooks: HookSet[Hook], context: Context, workflow: Workflow
    ) -> Transaction:
        return Transaction(
            uow,
            hooks,
            user=context.user,
            payload=context.payload,
            actor=canonical_actor(self._actor_id(context.user)),
            clock=self._timeline,
            redact=self._redact,
            workflow=workflow,
        )

    @staticmethod
    def _decorated(
        case: dict[str, Any],
        user: Any,
        decorators: tuple[tuple[Decorator, bool], ...],
        *,
        listing: bool,
    ) -> dict[str, Any]:
        for fn, on_lists in decorators:
            if listing and not on_lists:
                continue
            case = fn(case, user)
        return case
