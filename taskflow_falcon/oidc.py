"""Talking to an OpenID Connect provider: discovery, the code exchange, the ID token check.

The provider is found from ``{issuer}/.well-known/openid-configuration`` (read once, on the
first sign-in, then kept); its keys come from the ``jwks_uri`` there, through PyJWT's
``PyJWKClient``, which keeps them and reads them again when a token names an unknown key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

import jwt

logger = logging.getLogger(__name__)

# Signature algorithms accepted on ID tokens: never "none", never HMAC (a provider's public
# key must not double as a shared secret).
ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 60
TIMEOUT_SECONDS = 10
# A provider's answers are small; a larger one is refused rather than read into memory.
MAX_ANSWER_BYTES = 1_000_000


class SignInFailed(Exception):
    """The provider refused, could not be reached, or sent something that does not check
    out. The message is for the log; the browser gets a generic answer."""


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _read_json(request: urllib.request.Request) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            raw = response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as error:
        # The provider's error code (invalid_grant...) helps the operator; nothing else of
        # the exchange is logged (the code and tokens are credentials).
        detail = error.read(2000).decode("utf-8", "replace")
        raise SignInFailed(f"{request.full_url} answered {error.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        raise SignInFailed(f"{request.full_url} unreachable: {error}") from None
    if len(raw) > MAX_ANSWER_BYTES:
        raise SignInFailed(f"{request.full_url} answered more than {MAX_ANSWER_BYTES} bytes")
    try:
        answer = json.loads(raw)
    except ValueError:
        raise SignInFailed(f"{request.full_url} answered something that is not JSON") from None
    if not isinstance(answer, dict):
        raise SignInFailed(f"{request.full_url} answered JSON that is not an object")
    return answer


class Provider:
    """One OpenID Connect provider, as one client of it sees it."""

    def __init__(self, issuer: str, client_id: str, client_secret: str | None) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: jwt.PyJWKClient | None = None

    def metadata(self) -> dict[str, Any]:
        with self._lock:
            if self._metadata is None:
                url = f"{self.issuer}/.well-known/openid-configuration"
                metadata = _read_json(urllib.request.Request(url))
                # OpenID Connect Discovery 1.0 §4.3: the issuer it names must be ours.
                if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
                    raise SignInFailed(f"{url} names another issuer: {metadata.get('issuer')}")
                for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(metadata.get(field), str):
                        raise SignInFailed(f"{url} names no {field}")
                self._metadata = metadata
                self._keys = jwt.PyJWKClient(metadata["jwks_uri"], timeout=TIMEOUT_SECONDS)
            return self._metadata

    def authorization_url(self, params: Mapping[str, str]) -> str:
        endpoint = str(self.metadata()["authorization_endpoint"])
        separator = "&" if "?" in endpoint else "?"
        return endpoint + separator + urllib.parse.urlencode(params)

    def exchange(self, code: str, redirect_uri: str, verifier: str) -> dict[str, Any]:
        """Trade an authorization code for the provider's tokens (RFC 6749 §4.1.3)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
            "client_id": self.client_id,
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        if self._client_secret is not None:
            # client_secret_basic, the method every provider supports (RFC 6749 §2.3.1).
            pair = ":".join(
                urllib.parse.quote(part, safe="") for part in (self.client_id, self._client_secret)
            )
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        request = urllib.request.Request(
            str(self.metadata()["token_endpoint"]),
            data=urllib.parse.urlencode(form).encode("ascii"),
            headers=headers,
            method="POST",
        )
        return _read_json(request)

    def verify_id_token(self, token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once its signature, issuer, audience, expiry and nonce
        check out (OpenID Connect Core 1.0 §3.1.3.7)."""
        self.metadata()
        assert self._keys is not None
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=list(ALGORITHMS),
                audience=self.client_id,
                issuer=str(self.metadata()["issuer"]),
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise SignInFailed(f"ID token refused: {type(error).__name__}: {error}") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise SignInFailed("ID token refused: several audiences and another azp")
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SignInFailed("ID token refused: wrong nonce")
        return claims
