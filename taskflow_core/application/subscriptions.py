"""Webhook subscriptions: registered on the flow and kept until saved in the store, listed
without their secrets, and removed.

Registering (at import time, typically) opens no connection: the subscriptions are saved
before the flow next touches the store, and before the events they take. Their secrets, and
the URLs with credentials, are sealed when the flow has a ``Sealer``
(application/sealing.py); without one they are stored as given (SPEC §9's
``flow.webhook(url, secret=...)`` works on any flow), with a warning, unless the host said
to refuse them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from ..domain.model import Webhook
from ..domain.webhooks import has_credentials, shown_url, subscription_key
from ..ports import Store
from .sealing import Sealer, rekey_legacy, stored_form

logger = logging.getLogger(__name__)

# The reason a removed subscription's pending deliveries end with (status failed).
UNSUBSCRIBED = "unsubscribed"


class Subscriptions:
    def __init__(self, secrets: Sealer | None = None, *, plain: bool = True) -> None:
        self._secrets = secrets
        self._plain = plain
        self._warned = False
        self._unsaved: dict[str, Webhook] = {}
        self._lock = threading.Lock()
        self._saving = threading.Lock()

    def add(self, webhook: Webhook) -> None:
        secretive = webhook.secret is not None or has_credentials(webhook.url)
        if secretive and self._secrets is None:
            if not self._plain:
                raise ValueError(
                    "a webhook secret (or a URL's user, password or query) is stored sealed,"
                    " and this flow has no key: pass Taskflow(store,"
                    " secrets=sealer_from_environment()) with TASKFLOW_SECRET_KEY set"
                    " (taskflow_compose.sealing)"
                )
            if not self._warned:
                self._warned = True
                logger.warning(
                    "webhook secrets and URL credentials are stored as given: set"
                    " TASKFLOW_SECRET_KEY (or pass Taskflow(store, secrets=...)) to store them"
                    " sealed"
                )
        # Keyed now, once per URL a process registers (a deliberately slow hash).
        subscription_key(webhook.url)
        with self._lock:
            self._unsaved = {**self._unsaved, webhook.url: webhook}

    def forget(self, url: str) -> None:
        """Drop an unsaved registration of ``url`` (it is being removed)."""
        with self._lock:
            self._unsaved = {u: w for u, w in self._unsaved.items() if u != url}

    def save(self, store: Store) -> None:
        """Save the webhooks registered since the last call, before the events they take."""
        if not self._unsaved:
            return
        # Other threads wait here rather than go on to write: an event they commit before
        # the webhook is saved would not be the webhook's.
        with self._saving:
            unsaved = self._unsaved
            if not unsaved:
                return
            register(store, unsaved.values(), self._secrets)
            with self._lock:
                # Forgotten once saved, unless registered anew meanwhile.
                self._unsaved = {
                    url: webhook
                    for url, webhook in self._unsaved.items()
                    if unsaved.get(url) is not webhook
                }


def register(store: Store, webhooks: Iterable[Webhook], secrets: Sealer | None = None) -> None:
    """Save webhooks (as registered: whole URLs, secrets as given) in the store, as it keeps
    them (``stored_form``). A new one takes the changes that commit from now on; one already
    there keeps its place in the feed and gets the events and secret given."""
    with store.unit_of_work() as uow:
        start = uow.changes.head()
        for webhook in webhooks:
            # One a previous version stored under its whole URL is the same subscription.
            rekey_legacy(uow, webhook.url)
            uow.webhooks.register(attrs.evolve(stored_form(secrets, webhook), cursor=start))
        uow.commit()


def listed(store: Store) -> list[dict[str, Any]]:
    """Every subscription, by URL, as ``flow.webhooks()`` shows it: no secret, and the URL's
    credentials (user, password, query) as ``***``."""
    with store.unit_of_work(read_only=True) as uow:
        found = uow.webhooks.all()
    return [
        {"url": shown_url(w.url), "events": list(w.events), "signed": w.secret is not None}
        for w in found
    ]


def remove(store: Store, url: str, now: datetime) -> bool:
    """Remove the webhook ``url`` names (as registered, or as ``shown_url`` shows it when
    that is one webhook's) and cancel its pending deliveries; whether there was one."""
    key = subscription_key(url)
    with store.unit_of_work() as uow:
        # Its key, else the URL itself: a subscription a previous version stored under it.
        target = next((k for k in (key, url) if uow.webhooks.get(k) is not None), None)
        if target is None:
            shown = [w.url for w in uow.webhooks.all() if shown_url(w.url) == url]
            if len(shown) > 1:
                raise ValueError(f"{url} names {len(shown)} webhooks: give the whole URL")
            target = shown[0] if shown else None
        if target is None:
            return False
        uow.webhooks.remove(target)
        uow.deliveries.cancel_pending(target, now, UNSUBSCRIBED)
        uow.commit()
    return True
