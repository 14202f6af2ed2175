"""Who is signed in to the pages: the session made from an ID token, and its cookie."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

import attrs

from .oidc import SignInFailed
from .sessions import MAX_VALUE_LENGTH, Signer

logger = logging.getLogger(__name__)

# What an ID token says about itself rather than about the user: not kept in the session.
TOKEN_CLAIMS = frozenset(
    {"exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "s_hash", "jti", "auth_time", "sid"}
)
# Keycloak's realm roles, then a plain "roles" claim: where JwtBearer looks too (SPEC §16).
DEFAULT_ROLES_CLAIMS = ("realm_access.roles", "roles")
PURPOSE = "session"


def _claim(claims: dict[str, Any], dotted: str) -> Any:
    value: Any = claims
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


@attrs.frozen
class Session:
    """Who is signed in, as the session cookie says."""

    session_id: str
    user_id: str
    roles: list[str]
    claims: dict[str, Any]
    expires: datetime

    def user(self) -> dict[str, Any]:
        """``req.context.user``, shaped as the authenticators shape it (SPEC §16)."""
        return {"profile": {"id": self.user_id}, "roles": list(self.roles), "claims": self.claims}


@attrs.frozen
class SessionCookies:
    """Sessions made from verified ID token claims, written to and read from cookies."""

    signer: Signer
    id_claim: str
    roles_claims: tuple[str, ...]
    lifetime: timedelta

    def from_claims(self, claims: dict[str, Any], now: datetime) -> Session:
        user_id = claims.get(self.id_claim)
        if isinstance(user_id, int | float) and not isinstance(user_id, bool):
            user_id = str(user_id)
        if not isinstance(user_id, str) or not user_id:
            raise SignInFailed(f"the ID token has no {self.id_claim!r} claim naming the user")
        roles: list[str] = []
        for path in self.roles_claims:
            found = _claim(claims, path)
            if isinstance(found, list):
                roles = [role for role in found if isinstance(role, str)]
                break
        kept = {name: value for name, value in claims.items() if name not in TOKEN_CLAIMS}
        return Session(
            session_id=secrets.token_urlsafe(24),
            user_id=user_id,
            roles=roles,
            claims=kept,
            expires=now + self.lifetime,
        )

    def value(self, session: Session) -> str:
        payload = {
            "sid": session.session_id,
            "id": session.user_id,
            "roles": session.roles,
            "claims": session.claims,
        }
        value = self.signer.dumps(PURPOSE, payload, session.expires)
        if len(value) > MAX_VALUE_LENGTH:
            # A browser drops a cookie that big: keep who it is, leave the other claims.
            logger.warning("The ID token's claims do not fit in a cookie; only its id is kept")
            payload["claims"] = {self.id_claim: session.user_id}
            value = self.signer.dumps(PURPOSE, payload, session.expires)
        return value

    def read(self, value: str | None, now: datetime) -> Session | None:
        """The session ``value`` holds, if it is one this app signed and it has not expired
        (revocation is checked by the caller, against the store)."""
        payload = self.signer.loads(PURPOSE, value, now)
        if payload is None:
            return None
        sid, user_id = payload.get("sid"), payload.get("id")
        roles, claims = payload.get("roles"), payload.get("claims")
        if not (isinstance(sid, str) and isinstance(user_id, str)):
            return None
        if not (isinstance(roles, list) and isinstance(claims, dict)):
            return None
        expires = datetime.fromtimestamp(payload["exp"], now.tzinfo)
        return Session(sid, user_id, roles, claims, expires)
