"""Webhooks: what a subscription may say, which events it takes, and the signed message.

Messages follow Standard Webhooks (standardwebhooks.com): a JSON body ``{"type",
"timestamp", "data"}`` and the headers ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature``, so receivers can verify them with any of its libraries.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from .addresses import Reach, check_host
from .clock import timestamp
from .hooks import matches, parse_pattern
from .jsnumbers import as_javascript
from .model import Change, Webhook
from .names import PRE

EVERY_EVENT = "*"
SECRET_PREFIX = "whsec_"
MAX_URL_LENGTH = 2000
_SHORTEST_HIDDEN = 4


def shown_url(url: str) -> str:
    """The URL as logs and listings show it: its user name, password and query (where
    credentials are put) replaced by ``***``."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return "[a malformed URL]"
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = "?***" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{query}"


def without_credentials(text: str, url: str) -> str:
    """``text`` (an error's, say) with ``url`` in it as ``shown_url`` shows it, and its user,
    password and query, wherever else they appear, as ``***``."""
    if not has_credentials(url):
        return text
    try:
        parts = urlsplit(url)
        password = parts.password or ""
    except ValueError:
        return text
    text = text.replace(url, shown_url(url))
    hidden = {parts.netloc.rpartition("@")[0], parts.query}
    # A password alone only when it is long enough not to stand for every "a" in the text.
    hidden |= {p for p in (password, unquote(password)) if len(p) >= _SHORTEST_HIDDEN}
    for secret in sorted(hidden - {""}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def has_credentials(url: str) -> bool:
    """Whether the URL has a user, a password or a query: what ``shown_url`` hides."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return True
    return "@" in parts.netloc or bool(parts.query)


# The key of a subscription whose URL has credentials tells such URLs apart by a hash of the
# whole URL. Slow on purpose (about 0.05 s, once per URL a process registers): a database
# dump holds the rest of the URL, so a weak password would otherwise be guessed at a
# billion tries a second. A fixed salt, since every process must come to the same key.
_KEY_ROUNDS = 100_000
_KEY_SALT = b"taskflow webhook url"
_KEY_DIGITS = 32


@functools.lru_cache(maxsize=256)
def subscription_key(url: str) -> str:
    """The key a subscription to ``url`` is stored and found by: the URL itself, or, when it
    has credentials, the URL as shown with them hidden and a one-way hash of the whole URL
    after ``#`` (which no webhook URL has): ``https://***@host/in?***#5f0c...``. The same
    with or without a sealing key, and without one it gives nothing of the credentials
    away."""
    if not has_credentials(url):
        return url
    digest = hashlib.pbkdf2_hmac("sha256", url.encode(), _KEY_SALT, _KEY_ROUNDS)
    return f"{shown_url(url)}#{digest.hex()[:_KEY_DIGITS]}"


def check_url(url: object, reach: Reach | None = None) -> str:
    """An absolute http(s) URL with a host: where a relay can POST. A host that names an
    address ``reach`` does not allow (``addresses.py``) is refused."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        shown = shown_url(url) if isinstance(url, str) else repr(url)
        raise ValueError(
            f"a webhook URL is a non-empty string of at most {MAX_URL_LENGTH}"
            f" characters, not {shown[:100]}"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise ValueError(f"a webhook URL must be a valid URL, not {shown_url(url)}") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(
            f"a webhook URL must be http:// or https:// with a host, not {shown_url(url)}"
        )
    if parts.fragment or any(c.isspace() for c in url):
        raise ValueError(f"a webhook URL may have no fragment or whitespace: {shown_url(url)}")
    try:
        check_host(host, reach or Reach())
    except ValueError as exc:
        raise ValueError(
            f"a webhook URL must point to a public address: {exc}"
            " (Taskflow(store, allow_private_webhooks=True) allows others)"
        ) from None
    return url


def check_events(events: object) -> tuple[str, ...]:
    """Patterns as hooks take them, or ``"*"`` for every event; ValueError otherwise."""
    if isinstance(events, str) or not isinstance(events, Iterable):
        raise ValueError(f"events must be a list of patterns, not {events!r}")
    patterns = tuple(events)
    if not patterns:
        raise ValueError("events must name at least one pattern")
    for pattern in patterns:
        if pattern == EVERY_EVENT:
            continue
        parse_pattern(pattern)
        if isinstance(pattern, str) and pattern.startswith(PRE):
            # The feed holds what happened; a pattern for what is about to happen would
            # silently never match.
            raise ValueError(f"{pattern!r} names a pre- event, which is never delivered")
    return patterns


def signing_key(secret: str) -> bytes:
    """``whsec_<base64>`` signs with the decoded bytes (Standard Webhooks' form), any other
    string with its UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error as exc:
            raise ValueError("a whsec_ secret must be base64 after the prefix") from exc
    return secret.encode()


def check_secret(secret: object) -> str | None:
    if secret is None:
        return None
    if not isinstance(secret, str) or not secret:
        raise ValueError("a webhook secret is a non-empty string, or None")
    if not signing_key(secret):
        raise ValueError("a webhook secret must hold at least one byte")
    return secret


# A relay matches every event against every webhook's few patterns: parse each once.
_parsed = functools.lru_cache(maxsize=1024)(parse_pattern)


def wants(webhook: Webhook, event_name: str) -> bool:
    event = tuple(event_name.split(":"))
    return any(
        pattern == EVERY_EVENT or matches(_parsed(pattern), event) for pattern in webhook.events
    )


def message_body(change: Change, item: dict[str, Any]) -> bytes:
    """The JSON body: the event's name, when it happened, and the feed item."""
    body = {
        "type": change.entry.event_name,
        "timestamp": timestamp(change.entry.created_at),
        "data": item,
    }
    # Numbers as JSON.stringify writes them, as in every answer (jsnumbers.py).
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return as_javascript(text).encode()


def sign(secret: str, message_id: str, sent_at: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``."""
    signed = f"{message_id}.{sent_at}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def headers(message_id: str, sent_at: int, body: bytes, secret: str | None) -> dict[str, str]:
    found = {
        "content-type": "application/json",
        "user-agent": "taskflow-webhooks",
        "webhook-id": message_id,
        "webhook-timestamp": str(sent_at),
    }
    if secret is not None:
        found["webhook-signature"] = sign(secret, message_id, sent_at, body)
    return found
