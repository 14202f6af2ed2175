"""The Taskflow service: the face a host uses. Configuration (hooks, transitions, decorators,
webhooks) and one line per operation: the write path (application/writes.py), the read side
(application/reads.py) and the work beside requests (background/) do the rest."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from .application import case_body, reads, retention, revocations, subscriptions
from .application import export as exporting
from .application.access import Access, FeedRule, ReadRule, ScopeRule
from .application.answers import Decorator, Decorators
from .application.bulk import Bulk, BulkOutcome
from .application.bulk_request import BulkRequest
from .application.case_body import CaseBody
from .application.commands import (
    Command,
    Context,
    Outcome,
)
from .application.finding import Finding
from .application.listing import Listing
from .application.mutations import Mutations
from .application.observing import Observer, Observers, Tracer
from .application.pipeline import Pipeline
from .application.query import DEFAULT_LIMIT, ListQuery
from .application.sealing import Sealer, seal_stored
from .application.subscriptions import Subscriptions
from .application.views import ViewQuery
from .application.writes import ActorId, Rules, WritePath, default_actor_id
from .background.http_sender import HttpSender, Sender
from .background.relay import DEFAULT_PER_WEBHOOK, DEFAULT_TIMEOUT, DEFAULT_WORKERS, Relay
from .background.timers import MAX_PER_SWEEP, run_due
from .domain.addresses import Reach
from .domain.calendar import BusinessCalendar, BusinessDays
from .domain.clock import Clock, Timeline, system_clock, utc
from .domain.deadlines import NO_DEADLINES, Deadline, Deadlines
from .domain.events import Hook
from .domain.hooks import HookBus, parse_pattern
from .domain.model import Webhook
from .domain.redaction import DEFAULT_SECRET_KEYS, Redactor
from .domain.titles import Titler, title_with
from .domain.validation import canonical_id
from .domain.webhooks import EVERY_EVENT, check_events, check_secret, check_url
from .domain.workflow import Guard, Transitions
from .ports import Store, UnitOfWork

__all__ = ["Taskflow", "default_actor_id"]

H = TypeVar("H", bound=Hook)


class Taskflow(Mutations):
    """A case workflow on a store. Thread-safe: one instance serves every request.

    ``clock`` returns the current time as an aware datetime; every timestamp the flow writes
    comes from it (default: the system clock), so tests can move time instead of sleeping.
    ``redact`` names the key fragments whose values the activity log does not keep of the
    request's user and payload (default: tokens, secrets, passwords, authorization, cookies,
    API keys); ``redact=()`` keeps everything, as the original did. ``user_fields``: the
    dotted paths of the user object the activity log keeps (``("profile.id", "roles")``);
    None (default) keeps all of it, as the original did, though the log is shown to every
    user who may read the case (docs/hosting.md, "What the log keeps of the user").
    ``send_webhook`` sends one webhook message (default: a POST with the standard library's
    ``http.client``). ``actor_id(user)`` names who acts (default: ``user["profile"]["id"]``).

    Webhooks reach public addresses, and this machine's (loopback: receivers beside the
    service, and tests); ``allow_private_webhooks=True`` also lets them reach private,
    link-local (a cloud's metadata service) and other non-public addresses, refused by
    default when registered and, after resolving, when sent; ``allow_loopback_webhooks=False``
    refuses this machine's too. ``secrets`` seals webhook secrets before they are stored
    (``taskflow_compose.sealing.sealer_from_environment()``: AES-GCM keyed by
    ``TASKFLOW_SECRET_KEY``), and a webhook URL's user, password and query with them; without
    it they are stored as given, with a warning, unless ``plain_webhook_secrets=False`` says
    to refuse them (docs/integrations.md).

    The mutations (``create``, ``set_status``, ``comment``...) are ``Mutations``'
    (application/mutations.py): what each takes, returns and raises is said there.
    """

    def __init__(
        self,
        store: Store,
        *,
        actor_id: ActorId | None = None,
        clock: Clock | None = None,
        redact: Iterable[str] = DEFAULT_SECRET_KEYS,
        user_fields: Iterable[str] | None = None,
        send_webhook: Sender | None = None,
        allow_private_webhooks: bool = False,
        allow_loopback_webhooks: bool = True,
        secrets: Sealer | None = None,
        plain_webhook_secrets: bool = True,
    ) -> None:
        self.store = store
        self.clock: Clock = clock or system_clock
        self._hooks: HookBus[Hook] = HookBus()
        self._transitions = Transitions()
        self._lock = threading.Lock()
        self._decorators: Decorators = ()
        self._deadlines: Deadlines = NO_DEADLINES
        self._reach = Reach(private=allow_private_webhooks, loopback=allow_loopback_webhooks)
        self._send_webhook = send_webhook or HttpSender(self._reach)
        self._secrets = secrets
        self._subscriptions = Subscriptions(secrets, plain=plain_webhook_secrets)
        self._observers = Observers()
        self._writes = WritePath(
            store,
            # Every transaction's readings, kept in order across requests (domain/clock.py).
            Timeline(self.clock),
            actor_id or default_actor_id,
            Redactor(redact, user_fields),
            self._observers,
        )
        self._access: Access | None = None
        self._finding = Finding(store, lambda: self._access)
        self._titler: Titler | None = None
        self._bulk = Bulk(
            store,
            self._writes.clock,
            self._writes.actor,
            self.execute,
            lambda case_id, user: self.get(case_id, user=user),
            self._transitions.snapshot,
        )

    # -- configuration ---------------------------------------------------------------------

    @property
    def redactor(self) -> Redactor:
        """What the flow keeps of secrets: the key fragments ``redact`` named. The access log
        redacts the same names from query strings."""
        return self._writes.redact

    @overload
    def hook(self, pattern: str) -> Callable[[H], H]: ...

    @overload
    def hook(self, pattern: str, fn: Hook) -> Taskflow: ...

    def hook(self, pattern: str, fn: Hook | None = None) -> Taskflow | Callable[[H], H]:
        """Bind ``fn(event)`` to events matching ``pattern`` (``create``, ``status:*:open``,
        ``pre-update``...); without ``fn``, a decorator. Returns the flow (or ``fn``).
        ValueError for a malformed pattern, where it is written."""
        if fn is not None:
            self._hooks.register(pattern, fn)
            return self
        parse_pattern(pattern)

        def register(function: H) -> H:
            self._hooks.register(pattern, function)
            return function

        return register

    def observe(self, observer: Observer) -> Taskflow:
        """Tell ``observer`` (``taskflow_core.application.observing.Observer``) of the events
        that commit, the hooks that fail and the webhook deliveries that end, from now on;
        ``create_app`` adds its metrics' observer. Adding the same one twice changes
        nothing. Returns the flow."""
        self._observers.add(observer)
        return self

    def trace(self, tracer: Tracer | None) -> Taskflow:
        """Open a span of ``tracer`` (``taskflow_core.application.observing.Tracer``) around
        every transaction of a mutation and every hook; None stops. ``create_app(flow,
        tracing=True)`` sets OpenTelemetry's. Returns the flow."""
        self._observers.tracer = tracer
        return self

    def decorate(self, fn: Decorator, *, list: bool = True) -> Taskflow:
        """Apply ``fn(case, user)`` to every case returned; ``list=False`` skips listings.
        Returns the flow; TypeError when ``fn`` is not callable."""
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

    def deadline(
        self,
        name: str,
        *,
        within: BusinessDays | timedelta,
        starts: Iterable[str],
        pauses: Iterable[str] = (),
        stops: Iterable[str] = (),
        calendar: BusinessCalendar | None = None,
        remind: BusinessDays | timedelta | None = None,
    ) -> Taskflow:
        """Declare the deadline ``name`` ([a-z0-9-]+): ``within`` of entering a ``starts``
        status, paused (keeping what is left) by entering a ``pauses`` status, ended by a
        ``stops`` status; counted in ``calendar`` (default: Monday to Friday, no holidays,
        UTC). ``deadline:<name>:passed`` fires when it runs out, ``deadline:<name>:reminder``
        ``remind`` before. Returns the flow. ValueError for a bad or repeated name, a
        negative span, a malformed status or a status in two of the lists
        (docs/deadlines.md)."""
        declared = Deadline(name, within, starts, pauses, stops, calendar, remind)
        with self._lock:
            self._deadlines = self._deadlines.add(declared)
        return self

    def workflow(self) -> dict[str, Any]:
        """The declared workflow: ``{"statuses": [...], "transitions": [{"from", "to",
        "guarded"}]}``."""
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
        ValueError for a malformed URL, pattern or secret.
        """
        self._subscriptions.add(
            Webhook(
                url=check_url(url, self._reach),
                events=check_events(events),
                secret=check_secret(secret),
            )
        )
        return self

    def webhooks(self) -> builtins.list[dict[str, Any]]:
        """Every subscription the store holds, by URL: ``[{"url", "events", "signed"}]``,
        the URL's credentials (user, password, query) shown as ``***`` and no secret."""
        self._subscriptions.save(self.store)
        return subscriptions.listed(self.store)

    def unsubscribe(self, url: str) -> bool:
        """Remove the subscription of ``url`` (as registered, or as ``webhooks()`` shows it
        when that names one subscription); its pending deliveries are cancelled (status
        ``failed``), its history stays. Whether there was one. A host module that
        registers the URL at start registers it again: remove it there too. ValueError for
        no URL, or a shown URL that names several subscriptions."""
        if not isinstance(url, str) or not url:
            raise ValueError("unsubscribe takes a webhook URL")
        self._subscriptions.save(self.store)
        self._subscriptions.forget(url)
        return subscriptions.remove(self.store, url, utc(self.clock()))

    def seal_webhook_secrets(self) -> int:
        """Seal the webhook secrets and URLs with credentials the store holds as they were
        given (moving a subscription stored under its whole URL to its key), and re-seal
        those sealed under an older key with the current one; how many webhooks were
        rewritten. Run by ``taskflow migrate`` when ``TASKFLOW_SECRET_KEY`` is set.
        ValueError without ``secrets``."""
        if self._secrets is None:
            raise ValueError("sealing secrets needs Taskflow(store, secrets=...)")
        self._subscriptions.save(self.store)
        return seal_stored(self.store, self._secrets)

    def view(
        self, name: str, query: ViewQuery | None = None, *, title: str | None = None
    ) -> Taskflow:
        """Name a listing's query (or a callable ``(user) -> query``): ``view=name``
        (docs/finding.md)."""
        self._finding.declare(name, query, title)
        return self

    def title(self, fn: Titler | None) -> Taskflow:
        """Name how a case is titled where people pick it from a list (the case browser,
        SPEC §15): ``fn(case)``, the case as ``list`` returns it, answers its title. Without
        one, or when ``fn`` answers None or blank: ``data.title``, ``data.subject`` or
        ``data.name``, else the id. ``None`` goes back to that. Returns the flow; TypeError
        when ``fn`` is not callable."""
        if fn is not None and not callable(fn):
            raise TypeError("a title function must be callable")
        with self._lock:
            self._titler = fn
        return self

    def title_of(self, case: Mapping[str, Any]) -> str:
        """The title of ``case`` (a case as ``get`` or ``list`` returns it), as ``title``
        says."""
        return title_with(self._titler, case)

    def actor_of(self, user: Any) -> str | None:
        """Who ``user`` acts as in the activity log (``changedBy``): the flow's
        ``actor_id(user)``, e.g. for a page's "assign to me"."""
        return self._writes.actor(user)

    def access(
        self,
        read: ReadRule | None = None,
        scope: ScopeRule | None = None,
        feed: FeedRule | None = None,
    ) -> Taskflow:
        """Say who may see which case (docs/access.md); returns the flow.

        ``read(user, case) -> bool``: a case (as a listing shows it) that ``user`` may not
        read is ``NotFound`` to every read and mutation naming it, as if it did not exist.
        ``scope(user) -> mapping | None``: a listing's query ANDed into every listing, count
        and view for ``user`` (None: no restriction). ``feed(user) -> bool``: who may read
        the change feed (``Forbidden`` otherwise); not given, nobody may. The rules see the
        ``user`` each call passes (None when it passes none), from Python as over HTTP.
        Without ``access``, everything is open, as before. Declaring it again replaces the
        rules. ValueError for a rule that is not callable.
        """
        declared = Access(read, scope, feed)
        with self._lock:
            self._access = declared
        return self

    @property
    def access_rules(self) -> Access | None:
        """The rules ``access`` declared, None when it was not called."""
        return self._access

    def migrate(self) -> builtins.list[str]:
        """Bring the store's schema up to date; the names of the migrations applied."""
        return self.store.migrate()

    # -- finding the work (taskflow_core/application/finding.py) ------------------------

    def views(self, *, user: Any = None) -> builtins.list[dict[str, Any]]:
        """``[{"name", "title", "count"}]``, in declaration order; counts for ``user``."""
        return self._finding.views(user)

    def counts(
        self, by: str, query: Mapping[str, Any] | None = None, *, user: Any = None
    ) -> dict[str, Any]:
        """The cases ``query`` selects, counted by ``status`` or ``assignedTo``."""
        return self._finding.counts(by, query, user)

    # -- reading ---------------------------------------------------------------------------

    def get(self, case_id: str, *, user: Any = None) -> dict[str, Any]:
        """The case with its activity log (newest first), ``nextStatuses`` when a workflow
        is declared, decorated for ``user``. NotFound when there is no such case."""
        return self.read(case_id, user=user).case

    def read(self, case_id: str, *, user: Any = None) -> Outcome:
        """``get``, with the case's version beside it (what an HTTP ETag is made of), which
        decorators cannot drop."""
        workflow = self._transitions.snapshot()
        return reads.read(
            self.store, case_id, workflow, self._decorators, user, self._deadlines, self._access
        )

    def read_body(self, case_id: str, *, user: Any = None, budget: int | None = None) -> CaseBody:
        """``read``, as the bytes of ``{"data": case}`` that HTTP sends: whole for a case
        whose log is read in one page of ``budget`` (bytes of its entries' JSON text;
        default ``LOG_BUDGET``, 1 MiB), else streamed from one consistent read, a page of the
        log at a time, as the answer is iterated; ``close`` it when done (before, if it is
        not sent). Built whole when decorators are registered, or a guard of the workflow
        sees the case (application/case_body.py). NotFound before any byte."""
        found = canonical_id(case_id)
        if budget is None:
            budget = case_body.LOG_BUDGET  # looked up now, so a test can lower it
        return case_body.read_body(
            self.store,
            found,
            self._transitions.snapshot(),
            self._decorators,
            user,
            self._deadlines,
            self._access,
            budget,
        )

    def next_statuses(self, case_id: str, user: Any = None) -> builtins.list[str]:
        """The statuses ``user`` may move the case to, sorted (empty when nothing is declared).
        A guard that raises counts as a refusal here, and is logged."""
        workflow = self._transitions.snapshot()
        return reads.next_statuses(self.store, case_id, workflow, user, self._access)

    def list(self, query: Mapping[str, Any] | None = None, *, user: Any = None) -> dict[str, Any]:
        """``{"data": [case], "meta": {"count": n}}``: the page of cases ``query`` asks for
        (``status``, ``assignedTo``, ``data``, ``sort``, ``limit``, ``offset``...; see
        docs/http.md), without activity, decorated for ``user``. InvalidRequest for a query it
        cannot take."""
        parsed = self._finding.query(query, user)
        return reads.list_cases(self.store, parsed, self._decorators, user, self._deadlines)

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
        the budget at a time (taskflow_core/application/listing.py)."""
        parsed = self._finding.query(query, user)
        return reads.list_streamed(
            self.store, parsed, self._decorators, user, budget, self._deadlines
        )

    def export(
        self, query: Mapping[str, Any] | None = None, *, user: Any = None
    ) -> Iterator[dict[str, Any]]:
        """Every case ``query`` (a listing's filters; its sort and paging do not apply)
        matches, as a listing shows it, in id order, read a page at a time within the
        listing's memory budget; a case changed meanwhile comes once. InvalidRequest, at
        once, for a query it cannot take. ``taskflow_core.application.export.write`` writes
        them as NDJSON or CSV (docs/bulk.md)."""
        selection = self._selection(query, user)
        return exporting.export(self.store, selection, self._decorators, user, self._deadlines)

    def export_json(
        self, query: Mapping[str, Any] | None = None, *, user: Any = None
    ) -> Iterator[str]:
        """``export``, each case as the JSON text it is sent as (what ``GET
        /_export?format=ndjson`` sends a line of): written by the store itself where it can.
        InvalidRequest, at once, for a query it cannot take."""
        selection = self._selection(query, user)
        return exporting.export_json(self.store, selection, self._decorators, user, self._deadlines)

    def _selection(self, query: Mapping[str, Any] | None, user: Any) -> ListQuery:
        """The cases a bulk action or an export acts on, for ``user``: the query with its
        view ANDed in (and what the user may see, where access rules say)."""
        return self._finding.query(query, user)

    def timers(self, case_id: str, *, user: Any = None) -> builtins.list[dict[str, Any]]:
        """The case's pending timers, soonest first: ``[{"name", "due"}]``."""
        return reads.timers(self.store, case_id, self._access, user)

    def changes(
        self,
        after: str | None = None,
        limit: int = DEFAULT_LIMIT,
        *,
        wait: float = 0,
        user: Any = None,
    ) -> dict[str, Any]:
        """The change feed after the cursor ``after``: ``{"data": [{"cursor", "caseId",
        "entry"}], "meta": {"next": cursor}}``, in commit order. With ``wait`` (seconds, at
        most 30), an empty page is waited for until a change commits or the time is up.
        InvalidRequest for a cursor this feed never gave out, a limit or a wait out of range;
        Forbidden when ``access`` is declared and its ``feed`` does not let ``user`` read."""
        return reads.changes(self.store, after, limit, wait, self._access, user)

    def deliveries(self, case_id: str, *, user: Any = None) -> builtins.list[dict[str, Any]]:
        """The case's webhook deliveries, in the order of its events: ``[{"webhookUrl",
        "eventName", "attempts", "status", "lastError"}]``."""
        return reads.deliveries(self.store, case_id, self._access, user)

    # -- webhooks and timers: the work beside requests ---------------------------------------

    def deliver_pending(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        workers: int = DEFAULT_WORKERS,
        stop: threading.Event | None = None,
        per_webhook: int = DEFAULT_PER_WEBHOOK,
    ) -> int:
        """Send every webhook message due now, each POST bounded as a whole by ``timeout``
        seconds, up to ``workers`` at once and ``per_webhook`` at once to any one URL (a
        slow receiver holds its own few workers, not the others'); how many were
        delivered. Failed ones are retried by a later call, with backoff. Safe to run in
        any number of processes at once."""
        if timeout <= 0 or workers < 1 or per_webhook < 1:
            raise ValueError("timeout must be positive, workers and per_webhook at least 1")
        self._subscriptions.save(self.store)
        relay = Relay(
            self.store, self._send_webhook, self.clock, timeout, self._secrets, self._observers
        )
        return relay.deliver_pending(workers, stop, per_webhook)

    def run_due_timers(self, now: datetime | None = None) -> int:
        """Fire every timer due at ``now`` (default: the flow's clock), each in a transaction
        of its own with its hooks; how many fired. A timer whose hooks fail stays, and is
        tried again later with backoff. Safe to run in any number of processes at once."""
        moment = utc(now) if now is not None else utc(self.clock())
        hooks, workflow = self._hooks.snapshot(), self._transitions.snapshot()
        deadlines = self._deadlines
        self._subscriptions.save(self.store)

        def begin(uow: UnitOfWork) -> Pipeline:
            return self._writes.begin(uow, hooks, Context(), workflow, deadlines)

        return run_due(self.store, begin, moment, MAX_PER_SWEEP)

    def prune(
        self, older_than: timedelta, *, dry_run: bool = False, batch: int = retention.BATCH
    ) -> dict[str, int]:
        """Delete the change feed's changes and the webhook deliveries that ended, older than
        ``older_than``, and the idempotency keys expired by now, ``batch`` rows per short
        transaction; never a case or its activity. Returns ``{"changes", "deliveries",
        "idempotencyKeys"}`` counts (with ``dry_run``: what would go, nothing deleted).
        A feed reader whose cursor points into pruned changes gets ``Gone`` (HTTP 410)
        naming the cursor to read on from. ValueError for a negative age or batch."""
        return retention.prune(
            self.store, utc(self.clock()), older_than, dry_run=dry_run, batch=batch
        )

    def revoke_session(self, session_id: str, until: datetime) -> None:
        """Refuse the sign-in session ``session_id`` from now until ``until`` (its expiry),
        in every process sharing the store (taskflow_falcon/signin.py signs out with it)."""
        revocations.revoke(self.store, session_id, now=utc(self.clock()), until=until)

    def session_revoked(self, session_id: str) -> bool:
        return revocations.is_revoked(self.store, session_id, now=utc(self.clock()))

    # -- acting on many cases (taskflow_core/application/bulk.py) --------------------------

    def bulk(
        self,
        action: Mapping[str, Any],
        *,
        ids: Iterable[str] | None = None,
        query: Mapping[str, Any] | None = None,
        dry_run: bool = False,
        user: Any = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Do ``action`` (``{"status": s}``, ``{"assign": id_or_None}`` or ``{"comment":
        text}``) to each case of ``ids``, or of those ``query`` matches (a listing's filters,
        no ``limit``/``offset``), at most 1,000, each in a transaction of its own with every
        rule and hook, as ``user``. Returns ``{"data": [{"id", "status", "message"?}],
        "meta": {"bulk", "count", "succeeded", "failed"}}``, ``status`` being what the
        case's own HTTP route would answer; each event's ``meta.bulk`` is the batch's id.
        ``dry_run``: nothing is changed; the rows say which cases it would act on.
        InvalidRequest (nothing done) for an action without exactly one verb, a malformed
        id, both or neither of ``ids`` and ``query``, or more than 1,000 cases."""
        # Any iterable of ids, as from Python one passes a generator or a set; a string is
        # none (a list of its characters would be nonsense), and is refused as it is.
        given = ids if ids is None or isinstance(ids, str | list | tuple) else builtins.list(ids)
        request = BulkRequest.of(action, given, query, dry_run)
        return self.run_bulk(request, user=user, idempotency_key=idempotency_key).answer

    def run_bulk(
        self,
        request: BulkRequest,
        *,
        user: Any = None,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
    ) -> BulkOutcome:
        """``bulk``, for a request already checked, with what a transport needs besides
        the answer (the stored body, whether it is a replay)."""
        selection = None if request.query is None else self._selection(request.query, user)
        return self._bulk.run(
            request,
            selection,
            user=user,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
        )

    # -- the seam --------------------------------------------------------------------------

    def execute(self, command: Command, context: Context) -> Outcome:
        """Run one command in one transaction, with the hooks, workflow and decorators of
        this moment; every mutation, from Python or HTTP, passes here."""
        rules = Rules(
            self._hooks.snapshot(),
            self._transitions.snapshot(),
            self._decorators,
            self._deadlines,
            self._access,
        )
        self._subscriptions.save(self.store)
        return self._writes.execute(command, context, rules)
