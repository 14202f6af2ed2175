"""Sending one webhook over HTTP with the standard library: a POST, bounded in time.

The relay calls a ``Sender``; this is the one it uses unless the host gives it another (to
go through a proxy, say). Redirects are not followed: a receiver that moved answers 3xx,
which is a failure the delivery's ``lastError`` shows, rather than a POST silently sent on
to wherever a ``Location`` points.
"""

from __future__ import annotations

import base64
import http.client
from collections.abc import Callable, Mapping
from urllib.parse import unquote, urlsplit

Sender = Callable[[str, bytes, Mapping[str, str], float], None]
"""``send(url, body, headers, timeout)``: returns when the receiver accepted the message
(a 2xx answer), raises ``DeliveryFailed`` otherwise."""

# Enough of an answer to tell it arrived whole; receivers' pages are not ours to read.
_READ_AT_MOST = 64 * 1024


class DeliveryFailed(Exception):
    """The receiver did not accept the message; the text (one line) says why."""


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> None:
    parts = urlsplit(url)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    sent = dict(headers)
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        sent["authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # The timeout bounds connecting and each read and write, so a receiver that accepts the
    # connection and then says nothing costs this long, not forever.
    connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request("POST", target, body=body, headers=sent)
        response = connection.getresponse()
        response.read(_READ_AT_MOST)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        reason = str(exc) or type(exc).__name__
        raise DeliveryFailed(f"{type(exc).__name__}: {reason}") from exc
    finally:
        connection.close()
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status} {response.reason}".strip())
