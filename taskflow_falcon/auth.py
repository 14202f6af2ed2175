"""Who is asking (SPEC §16, docs/access.md): authenticators, and the one middleware that runs
the configured one, ``create_app(flow, authenticate=...)``.

An authenticator turns a request into the user ``req.context.user`` holds for the rest of
it: ``{"profile": {"id": ...}, "roles": [...], "claims": {...}}``, or raises
``Unauthenticated`` (401, ``WWW-Authenticate``, no detail of why) or
``AuthenticationUnavailable`` (503: what it needs is away). Two come with taskflow:

- ``JwtBearer``: an ``Authorization: Bearer`` token signed by an identity provider (RS256
  or ES256), verified with the provider's keys (a JWKS URL, or a key given).
- ``TrustedHeaders``: the user and roles an authenticating proxy in front (oauth2-proxy, a
  gateway) put in request headers. Only safe when that proxy strips those headers from what
  clients send: otherwise anyone can name themselves.

Nothing of a credential is logged, told to the client or kept on the user: the user holds
the token's claims, never the token.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import falcon

from .errors import Unauthenticated
from .jwks import (
    ALGORITHMS,
    DEFAULT_MAX_AGE,
    DEFAULT_REFRESH_INTERVAL,
    DEFAULT_RETRY_INTERVAL,
    DEFAULT_TIMEOUT,
    JwksCache,
    algorithm_of,
)
from .tokens import BadToken, Token, claims_of
from .verified import DEFAULT_SIZE, Verified, VerifiedTokens, digest

__all__ = [
    "EXEMPT_PATHS",
    "Authentication",
    "Authenticator",
    "JwtBearer",
    "TrustedHeaders",
    "user_from_claims",
]

# Answered without authentication: load balancers and orchestrators call the first two; the
# last two describe the API, which is the same for every deployment and holds no case.
# /metrics too: Prometheus scrapes without a token, and no series names a case, a user or any
# text of a request (SPEC §17); keep it off the public network as docs/operating.md says.
EXEMPT_PATHS = frozenset({"/_health", "/_ready", "/openapi.json", "/docs", "/metrics"})
# Whole folders answered without authentication: the reference page's own files.
EXEMPT_FOLDERS = ("/docs/assets/",)
# The pages' folder, left to their sign-in when there is one (taskflow_falcon/signin.py).
PAGES_FOLDER = "/ui"
# Leeway on exp and nbf, for clocks a little apart.
DEFAULT_LEEWAY = 60.0
# Tokens of real providers are one to a few kB; a longer one is refused before parsing.
MAX_TOKEN_LENGTH = 16 * 1024
# The roles claims looked at when none is named: Keycloak's realm roles, then a plain list.
DEFAULT_ROLES_CLAIMS = ("realm_access.roles", "roles")
# What a user id from a header may be: printable, no spaces at its ends, bounded.
_HEADER_ID = re.compile(r"[^\x00-\x20\x7f](?:[^\x00-\x1f\x7f]{0,254}[^\x00-\x20\x7f])?")
_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9_.~+/=-]+) *")


@runtime_checkable
class Authenticator(Protocol):
    """What ``create_app(authenticate=...)`` takes."""

    #: The ``WWW-Authenticate`` challenge of a 401.
    challenge: str

    def authenticate(self, req: falcon.Request) -> dict[str, Any]:
        """The request's user; ``Unauthenticated`` or ``AuthenticationUnavailable``."""
        ...


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The claim at a dotted ``path`` (``realm_access.roles``), None when absent. A claim
    whose own name holds the dots is found too (``https://example.com/roles``)."""
    if path in claims:
        return claims[path]
    found: Any = claims
    for part in path.split("."):
        if not isinstance(found, Mapping) or part not in found:
            return None
        found = found[part]
    return found


def _roles(value: Any) -> list[str] | None:
    if isinstance(value, list | tuple):
        return [role for role in value if isinstance(role, str)]
    return None


def user_from_claims(
    claims: Mapping[str, Any], id_claim: str = "sub", roles_claim: str | None = None
) -> dict[str, Any]:
    """The user of verified ``claims``; ``Unauthenticated`` without a usable id."""
    found = claim_at(claims, id_claim)
    if isinstance(found, bool) or not isinstance(found, str | int) or found == "":
        raise Unauthenticated()
    roles: list[str] = []
    for path in (roles_claim,) if roles_claim is not None else DEFAULT_ROLES_CLAIMS:
        named = _roles(claim_at(claims, path))
        if named is not None:
            roles = named
            break
    return {"profile": {"id": str(found)}, "roles": roles, "claims": dict(claims)}


class JwtBearer:
    """Users from ``Authorization: Bearer <JWT>``, signed RS256 or ES256.

    ``jwks``: the provider's JWKS URL (Keycloak's is
    ``<issuer>/protocol/openid-connect/certs``), fetched when first needed, cached, fetched
    again when a token names a key it does not hold (at most once per ``refresh_interval``
    seconds) and after ``max_age`` seconds; each fetch bounded by ``timeout`` seconds (a
    provider that does not answer: 503). Or ``key``: one public key (a ``cryptography`` key,
    or PEM text). ``audience`` (one or several) and ``issuer``, when given, must match the
    token's ``aud`` and ``iss``; without ``audience``, a token naming one is still accepted.
    ``exp`` is required, and it and ``nbf`` are checked with ``leeway`` seconds (60).
    ``profile.id`` is the ``id_claim`` claim (``sub``); roles come from ``roles_claim`` (a
    dotted path; default ``realm_access.roles``, then ``roles``).

    ``token_cache``: how many verified tokens to remember (10,000; 0: none), so a token
    seen again skips its signature check, the bulk of the cost; its claims are checked
    again every time, and its key must still be the one held (``verified.py``).
    """

    challenge = "Bearer"

    def __init__(
        self,
        *,
        jwks: str | None = None,
        key: Any = None,
        audience: str | Iterable[str] | None = None,
        issuer: str | None = None,
        id_claim: str = "sub",
        roles_claim: str | None = None,
        leeway: float = DEFAULT_LEEWAY,
        timeout: float = DEFAULT_TIMEOUT,
        refresh_interval: float = DEFAULT_REFRESH_INTERVAL,
        retry_interval: float = DEFAULT_RETRY_INTERVAL,
        max_age: float = DEFAULT_MAX_AGE,
        token_cache: int = DEFAULT_SIZE,
    ) -> None:
        if (jwks is None) == (key is None):
            raise ValueError("JwtBearer takes exactly one of jwks= (a URL) or key=")
        if not isinstance(id_claim, str) or not id_claim:
            raise ValueError("id_claim names a claim")
        self.keys = (
            None
            if jwks is None
            else JwksCache(
                jwks,
                timeout=timeout,
                refresh_interval=refresh_interval,
                retry_interval=retry_interval,
                max_age=max_age,
            )
        )
        self._key = None if key is None else _public_key(key)
        self.audience: frozenset[str] | None = None
        if audience is not None:
            names = [audience] if isinstance(audience, str) else list(audience)
            if not names or not all(isinstance(a, str) and a for a in names):
                raise ValueError("audience is a string or a list of strings")
            self.audience = frozenset(names)
        self.issuer = issuer
        self.id_claim = id_claim
        self.roles_claim = roles_claim
        self.leeway = leeway
        if isinstance(token_cache, bool) or not isinstance(token_cache, int) or token_cache < 0:
            raise ValueError("token_cache is a number of tokens, 0 for none")
        self.verified = VerifiedTokens(token_cache) if token_cache else None
        self.clock = time.time  # seconds since the epoch that exp and nbf are checked at

    def authenticate(self, req: falcon.Request) -> dict[str, Any]:
        text = bearer_token(req)
        try:
            claims = self._claims(text, self.clock())
        except BadToken:
            raise Unauthenticated() from None
        return user_from_claims(claims, self.id_claim, self.roles_claim)

    def _claims(self, text: str, now: float) -> dict[str, Any]:
        """The claims of a token that holds at ``now``; ``BadToken`` otherwise."""
        cache, key = self.verified, b""
        if cache is not None:
            key = digest(text)
            seen = cache.get(key)
            # Only while the key set holds the very key that verified it: a refresh that
            # withdrew or replaced the key ends the entry (a replaced one is verified anew).
            if seen is not None and self._key_for(seen.kid) is seen.found:
                try:
                    return claims_of(
                        seen.payload,
                        audience=self.audience,
                        issuer=self.issuer,
                        leeway=self.leeway,
                        now=now,
                    )
                except BadToken:
                    cache.drop(key)  # expired: it will not be good again
                    raise
        token = Token(text)
        algorithm, kid = token.algorithm, token.kid
        if algorithm not in ALGORITHMS or not (kid is None or isinstance(kid, str)):
            raise BadToken()
        found = self._key_for(kid)
        # The token's alg must be the one its key signs with (RSA: RS256, P-256:
        # ES256): never "none", and never a public key used as an HMAC secret.
        if found is None or found[0] != algorithm:
            raise BadToken()
        claims = token.verify(
            found[1],
            algorithm,
            audience=self.audience,
            issuer=self.issuer,
            leeway=self.leeway,
            now=now,
        )
        if cache is not None:
            cache.put(key, Verified(found, kid, token.payload))
        return claims

    def _key_for(self, kid: str | None) -> tuple[str, Any] | None:
        return self._key if self.keys is None else self.keys.key(kid)


def bearer_token(req: falcon.Request) -> str:
    """The token of ``Authorization: Bearer <token>``; ``Unauthenticated`` without one."""
    given = req.get_header("Authorization")
    if not given or len(given) > MAX_TOKEN_LENGTH:
        raise Unauthenticated()
    found = _BEARER.fullmatch(given)
    if found is None:
        raise Unauthenticated()
    return found[1]


def _public_key(key: Any) -> tuple[str, Any]:
    """``key=``'s algorithm and public key: a ``cryptography`` key (a private one gives its
    public half) or PEM text."""
    if isinstance(key, str | bytes):
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        key = load_pem_public_key(key.encode() if isinstance(key, str) else key)
    if hasattr(key, "public_key") and algorithm_of(key) is None:
        key = key.public_key()
    algorithm = algorithm_of(key)
    if algorithm is None:
        raise ValueError("key= takes an RSA or P-256 public key (or PEM text of one)")
    return algorithm, key


class TrustedHeaders:
    """Users named by an authenticating proxy in front, in request headers: ``user`` holds
    the id, ``roles`` (optional) the roles, comma-separated (oauth2-proxy's
    ``X-Forwarded-User`` and ``X-Forwarded-Groups``). A request without the user header is
    401.

    Only safe when every request reaches the service through that proxy and the proxy
    removes these headers from what clients send: anyone who can reach the service directly,
    or through a proxy that passes them on, can name any user (docs/access.md).
    """

    challenge = "Bearer"

    def __init__(
        self, user: str = "X-Forwarded-User", roles: str | None = "X-Forwarded-Groups"
    ) -> None:
        if not user:
            raise ValueError("TrustedHeaders needs the name of the user header")
        self.user_header = user
        self.roles_header = roles or None

    def authenticate(self, req: falcon.Request) -> dict[str, Any]:
        given = req.get_header(self.user_header)
        if not given or not _HEADER_ID.fullmatch(given):
            raise Unauthenticated()
        roles_text = req.get_header(self.roles_header) if self.roles_header else None
        roles = [r.strip() for r in (roles_text or "").split(",") if r.strip()]
        return {"profile": {"id": given}, "roles": roles, "claims": {}}


class Authentication:
    """Falcon middleware: runs ``authenticator`` on every request but those to
    ``EXEMPT_PATHS``, and puts its user in ``req.context.user``.

    A request whose ``req.context.user`` an earlier middleware has set already (a browser
    session, say) is left as it is: installed after the host's middleware, this is the seam
    through which pages signed in another way reach the same rules.
    """

    def __init__(
        self,
        authenticator: Authenticator,
        exempt: Iterable[str] = EXEMPT_PATHS,
        *,
        pages_signed_in: bool = False,
    ):
        if not isinstance(authenticator, Authenticator):
            raise TypeError("authenticate= takes an authenticator (JwtBearer, TrustedHeaders)")
        self.authenticator = authenticator
        self.exempt = frozenset(exempt)
        # With a sign-in for the pages, /ui is theirs: a browser sends no bearer token, and
        # the sign-in's session (or its redirect to the provider) decides there.
        self.folders = (*EXEMPT_FOLDERS, *((PAGES_FOLDER + "/",) if pages_signed_in else ()))
        self.pages = PAGES_FOLDER if pages_signed_in else None

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        path = req.path
        if (
            path in self.exempt
            or path == self.pages
            or path.startswith(self.folders)
            or getattr(req.context, "user", None) is not None
        ):
            return
        try:
            req.context.user = self.authenticator.authenticate(req)
        except Unauthenticated as refused:
            # Every authenticator's refusal carries the configured challenge.
            refused.challenge = self.authenticator.challenge
            raise
