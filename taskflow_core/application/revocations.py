"""Revoked sign-in sessions, remembered in the store so that every process refuses them.

A session lives in a signed cookie; signing out must make that cookie worthless in every
worker of every machine serving the pages, so the revocation is written where they all look:
the store. It rides on the idempotency keys' rows (scope, key, expiry), under a scope no
caller's key can have (theirs are ``actor:...`` or ``anonymous``): a revocation is kept until
the session would have expired anyway, and is then pruned with the expired keys.
"""

from __future__ import annotations

from datetime import datetime

from ..domain.model import IdempotencyRecord
from ..ports import Store

REVOKED_SCOPE = "revoked-session"


def revoke(store: Store, session_id: str, *, now: datetime, until: datetime) -> None:
    """Refuse session ``session_id`` from now until ``until`` (when it expires by itself)."""
    record = IdempotencyRecord(
        scope=REVOKED_SCOPE,
        key=session_id,
        fingerprint="revoked",
        created_at=now,
        # An already expired session is refused anyway; the row only has to exist briefly.
        expires_at=max(until, now),
    )
    with store.unit_of_work() as uow:
        # Claimed and left unanswered: the row only says "revoked". Revoking twice finds the
        # live row and leaves it as it is.
        uow.idempotency.claim(record)
        uow.commit()


def is_revoked(store: Store, session_id: str, *, now: datetime) -> bool:
    with store.unit_of_work(read_only=True) as uow:
        record = uow.idempotency.get(REVOKED_SCOPE, session_id)
    return record is not None and record.expires_at > now
