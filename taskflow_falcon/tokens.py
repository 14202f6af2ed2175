"""Reading a compact JWT (RFC 7519) and checking it: the header a key is chosen by, the
signature (PyJWT's RS256 and ES256 verifiers, on ``cryptography``), and the registered
claims (``exp`` required, ``nbf``, ``iat``, ``aud``, ``iss``).

Why not ``jwt.decode``: it is correct but checks every character of a token in a Python
loop, twice over with the header read first, which made verification cost about five times
the signature itself (benchmarks/auth.py). The parts done here are few and each is tested
as an attack (tests/integration/test_http_auth.py); the cryptography stays PyJWT's.
Every failure is one exception, ``BadToken``, with no detail the caller could leak.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Collection, Mapping
from typing import Any

import jwt

# Three base64url segments, no padding: anything else is not a compact JWS.
_COMPACT = re.compile(r"([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)")


class BadToken(Exception):
    """The token is malformed, wrongly signed or not valid now; never says which."""


def _segment(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadToken() from None


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        found = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadToken() from None
    if not isinstance(found, dict):
        raise BadToken()
    return found


class Token:
    """A compact JWT split into its parts; nothing is trusted until ``verify``."""

    __slots__ = ("_signature", "header", "payload", "signing_input")

    def __init__(self, text: str) -> None:
        parts = _COMPACT.fullmatch(text)
        if parts is None:
            raise BadToken()
        self.header = _json_object(_segment(parts[1]))
        # RFC 7515 §4.1.11: a token naming extensions we do not implement is refused.
        if "crit" in self.header:
            raise BadToken()
        self.signing_input = f"{parts[1]}.{parts[2]}".encode("ascii")
        self.payload = parts[2]
        self._signature = _segment(parts[3])

    @property
    def algorithm(self) -> Any:
        return self.header.get("alg")

    @property
    def kid(self) -> Any:
        return self.header.get("kid")

    def verify(
        self,
        key: Any,
        algorithm: str,
        *,
        audience: Collection[str] | None,
        issuer: str | None,
        leeway: float,
        now: float,
    ) -> dict[str, Any]:
        """The claims, once the signature is ``key``'s under ``algorithm`` (which must be
        the header's) and the claims hold at ``now`` (seconds since the epoch)."""
        if self.algorithm != algorithm:
            raise BadToken()
        verifier = jwt.get_algorithm_by_name(algorithm)
        if not verifier.verify(self.signing_input, key, self._signature):
            raise BadToken()
        return claims_of(self.payload, audience=audience, issuer=issuer, leeway=leeway, now=now)


def claims_of(
    payload: str,
    *,
    audience: Collection[str] | None,
    issuer: str | None,
    leeway: float,
    now: float,
) -> dict[str, Any]:
    """The claims of a payload segment whose signature was checked, once they hold at
    ``now`` (``check_claims``)."""
    claims = _json_object(_segment(payload))
    check_claims(claims, audience=audience, issuer=issuer, leeway=leeway, now=now)
    return claims


def _number(claims: Mapping[str, Any], name: str, *, required: bool = False) -> float | None:
    value = claims.get(name)
    if value is None:
        if required or name in claims:
            raise BadToken()
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadToken()
    return float(value)


def check_claims(
    claims: Mapping[str, Any],
    *,
    audience: Collection[str] | None,
    issuer: str | None,
    leeway: float,
    now: float,
) -> None:
    """``exp`` (required) not passed and ``nbf`` reached, each give or take ``leeway``;
    ``iat`` a number when given; ``aud`` naming one of ``audience`` and ``iss`` equal to
    ``issuer``, each when given."""
    expires = _number(claims, "exp", required=True)
    if expires is not None and expires <= now - leeway:
        raise BadToken()
    not_before = _number(claims, "nbf")
    if not_before is not None and not_before > now + leeway:
        raise BadToken()
    _number(claims, "iat")
    if audience is not None:
        named = claims.get("aud")
        names = [named] if isinstance(named, str) else named
        if not isinstance(names, list) or not any(
            isinstance(name, str) and name in audience for name in names
        ):
            raise BadToken()
    if issuer is not None and claims.get("iss") != issuer:
        raise BadToken()
