"""The relay: turning the feed into deliveries, and sending each at least once, in order.

Three short transactions per delivery, and the HTTP request outside all of them: claim it
(with a lease), send it, record the outcome. A receiver that hangs costs one worker thread
until the timeout, never a lock or a connection other work needs; a relay killed while
sending leaves a lease that runs out, and the next relay sends the message again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta

import attrs

from ..application import observing
from ..application.feed import change_to_wire
from ..application.sealing import Sealer, SecretUnavailable, open_secret, target_url
from ..domain.clock import Clock, utc
from ..domain.model import DELIVERED, FAILED, PENDING, Change, Delivery, Webhook, new_id
from ..domain.webhooks import headers, message_body, shown_url, wants, without_credentials
from ..ports import Store
from .backoff import retry_delay as backoff
from .http_sender import DeliveryFailed, Sender

logger = logging.getLogger(__name__)

# A failed delivery is tried again after 1 s, then twice as long each time, up to an hour
# apart; one still failing a day after it was queued is given up (status "failed").
FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(hours=1)
RETRY_FOR = timedelta(hours=24)
DEFAULT_TIMEOUT = 10.0
# Sends in flight at once per relay, and per subscriber: a receiver that hangs holds its
# own few, never the others' (isolation holds while fewer than DEFAULT_WORKERS //
# DEFAULT_PER_WEBHOOK receivers hang at once).
DEFAULT_WORKERS = 16
DEFAULT_PER_WEBHOOK = 2
# While sends are in flight, the feed is fanned out again this often: a slow receiver's
# sends never keep new events from the others.
FAN_OUT_EVERY = 0.25
# Changes one fan-out transaction reads per webhook: bounded, so it stays short.
FAN_OUT_BATCH = 500
_MAX_ERROR_LENGTH = 1000


def retry_delay(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failure a delivery is tried again."""
    return backoff(attempts, FIRST_RETRY, LONGEST_RETRY)


def lease(timeout: float) -> timedelta:
    """How long a claim holds: past the longest a send can take (the timeout bounds it as a
    whole, ``http_sender.py``) and recording its outcome, so that only a dead relay's claims
    run out and a slow send is never sent again meanwhile."""
    return timedelta(seconds=timeout + 30)


@attrs.frozen
class Relay:
    """Everything sending needs: where deliveries are kept, how to send, and the time."""

    store: Store
    send: Sender
    clock: Clock
    timeout: float = DEFAULT_TIMEOUT
    secrets: Sealer | None = None
    observer: observing.Observer | None = None

    def now(self) -> datetime:
        return utc(self.clock())

    def fan_out(self) -> int:
        """Queue a delivery for every change each webhook wants, up to the feed's end; how
        many were queued. Webhooks another relay is fanning out are left to it."""
        queued = 0
        more = True
        while more:
            more = False
            with self.store.unit_of_work() as uow:
                now = self.now()
                for webhook in uow.webhooks.claim_all():
                    changes = uow.changes.after(webhook.cursor, FAN_OUT_BATCH)
                    if not changes:
                        continue
                    deliveries = [
                        Delivery(
                            id=new_id(),
                            webhook_url=webhook.url,
                            change=change.position,
                            case_id=change.entry.case_id,
                            event_name=str(change.entry.event_name),
                            created_at=now,
                            next_attempt_at=now,
                        )
                        for change in changes
                        if wants(webhook, change.entry.event_name)
                    ]
                    if deliveries:
                        uow.deliveries.enqueue(deliveries)
                    uow.webhooks.advance(webhook.url, changes[-1].position)
                    queued += len(deliveries)
                    more = more or len(changes) == FAN_OUT_BATCH
                uow.commit()
        return queued

    def claim(
        self, skip: Collection[str] = ()
    ) -> tuple[Delivery, Change | None, Webhook | None] | None:
        """The next due delivery, claimed for this relay, with its change and webhook; None
        when nothing is due. Deliveries to the URLs in ``skip`` are left."""
        with self.store.unit_of_work() as uow:
            now = self.now()
            until = now + lease(self.timeout)
            delivery = uow.deliveries.claim_next(now, new_id(), until, skip)
            if delivery is None:
                return None
            change = uow.changes.at(delivery.change)
            webhook = uow.webhooks.get(delivery.webhook_url)
            uow.commit()
        return delivery, change, webhook

    def send_and_record(
        self, delivery: Delivery, change: Change | None, webhook: Webhook | None
    ) -> bool:
        """One attempt at a claimed delivery, outside any transaction, and its outcome
        recorded; whether the receiver accepted it."""
        error: str | None = None
        if change is None or webhook is None:
            # Unsubscribed, or the event deleted: no attempt can ever succeed.
            self._record(delivery, "the event or its webhook is gone from the store", final=True)
            return False
        else:
            sent_at = int(self.now().timestamp())
            body = message_body(change, change_to_wire(change))
            url = webhook.url
            try:
                secret = open_secret(self.secrets, webhook.secret)
                url = target_url(self.secrets, webhook)
                self.send(url, body, headers(change.entry.id, sent_at, body, secret), self.timeout)
            except (DeliveryFailed, SecretUnavailable) as exc:
                # A host's sender may say which URL failed: the delivery keeps no credentials.
                error = without_credentials(str(exc), url)
            except Exception as exc:
                # A host's own sender failing in a way of its own: still a failed attempt.
                # Logged without its traceback, whose text may hold the URL's credentials.
                error = without_credentials(f"{type(exc).__name__}: {exc}", url)
                logger.error(
                    "sending a webhook to %s failed: %s", shown_url(delivery.webhook_url), error
                )
        self._record(delivery, error)
        return error is None

    def _record(self, delivery: Delivery, error: str | None, *, final: bool = False) -> None:
        now = self.now()
        attempts = delivery.attempts + 1
        if error is None:
            outcome = attrs.evolve(delivery, status=DELIVERED, attempts=attempts)
        elif final or now - delivery.created_at >= RETRY_FOR:
            logger.error(
                "giving up on %s for %s after %d attempts: %s",
                delivery.event_name,
                shown_url(delivery.webhook_url),
                attempts,
                error,
            )
            outcome = attrs.evolve(
                delivery, status=FAILED, attempts=attempts, last_error=_cut(error)
            )
        else:
            delay = retry_delay(attempts)
            logger.warning(
                "delivering %s to %s failed (attempt %d), trying again in %s: %s",
                delivery.event_name,
                shown_url(delivery.webhook_url),
                attempts,
                delay,
                error,
            )
            outcome = attrs.evolve(
                delivery,
                status=PENDING,
                attempts=attempts,
                next_attempt_at=now + delay,
                last_error=_cut(error),
            )
        with self.store.unit_of_work() as uow:
            if uow.deliveries.finish(outcome, now):
                uow.commit()
                if self.observer is not None:
                    self.observer.delivery_finished(_outcome_of(outcome))
            else:
                # Our lease ran out and another relay took the delivery over: its outcome
                # is the one that counts.
                logger.warning("delivery %s was claimed by another relay meanwhile", delivery.id)

    def deliver_pending(
        self,
        workers: int = DEFAULT_WORKERS,
        stop: threading.Event | None = None,
        per_webhook: int = DEFAULT_PER_WEBHOOK,
    ) -> int:
        """Fan out, then send everything due, up to ``workers`` at once and ``per_webhook``
        at once to any one URL; how many were delivered. Returns when nothing more is due
        (failed ones wait for their retry) or ``stop`` is set (sends in flight then end
        within the timeout, and their outcomes are recorded).

        This thread fans out and claims, the workers send: an idle relay costs one fan-out
        and one claim query per call and starts no thread. While sends are in flight the
        feed is fanned out again every ``FAN_OUT_EVERY`` seconds, so a slow receiver never
        keeps a new event from the others for longer.
        """
        per_webhook = max(1, min(per_webhook, workers))
        delivered = 0
        sending: dict[Future[bool], str] = {}
        busy: Counter[str] = Counter()

        def collect(done: Iterable[Future[bool]]) -> None:
            nonlocal delivered
            for future in done:
                url = sending.pop(future)
                busy[url] -= 1
                if not busy[url]:
                    del busy[url]
                delivered += future.result()

        self.fan_out()
        fanned_out = time.monotonic()
        with ThreadPoolExecutor(workers, thread_name_prefix="taskflow-relay") as pool:
            while stop is None or not stop.is_set():
                if time.monotonic() - fanned_out >= FAN_OUT_EVERY:
                    self.fan_out()
                    fanned_out = time.monotonic()
                claimed = None
                if len(sending) < workers:
                    claimed = self.claim([url for url, n in busy.items() if n >= per_webhook])
                if claimed is not None:
                    url = claimed[0].webhook_url
                    sending[pool.submit(self.send_and_record, *claimed)] = url
                    busy[url] += 1
                    continue
                if not sending:
                    break
                # A send finishing frees a worker, and may make its case's next event due;
                # meanwhile new events may have committed.
                done, _ = wait(sending, timeout=FAN_OUT_EVERY, return_when=FIRST_COMPLETED)
                collect(done)
            collect(wait(sending).done)
        return delivered


def _outcome_of(delivery: Delivery) -> str:
    if delivery.status == DELIVERED:
        return observing.DELIVERED
    return observing.FAILED if delivery.status == FAILED else observing.RETRIED


def _cut(error: str) -> str:
    return error if len(error) <= _MAX_ERROR_LENGTH else error[:_MAX_ERROR_LENGTH] + "…"
