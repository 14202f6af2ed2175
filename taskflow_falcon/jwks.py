"""The identity provider's signing keys: a JSON Web Key Set fetched over HTTP, cached, and
fetched again when a token names a key it does not hold (the provider rotated its keys).

A fetch is bounded (``timeout``, for the connection and for the whole read), and fetches are
rate-limited: at most one per ``refresh_interval`` seconds whatever tokens arrive, so a
stream of tokens naming made-up key ids costs the provider one request per interval, and
the service a dictionary lookup per token. While no key set was ever fetched, a request
that finds the provider away is answered 503 at once until the next attempt is due
(``retry_interval``), rather than each waiting on it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .errors import AuthenticationUnavailable

logger = logging.getLogger(__name__)

# The two signatures accepted, each with the kind of key that makes it. No "none", no HS*
# (a shared secret: a public key used as one is the classic forgery), no RSA-PSS or others
# until someone needs them.
RS256 = "RS256"
ES256 = "ES256"
ALGORITHMS = (RS256, ES256)

DEFAULT_TIMEOUT = 3.0
DEFAULT_REFRESH_INTERVAL = 30.0
DEFAULT_RETRY_INTERVAL = 5.0
# Keys are fetched again this long after the last fetch, so a key the provider withdrew
# stops being accepted; a failure then keeps the keys held.
DEFAULT_MAX_AGE = 3600.0
# A key set is a few kB; anything much larger is not one.
MAX_JWKS_BYTES = 1024 * 1024

Clock = Callable[[], float]


def algorithm_of(key: object) -> str | None:
    """The accepted algorithm a public key signs with: RS256 for RSA, ES256 for P-256."""
    if isinstance(key, rsa.RSAPublicKey):
        return RS256
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return ES256
    return None


def keys_of(document: object) -> dict[str | None, tuple[str, Any]]:
    """The usable signing keys of a JWKS document, by ``kid``: ``(algorithm, public key)``.
    Keys for encryption, of other kinds or curves, or malformed, are left out."""
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JSON Web Key Set (no 'keys' list)")
    found: dict[str | None, tuple[str, Any]] = {}
    for entry in document["keys"]:
        if not isinstance(entry, Mapping) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(dict(entry)).key
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        algorithm = algorithm_of(key)
        if algorithm is None or entry.get("alg", algorithm) != algorithm:
            continue
        kid = entry.get("kid")
        found[kid if isinstance(kid, str) else None] = (algorithm, key)
    return found


def fetch_document(url: str, timeout: float) -> object:
    """The JSON at ``url``, read within about ``timeout`` seconds and ``MAX_JWKS_BYTES``."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read(64 * 1024):
            size += len(chunk)
            if size > MAX_JWKS_BYTES:
                raise ValueError(f"the key set is over {MAX_JWKS_BYTES} bytes")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the key set took over {timeout}s to arrive")
            chunks.append(chunk)
    return json.loads(b"".join(chunks))


class JwksCache:
    """The keys at ``url``, fetched when first needed. Thread-safe: one fetch at a time, and
    a request arriving during a fetch waits for it (so at most about ``timeout``)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        refresh_interval: float = DEFAULT_REFRESH_INTERVAL,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Clock = time.monotonic,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"the JWKS address must be an http(s) URL: {url!r}")
        if timeout <= 0 or refresh_interval < 0 or retry_interval < 0 or max_age <= 0:
            raise ValueError("timeout and max_age must be positive, intervals not negative")
        self.url = url
        self.timeout = timeout
        self.refresh_interval = refresh_interval
        self.retry_interval = retry_interval
        self.max_age = max_age
        self.clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str | None, tuple[str, Any]] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self.fetches = 0  # how many fetches were tried: for operators and tests

    def key(self, kid: str | None) -> tuple[str, Any] | None:
        """The key ``kid`` names (a token without one: the set's only key), or None.
        ``AuthenticationUnavailable`` when no key set could be fetched yet."""
        keys = self._keys
        now = self.clock()
        if keys is None or now - self._fetched_at > self.max_age:
            keys = self._refresh(stale=keys)
        found = _lookup(keys, kid)
        if found is None and kid not in keys:
            # A key the provider added since: fetched again, at most once an interval.
            found = _lookup(self._refresh(stale=keys), kid)
        return found

    def _refresh(self, stale: dict[str | None, tuple[str, Any]] | None) -> dict[str | None, Any]:
        with self._lock:
            now = self.clock()
            if self._keys is not stale and self._keys is not None:
                return self._keys  # fetched by another request while this one waited
            interval = self.refresh_interval if self._keys is not None else self.retry_interval
            if self._attempted_at is not None and now - self._attempted_at < interval:
                return self._held()
            self._attempted_at = now
            self.fetches += 1
            try:
                self._keys = keys_of(fetch_document(self.url, self.timeout))
                self._fetched_at = self.clock()
            except (OSError, ValueError, urllib.error.URLError) as error:
                # OSError covers timeouts and refused connections; ValueError bad JSON.
                logger.warning("Could not fetch the signing keys at %s: %s", self.url, error)
            return self._held()

    def _held(self) -> dict[str | None, Any]:
        if self._keys is None:
            raise AuthenticationUnavailable(f"no signing keys fetched from {self.url} yet")
        return self._keys


def _lookup(keys: dict[str | None, tuple[str, Any]], kid: str | None) -> tuple[str, Any] | None:
    if kid is None and len(keys) == 1:
        return next(iter(keys.values()))
    return keys.get(kid)
