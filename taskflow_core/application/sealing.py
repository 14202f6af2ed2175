"""Webhook secrets and the credentials of webhook URLs at rest: sealed by a ``Sealer`` the
host gives the flow, never stored as they were given unless the host says so.

Anyone who can read the database could otherwise sign messages as taskflow, or call the
receivers with their own credentials. A URL with a user, password or query is stored under
a key that holds none of them (``subscription_key``, ``domain/webhooks.py``: deliveries
name it too), and whole, sealed, in ``target``. The core only knows the sealed form's prefix
and the port; the AES-GCM sealer keyed from ``TASKFLOW_SECRET_KEY`` is
``taskflow_compose/sealing.py``'s (the core imports no cryptography).
"""

from __future__ import annotations

from typing import Protocol

import attrs

from ..domain.model import Webhook
from ..domain.webhooks import has_credentials, subscription_key
from ..ports import Store, UnitOfWork

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
    """A stored secret (or URL) that this flow cannot open: sealed, and no key (or not its
    key)."""


def is_sealed(value: str) -> bool:
    return value.startswith(SEALED)


def open_secret(sealer: Sealer | None, stored: str | None, what: str = "secret") -> str | None:
    """The secret a stored value holds: a sealed one opened, a plain one (stored before
    secrets were sealed, or by a host that opted out) as it is."""
    if stored is None or not is_sealed(stored):
        return stored
    if sealer is None:
        raise SecretUnavailable(
            f"the webhook's {what} is sealed and this flow has no key (TASKFLOW_SECRET_KEY)"
        )
    try:
        return sealer.open(stored)
    except ValueError as exc:
        raise SecretUnavailable(f"the webhook's {what} cannot be opened: {exc}") from None


def target_url(sealer: Sealer | None, webhook: Webhook) -> str:
    """Where a stored webhook's messages go: its ``target`` opened, else its URL (which is
    then the URL as registered). SecretUnavailable when the target cannot be opened."""
    return open_secret(sealer, webhook.target, "URL") or webhook.url


def stored_form(sealer: Sealer | None, webhook: Webhook) -> Webhook:
    """A webhook as registered (its whole URL, its secret as given) as the store keeps it:
    keyed by ``subscription_key``, a URL with credentials in ``target``, both it and the
    secret sealed when there is a sealer."""
    key = subscription_key(webhook.url)
    return attrs.evolve(
        webhook,
        url=key,
        target=None if key == webhook.url else _sealed(sealer, webhook.url),
        secret=_sealed(sealer, webhook.secret),
    )


def rekey_legacy(uow: UnitOfWork, url: str) -> None:
    """Move a subscription stored under its whole URL, credentials and all (before URLs were
    keyed without them), and its deliveries, to the URL's key; its place in the feed stays."""
    key = subscription_key(url)
    if key != url and uow.webhooks.get(key) is None and uow.webhooks.get(url) is not None:
        uow.webhooks.rename(url, key)


def seal_stored(store: Store, sealer: Sealer) -> int:
    """Seal every plain secret and URL with credentials the store holds, re-seal those under
    an older key with the current one (rotation), and move subscriptions stored under a URL
    with credentials to its key; how many webhooks were rewritten. Cursors stay."""
    rewritten = 0
    with store.unit_of_work() as uow:
        for webhook in uow.webhooks.all():
            legacy = webhook.target is None and has_credentials(webhook.url)
            if not legacy and all(
                value is None or (is_sealed(value) and sealer.is_current(value))
                for value in (webhook.secret, webhook.target)
            ):
                continue
            url = target_url(sealer, webhook)
            if legacy:
                rekey_legacy(uow, url)
            registered = Webhook(
                url=url, events=webhook.events, secret=open_secret(sealer, webhook.secret)
            )
            uow.webhooks.register(stored_form(sealer, registered))
            rewritten += 1
        uow.commit()
    return rewritten


def _sealed(sealer: Sealer | None, value: str | None) -> str | None:
    return value if sealer is None or value is None else sealer.seal(value)
