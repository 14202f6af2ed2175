"""Webhooks registered on the flow, kept until saved in the store.

Registering (at import time, typically) opens no connection: the subscriptions are saved
before the flow next touches the store, and before the events they take.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import attrs

from ..domain.model import Webhook
from ..ports import Store


class Subscriptions:
    def __init__(self) -> None:
        self._unsaved: dict[str, Webhook] = {}
        self._lock = threading.Lock()
        self._saving = threading.Lock()

    def add(self, webhook: Webhook) -> None:
        with self._lock:
            self._unsaved = {**self._unsaved, webhook.url: webhook}

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
            register(store, unsaved.values())
            with self._lock:
                # Forgotten once saved, unless registered anew meanwhile.
                self._unsaved = {
                    url: webhook
                    for url, webhook in self._unsaved.items()
                    if unsaved.get(url) is not webhook
                }


def register(store: Store, webhooks: Iterable[Webhook]) -> None:
    """Save webhooks in the store. A new one takes the changes that commit from now on; one
    already there keeps its place in the feed and gets the events and secret given."""
    with store.unit_of_work() as uow:
        start = uow.changes.head()
        for webhook in webhooks:
            uow.webhooks.register(attrs.evolve(webhook, cursor=start))
        uow.commit()
