"""Webhook secrets at rest: sealed by a ``Sealer`` the host gives the flow, never stored as
they were given unless the host says so.

Anyone who can read the database could otherwise sign messages as taskflow. The core only
knows the sealed form's prefix and the port; the AES-GCM sealer keyed from
``TASKFLOW_SECRET_KEY`` is ``taskflow_compose/sealing.py``'s (the core imports no
cryptography).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from ..domain.model import Webhook
from ..ports import Store

SEALED = "sealed:"


class Sealer(Protocol):
    def seal(self, secret: str) -> str:
        """``secret`` sealed, as ``sealed:...`` text, under the current key."""

    def open(self, sealed: str) -> str:
        """The secret ``seal`` sealed, under the current key or an older one; ValueError
        when no key opens it."""

    def is_current(self, sealed: str) -> bool:
        """Whether ``sealed`` is sealed under the current key (else it is re-sealed)."""


class SecretUnavailable(ValueError):
    """A stored secret that this flow cannot open: sealed, and no key (or not its key)."""


def is_sealed(value: str) -> bool:
    return value.startswith(SEALED)


def open_secret(sealer: Sealer | None, stored: str | None) -> str | None:
    """The secret a stored value holds: a sealed one opened, a plain one (stored before
    secrets were sealed, or by a host that opted out) as it is."""
    if stored is None or not is_sealed(stored):
        return stored
    if sealer is None:
        raise SecretUnavailable(
            "the webhook's secret is sealed and this flow has no key (TASKFLOW_SECRET_KEY)"
        )
    try:
        return sealer.open(stored)
    except ValueError as exc:
        raise SecretUnavailable(f"the webhook's secret cannot be opened: {exc}") from None


def seal_stored(store: Store, sealer: Sealer) -> int:
    """Seal every plain secret the store holds, and re-seal those under an older key with
    the current one (rotation); how many were rewritten. Cursors are left as they are."""
    rewritten = 0
    with store.unit_of_work() as uow:
        for webhook in uow.webhooks.all():
            stored = webhook.secret
            if stored is None or (is_sealed(stored) and sealer.is_current(stored)):
                continue
            plain = sealer.open(stored) if is_sealed(stored) else stored
            uow.webhooks.register(_with_secret(webhook, sealer.seal(plain)))
            rewritten += 1
        uow.commit()
    return rewritten


def _with_secret(webhook: Webhook, secret: str) -> Webhook:
    return Webhook(url=webhook.url, events=webhook.events, secret=secret, cursor=webhook.cursor)


def sealed_all(sealer: Sealer | None, webhooks: Iterable[Webhook]) -> list[Webhook]:
    """The webhooks with their secrets sealed, for saving."""
    if sealer is None:
        return list(webhooks)
    return [w if w.secret is None else _with_secret(w, sealer.seal(w.secret)) for w in webhooks]
