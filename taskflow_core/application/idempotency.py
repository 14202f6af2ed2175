"""Idempotency keys: a request sent again under its key gets the first one's answer again.

The first request with a key claims it in its own transaction, before it does anything else,
and stores its answer in that same transaction when it succeeds; a request that fails rolls
back, and its key with it, so it may be retried. A request that finds the key answered
replays that answer if it is the same request (same fingerprint), and is refused if not.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any, cast

import attrs

from ..domain.model import IdempotencyRecord
from ..errors import IdempotencyKeyReused, InvalidRequest, RequestInFlight
from ..ports import UnitOfWork

# How long a key is remembered: a client's retries may span an outage of hours, and a key
# forgotten too early lets a late retry do the work twice.
KEY_LIFETIME = timedelta(hours=24)
# Expired records each answered request deletes: more than the one record a request adds, so
# the table shrinks back after a burst without a cleaning job.
PURGE_BATCH = 10
MAX_KEY_LENGTH = 255
# Printable ASCII: what fits in an HTTP header unchanged, in every store's text column.
_KEY = re.compile(rf"[\x20-\x7e]{{1,{MAX_KEY_LENGTH}}}")

ANONYMOUS_SCOPE = "anonymous"


def check_idempotency_key(value: object, field: str = "idempotency_key") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{field} must be a non-empty string", {field: "required"})
    if not _KEY.fullmatch(value):
        raise InvalidRequest(
            f"{field} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            {field: "invalid"},
        )
    return value


def check_caller(user: Any, actor: str | None) -> None:
    """Refuse a key from a user the flow cannot name: its answer would be kept in the
    anonymous scope, and replayed to any other such user (xavier's answer to yvonne).
    Without a user at all there is one caller, the host's unauthenticated one."""
    if user is not None and actor is None:
        raise InvalidRequest(
            "An idempotency key needs to know who is asking, and this user has no id: the "
            "host names users by profile.id, or with Taskflow(actor_id=...)",
            {"idempotency_key": "no user id"},
        )


def scope_of(actor: str | None) -> str:
    """Whose keys a request's key is among: its actor's, or every anonymous caller's."""
    # Prefixed, so that no actor id can name the anonymous scope.
    return ANONYMOUS_SCOPE if actor is None else f"actor:{actor}"


def fingerprint(request: Any) -> str:
    """A digest of what identifies a request (for HTTP: method, path and parsed body), equal
    for equal JSON values whatever their key order or spacing."""
    text = json.dumps(
        request, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def command_fingerprint(command: object, payload: Any) -> str:
    """What identifies a call from Python: the command, its arguments and the payload."""
    # The shipped commands are attrs classes; a host's own may not be.
    arguments = (
        attrs.asdict(cast(attrs.AttrsInstance, command))
        if attrs.has(type(command))
        else repr(command)
    )
    return fingerprint(
        {"command": type(command).__name__, "arguments": arguments, "payload": payload}
    )


def pending(scope: str, key: str, request_fingerprint: str, now: datetime) -> IdempotencyRecord:
    """The record a request claims its key with, before it has an answer."""
    return IdempotencyRecord(
        scope=scope,
        key=key,
        fingerprint=request_fingerprint,
        created_at=now,
        expires_at=now + KEY_LIFETIME,
    )


def claim(uow: UnitOfWork, record: IdempotencyRecord) -> IdempotencyRecord | None:
    """Claim ``record``'s key in ``uow``: None when the request is to run now, else the
    stored answer to replay. Raises IdempotencyKeyReused when the key was used for another
    request, and RequestInFlight (a Conflict) when the request that holds the key has not
    answered yet."""
    stored = uow.idempotency.claim(record)
    if stored is None:
        return None
    if stored.fingerprint != record.fingerprint:
        raise IdempotencyKeyReused(
            "This idempotency key was already used for a different request;"
            " use a new key for a new request"
        )
    if not stored.answered:
        # Only a store that shows a claim before it commits gets here: the stores shipped
        # make the second request wait until the first has answered or rolled back.
        raise RequestInFlight()
    return stored
