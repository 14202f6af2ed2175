"""Checking a webhook taskflow sent: the Standard Webhooks signature and timestamp.

The server signs ``{webhook-id}.{webhook-timestamp}.{body}`` with HMAC-SHA256 and sends
``v1,<base64>`` in ``webhook-signature``; several signatures, space-separated, may be sent
while a secret is rotated, and any one that matches is enough (taskflow_core/domain/
webhooks.py signs). Written again here, not imported, so that this check is an independent
reading of the standard, tested against the server's signer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from .errors import ClientError

SECRET_PREFIX = "whsec_"
# How far a message's timestamp may be from now, either way: older is a replay, newer a
# clock to fix; the standard's five minutes.
TOLERANCE_SECONDS = 5 * 60


class WebhookVerificationError(ClientError):
    """A webhook that is not proven to come from the server now: a header missing, a
    timestamp outside the tolerance, no signature that matches, or a body that is not JSON."""


def _key(secret: str) -> bytes:
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error:
            raise ValueError("a whsec_ secret must be base64 after the prefix") from None
    return secret.encode()


def _header(headers: Mapping[str, str], name: str) -> str:
    # Frameworks hand headers over in every case: Webhook-Id, webhook-id, HTTP_WEBHOOK_ID.
    for key, value in headers.items():
        if key.lower().replace("_", "-") in (name, f"http-{name}"):
            return value
    raise WebhookVerificationError(f"the {name} header is missing")


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    tolerance: float = TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The event a webhook carries (``{"type", "timestamp", "data"}``), once its signature
    matches ``secret`` (``whsec_<base64>``, or any other string as its UTF-8 bytes) and its
    ``webhook-timestamp`` is within ``tolerance`` seconds of ``now`` (default: the clock).
    ``body`` is the request's body exactly as received (parse it only after this).
    Raises ``WebhookVerificationError``; ValueError for a malformed ``whsec_`` secret."""
    message_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")
    if not timestamp.isdigit():
        raise WebhookVerificationError("the webhook-timestamp header is not Unix seconds")
    moment = time.time() if now is None else now
    if abs(moment - int(timestamp)) > tolerance:
        raise WebhookVerificationError(
            f"the webhook's timestamp is {int(moment) - int(timestamp)} s from now, "
            f"beyond the tolerance of {tolerance:g} s"
        )
    raw = body.encode() if isinstance(body, str) else bytes(body)
    signed = f"{message_id}.{timestamp}.".encode() + raw
    expected = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    matched = False
    for signature in signatures.split():
        version, _, encoded = signature.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            continue
        # Every candidate compared in constant time, and none skipped once one matched.
        matched = hmac.compare_digest(given, expected) or matched
    if not matched:
        raise WebhookVerificationError("no signature of the webhook matches the secret")
    try:
        event: dict[str, Any] = json.loads(raw)
    except ValueError:
        raise WebhookVerificationError("the webhook's body is not JSON") from None
    if not isinstance(event, dict):
        raise WebhookVerificationError("the webhook's body is not a JSON object")
    return event
