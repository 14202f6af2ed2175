"""Signed cookie values: what the sign-in keeps in the browser, and proof it wrote it.

A value is ``<payload>.<signature>``, both base64url: the payload is JSON with an ``exp``
(seconds since the epoch), the signature an HMAC-SHA256 over a purpose and the payload, keyed
by the host's secret. The purpose keeps one kind of cookie from being accepted as another (a
sign-in's state as a session). The payload is signed, not encrypted: it holds nothing the
browser's user may not read (their own claims), and ``HttpOnly`` keeps scripts from it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

# A browser keeps a cookie of up to 4096 bytes, name and attributes included.
MAX_VALUE_LENGTH = 3800
MIN_SECRET_LENGTH = 16


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs and checks JSON payloads with ``secret`` (text or bytes, at least 16 bytes)."""

    def __init__(self, secret: str | bytes) -> None:
        key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if len(key) < MIN_SECRET_LENGTH:
            raise ValueError(f"the session secret must be at least {MIN_SECRET_LENGTH} bytes")
        self._key = key

    def _signature(self, purpose: str, payload: str) -> bytes:
        message = f"taskflow.{purpose}.{payload}".encode("ascii")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def dumps(self, purpose: str, payload: dict[str, Any], expires: datetime) -> str:
        body = json.dumps({**payload, "exp": int(expires.timestamp())}, separators=(",", ":"))
        encoded = _encode(body.encode("utf-8"))
        return f"{encoded}.{_encode(self._signature(purpose, encoded))}"

    def loads(self, purpose: str, value: str | None, now: datetime) -> dict[str, Any] | None:
        """The payload ``dumps`` signed for ``purpose``, or None when ``value`` is missing,
        malformed, signed by another key or for another purpose, or expired."""
        if not value or len(value) > MAX_VALUE_LENGTH or value.count(".") != 1:
            return None
        encoded, signature = value.split(".")
        try:
            expected = self._signature(purpose, encoded)
            if not hmac.compare_digest(_decode(signature), expected):
                return None
            payload = json.loads(_decode(encoded))
        except (ValueError, binascii.Error, UnicodeError):
            return None
        if not isinstance(payload, dict):
            return None
        expiry = payload.get("exp")
        if not isinstance(expiry, int) or expiry <= now.timestamp():
            return None
        return payload
