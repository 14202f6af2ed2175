"""Sending one webhook over HTTP with the standard library: a POST, bounded in time.

The relay calls a ``Sender``; this is the one it uses unless the host gives it another (to
go through a proxy, say). Redirects are not followed: a receiver that moved answers 3xx,
which is a failure the delivery's ``lastError`` shows, rather than a POST silently sent on
to wherever a ``Location`` points.

The timeout bounds the whole send (resolving the name, connecting, writing, reading the
answer), not each socket operation: a receiver that answers a byte a second is cut off as surely as
one that says nothing. The address is checked after it is resolved, and the connection goes
to the address that was checked, so a name that resolves to an internal service (or changes
what it resolves to between registering and sending) is refused unless the host allows it.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import unquote, urlsplit

from ..domain.addresses import PrivateAddress, Reach, check_reachable
from .resolving import Lookup, Resolver, getaddrinfo

Sender = Callable[[str, bytes, Mapping[str, str], float], None]
"""``send(url, body, headers, timeout)``: returns when the receiver accepted the message
(a 2xx answer), raises ``DeliveryFailed`` otherwise."""

# Enough of an answer to tell it arrived; receivers' pages are not ours to read.
READ_AT_MOST = 4 * 1024
# What of a receiver's reason phrase (or a failure's text) a delivery keeps.
_MAX_PHRASE = 80


class DeliveryFailed(Exception):
    """The receiver did not accept the message; the text (one line) says why."""


def phrase(text: str) -> str:
    """``text`` short and printable: control and non-ASCII characters escaped, cut."""
    escaped = text.encode("ascii", "backslashreplace").decode("ascii")
    escaped = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in escaped)
    return escaped if len(escaped) <= _MAX_PHRASE else escaped[:_MAX_PHRASE] + "..."


class HttpSender:
    """POSTs with ``http.client``, to the addresses ``reach`` allows (checked after
    resolving, and the connection made to the address checked). Names are resolved by
    ``lookup`` (default: the system's resolver, ``socket.getaddrinfo``), within the send's
    deadline (``resolving.py``)."""

    def __init__(self, reach: Reach | None = None, *, lookup: Lookup = getaddrinfo) -> None:
        self.reach = reach or Reach()
        self._resolver = Resolver(lookup)

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        parts = urlsplit(url)
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        sent = dict(headers)
        if parts.username is not None:
            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            sent["authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = connection_class(parts.hostname or "", parts.port, timeout=timeout)
        # http.client connects through this attribute (HTTPS wraps the socket afterwards,
        # with the host's name for SNI and the certificate): the checked address is the one
        # connected to.
        connection._create_connection = self._connector(deadline)  # type: ignore[attr-defined]
        cut_off = threading.Event()
        connected: list[socket.socket] = []

        def expire() -> None:
            cut_off.set()
            # Connecting is bounded by its own timeout (what is left of the whole); once
            # connected, shutting the socket down wakes a read or write blocked in the
            # sending thread (close() would not, and http.client drops its own reference
            # to the socket once the answer's head is read).
            for sock in connected:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

        watchdog = threading.Timer(timeout, expire)
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.connect()
            if connection.sock is not None:
                connected.append(connection.sock)
            if cut_off.is_set():
                raise TimeoutError("timed out")
            connection.request("POST", target, body=body, headers=sent)
            response = connection.getresponse()
            response.read(READ_AT_MOST)
            status, reason = response.status, response.reason
        except PrivateAddress as exc:
            raise DeliveryFailed(str(exc)) from None
        except (OSError, http.client.HTTPException) as exc:
            # A socket's own timeout is what is left of the whole, so it may fire a moment
            # before the watchdog (a TLS handshake's, say): the same deadline, passed.
            if cut_off.is_set() or isinstance(exc, TimeoutError):
                raise DeliveryFailed(f"timed out after {timeout:g}s") from None
            text = str(exc) or type(exc).__name__
            raise DeliveryFailed(f"{type(exc).__name__}: {phrase(text)}") from exc
        finally:
            watchdog.cancel()
            connection.close()
        if cut_off.is_set():
            raise DeliveryFailed(f"timed out after {timeout:g}s")
        if not 200 <= status < 300:
            raise DeliveryFailed(f"HTTP {status} {phrase(reason or '')}".strip())

    def _connector(
        self, deadline: float
    ) -> Callable[[tuple[str, int], float | None, tuple[str, int] | None], socket.socket]:
        def connect(
            address: tuple[str, int],
            timeout: float | None = None,
            source_address: tuple[str, int] | None = None,
        ) -> socket.socket:
            host, port = address
            found = self._resolver.resolve(host, port, deadline - time.monotonic())
            if not found:
                raise OSError(f"{host} resolves to no address")
            for *_, sockaddr in found:
                check_reachable(str(sockaddr[0]), host, self.reach)
            error: OSError | None = None
            for family, kind, proto, _, sockaddr in found:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("timed out")
                sock = socket.socket(family, kind, proto)
                try:
                    sock.settimeout(remaining)
                    if source_address is not None:
                        sock.bind(source_address)
                    sock.connect(sockaddr)
                except OSError as exc:
                    sock.close()
                    error = exc
                    continue
                sock.settimeout(timeout)
                return sock
            assert error is not None
            raise error

        return connect


post: Sender = HttpSender()
"""The default sender: public addresses only."""
