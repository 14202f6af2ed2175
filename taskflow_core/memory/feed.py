"""The in-memory store's change feed, webhooks and deliveries (see ``memory.py``).

Units of work of the in-memory store run one at a time, so the order changes are added in
is their commit order, and a plain counter is the feed's position.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any, Protocol

import attrs

from ..domain.model import FAILED, PENDING, ActivityEntry, Change, Delivery, Position, Webhook


class Journal(Protocol):
    def undo(self, step: Callable[[], object]) -> None:
        """Run ``step`` if the unit of work rolls back."""


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value, allow_nan=False))


class FeedState:
    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.last_seq = 0
        self.pruned: Position | None = None
        self.webhooks: dict[str, Webhook] = {}
        self.deliveries: dict[str, Delivery] = {}


class MemoryChanges:
    def __init__(self, journal: Journal, state: FeedState) -> None:
        self._journal = journal
        self._state = state

    def publish(self, entry: ActivityEntry) -> None:
        """Called by the activity repository for every entry it appends (``ports.py``)."""
        # Not undone on rollback: a gap in the sequence is harmless, a reused number is not.
        self._state.last_seq += 1
        change = Change(
            position=Position(0, self._state.last_seq),
            entry=attrs.evolve(entry, event=_copy(entry.event)),
        )
        self._state.changes.append(change)
        self._journal.undo(lambda: self._state.changes.remove(change))

    def after(self, position: Position | None, limit: int) -> list[Change]:
        found = self._state.changes
        start = 0 if position is None else bisect.bisect_right(found, position, key=_position)
        return [_copied(change) for change in found[start : start + limit]]

    def at(self, position: Position) -> Change | None:
        found = self._state.changes
        index = bisect.bisect_left(found, position, key=_position)
        if index < len(found) and found[index].position == position:
            return _copied(found[index])
        return None

    def prune(self, before: datetime, upto: Position, limit: int) -> list[Position]:
        state = self._state
        doomed: list[Change] = []
        for change in state.changes[: max(0, len(state.changes) - 1)]:  # never the newest
            if len(doomed) == limit or change.position > upto or change.entry.created_at >= before:
                break
            doomed.append(change)
        if not doomed:
            return []
        kept, pruned = state.changes, state.pruned
        state.changes = state.changes[len(doomed) :]
        state.pruned = doomed[-1].position

        def restore() -> None:
            state.changes, state.pruned = kept, pruned

        self._journal.undo(restore)
        return [change.position for change in doomed]

    def pruned(self) -> Position | None:
        return self._state.pruned

    def head(self) -> Position:
        return Position(0, self._state.last_seq)


def _position(change: Change) -> Position:
    return change.position


def _copied(change: Change) -> Change:
    return attrs.evolve(change, entry=attrs.evolve(change.entry, event=_copy(change.entry.event)))


class MemoryWebhooks:
    def __init__(self, journal: Journal, state: FeedState) -> None:
        self._journal = journal
        self._state = state

    def register(self, webhook: Webhook) -> None:
        existing = self._state.webhooks.get(webhook.url)
        if existing is not None:
            webhook = attrs.evolve(
                existing, events=webhook.events, secret=webhook.secret, target=webhook.target
            )
        self._put(webhook)

    def get(self, url: str) -> Webhook | None:
        return self._state.webhooks.get(url)

    def all(self) -> list[Webhook]:
        return sorted(self._state.webhooks.values(), key=lambda w: w.url)

    def remove(self, url: str) -> bool:
        previous = self._state.webhooks.pop(url, None)
        if previous is None:
            return False
        self._journal.undo(lambda: self._state.webhooks.__setitem__(url, previous))
        return True

    def rename(self, url: str, new_url: str) -> None:
        webhook = self._state.webhooks[url]
        self.remove(url)
        self._put(attrs.evolve(webhook, url=new_url))
        deliveries = self._state.deliveries
        moved = {i: d for i, d in deliveries.items() if d.webhook_url == url}
        deliveries.update({i: attrs.evolve(d, webhook_url=new_url) for i, d in moved.items()})
        self._journal.undo(lambda: deliveries.update(moved))

    def claim_all(self) -> list[Webhook]:
        # The unit of work holds the store's lock: nobody else can fan out meanwhile.
        return sorted(self._state.webhooks.values(), key=lambda w: w.url)

    def advance(self, url: str, cursor: Position) -> None:
        self._put(attrs.evolve(self._state.webhooks[url], cursor=cursor))

    def _put(self, webhook: Webhook) -> None:
        previous = self._state.webhooks.get(webhook.url)
        self._state.webhooks[webhook.url] = webhook

        def restore() -> None:
            if previous is None:
                del self._state.webhooks[webhook.url]
            else:
                self._state.webhooks[webhook.url] = previous

        self._journal.undo(restore)


class MemoryDeliveries:
    def __init__(self, journal: Journal, state: FeedState) -> None:
        self._journal = journal
        self._state = state

    def enqueue(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            if self._pending_for(delivery.webhook_url, delivery.case_id):
                delivery = attrs.evolve(delivery, next_attempt_at=None)
            self._put(delivery)

    def claim_next(
        self, now: datetime, claim: str, until: datetime, skip: Collection[str] = ()
    ) -> Delivery | None:
        due = [
            d
            for d in self._state.deliveries.values()
            if d.status == PENDING
            and d.webhook_url not in skip
            and d.next_attempt_at is not None
            and d.next_attempt_at <= now
            and (d.claimed_until is None or d.claimed_until <= now)
        ]
        if not due:
            return None
        first = min(due, key=lambda d: (d.next_attempt_at, d.change, d.webhook_url))
        claimed = attrs.evolve(first, claim=claim, claimed_until=until)
        self._put(claimed)
        return claimed

    def finish(self, delivery: Delivery, now: datetime) -> bool:
        current = self._state.deliveries.get(delivery.id)
        if current is None or current.claim is None or current.claim != delivery.claim:
            return False
        self._put(attrs.evolve(delivery, claim=None, claimed_until=None))
        if delivery.status != PENDING:
            waiting = self._pending_for(delivery.webhook_url, delivery.case_id)
            if waiting:
                self._put(attrs.evolve(waiting[0], next_attempt_at=now))
        return True

    def prune(self, before: datetime, limit: int) -> int:
        ended = [
            d
            for d in self._state.deliveries.values()
            if d.status != PENDING and d.created_at < before
        ][:limit]
        for delivery in ended:
            self._delete(delivery)
        return len(ended)

    def for_case(self, case_id: str) -> list[Delivery]:
        found = [d for d in self._state.deliveries.values() if d.case_id == case_id]
        return sorted(found, key=lambda d: (d.change, d.webhook_url))

    def cancel_pending(self, url: str, now: datetime, reason: str) -> int:
        pending = [
            d
            for d in self._state.deliveries.values()
            if d.webhook_url == url and d.status == PENDING
        ]
        for d in pending:
            cancelled = attrs.evolve(
                d, status=FAILED, claim=None, claimed_until=None, last_error=reason
            )
            self._put(cancelled)
        return len(pending)

    def _pending_for(self, url: str, case_id: str) -> list[Delivery]:
        found = [
            d
            for d in self._state.deliveries.values()
            if d.webhook_url == url and d.case_id == case_id and d.status == PENDING
        ]
        return sorted(found, key=lambda d: d.change)

    def _delete(self, delivery: Delivery) -> None:
        del self._state.deliveries[delivery.id]
        self._journal.undo(lambda: self._state.deliveries.__setitem__(delivery.id, delivery))

    def _put(self, delivery: Delivery) -> None:
        previous = self._state.deliveries.get(delivery.id)
        self._state.deliveries[delivery.id] = delivery

        def restore() -> None:
            if previous is None:
                del self._state.deliveries[delivery.id]
            else:
                self._state.deliveries[delivery.id] = previous

        self._journal.undo(restore)
