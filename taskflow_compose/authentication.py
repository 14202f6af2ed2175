"""From configuration to an authenticator (docs/access.md): ``taskflow serve --auth`` and the
``TASKFLOW_AUTH*`` variables, read the same way by ``serve`` (to refuse a bad setting before
any worker starts) and by each worker's ``get_app()``."""

from __future__ import annotations

import os

import attrs

from taskflow_falcon.auth import Authenticator, JwtBearer, TrustedHeaders

from .environment import (
    AUTH_ENV,
    AUTH_ROLES_HEADER_ENV,
    AUTH_USER_HEADER_ENV,
    JWT_AUDIENCE_ENV,
    JWT_ID_CLAIM_ENV,
    JWT_ISSUER_ENV,
    JWT_JWKS_ENV,
    JWT_ROLES_CLAIM_ENV,
)

AUTH_MODES = ("jwt", "headers", "none")
DEFAULT_USER_HEADER = "X-Forwarded-User"
DEFAULT_ROLES_HEADER = "X-Forwarded-Groups"


@attrs.frozen
class AuthSettings:
    """What ``--auth`` and its options (or the variables) say."""

    mode: str = "none"
    jwks: str | None = None
    audience: str | None = None
    issuer: str | None = None
    id_claim: str | None = None
    roles_claim: str | None = None
    user_header: str | None = None
    roles_header: str | None = None

    def authenticator(self) -> Authenticator | None:
        """The authenticator these settings name, None for ``none``. ValueError, saying what
        is missing, for settings that cannot work."""
        if self.mode == "none":
            return None
        if self.mode == "headers":
            return TrustedHeaders(
                user=self.user_header or DEFAULT_USER_HEADER,
                roles=DEFAULT_ROLES_HEADER if self.roles_header is None else self.roles_header,
            )
        if self.mode != "jwt":
            raise ValueError(f"--auth is one of {', '.join(AUTH_MODES)}, not {self.mode!r}")
        if not self.jwks:
            raise ValueError(f"--auth jwt needs --jwt-jwks URL (or {JWT_JWKS_ENV})")
        # Without an audience, a token the provider made for any other service would do.
        if not self.audience:
            raise ValueError(f"--auth jwt needs --jwt-audience (or {JWT_AUDIENCE_ENV})")
        return JwtBearer(
            jwks=self.jwks,
            audience=self.audience,
            issuer=self.issuer or None,
            id_claim=self.id_claim or "sub",
            roles_claim=self.roles_claim or None,
        )

    def environment(self) -> dict[str, str]:
        """The variables that say the same, for ``serve``'s workers."""
        values = {
            AUTH_ENV: self.mode,
            JWT_JWKS_ENV: self.jwks,
            JWT_AUDIENCE_ENV: self.audience,
            JWT_ISSUER_ENV: self.issuer,
            JWT_ID_CLAIM_ENV: self.id_claim,
            JWT_ROLES_CLAIM_ENV: self.roles_claim,
            AUTH_USER_HEADER_ENV: self.user_header,
            AUTH_ROLES_HEADER_ENV: self.roles_header,
        }
        return {name: value for name, value in values.items() if value is not None}


def auth_settings_from_env() -> AuthSettings:
    """The settings the ``TASKFLOW_AUTH*`` variables give (``none`` when unset)."""

    def get(name: str) -> str | None:
        return os.environ.get(name) or None

    return AuthSettings(
        mode=(get(AUTH_ENV) or "none").strip().lower(),
        jwks=get(JWT_JWKS_ENV),
        audience=get(JWT_AUDIENCE_ENV),
        issuer=get(JWT_ISSUER_ENV),
        id_claim=get(JWT_ID_CLAIM_ENV),
        roles_claim=get(JWT_ROLES_CLAIM_ENV),
        user_header=get(AUTH_USER_HEADER_ENV),
        roles_header=os.environ.get(AUTH_ROLES_HEADER_ENV),
    )


def authenticator_from_env() -> Authenticator | None:
    """The authenticator ``TASKFLOW_AUTH`` names; ValueError for settings that cannot work."""
    return auth_settings_from_env().authenticator()
