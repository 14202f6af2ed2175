"""The pages' OpenID Connect sign-in, from ``TASKFLOW_OIDC_*`` and its neighbours.

``TASKFLOW_OIDC_CLIENT_ID`` turns it on; it then needs ``TASKFLOW_JWT_ISSUER`` (the provider)
and ``TASKFLOW_SESSION_SECRET`` (the cookies' key: generated here, it would differ between
workers and machines and sign everyone out at each restart, so it must be given).
``TASKFLOW_OIDC_CLIENT_SECRET`` is optional: without it, a public client with PKCE.
"""

from __future__ import annotations

import os

from taskflow_falcon.sessions import MIN_SECRET_LENGTH
from taskflow_falcon.signin import OidcSignIn

from .environment import (
    JWT_ISSUER_ENV,
    OIDC_CLIENT_ID_ENV,
    OIDC_CLIENT_SECRET_ENV,
    SESSION_SECRET_ENV,
)


class SignInMisconfigured(ValueError):
    """The sign-in's variables are incomplete; the message names what is missing."""


def signin_from_env() -> OidcSignIn | None:
    """The sign-in the environment configures, or None when it names no client."""
    client_id = os.environ.get(OIDC_CLIENT_ID_ENV) or None
    if client_id is None:
        return None
    issuer = os.environ.get(JWT_ISSUER_ENV) or None
    secret = os.environ.get(SESSION_SECRET_ENV) or None
    if issuer is None:
        raise SignInMisconfigured(
            f"the pages' sign-in ({OIDC_CLIENT_ID_ENV}, --oidc-client-id) needs the provider's "
            f"issuer URL: --jwt-issuer or {JWT_ISSUER_ENV}"
        )
    if secret is None or len(secret.encode()) < MIN_SECRET_LENGTH:
        raise SignInMisconfigured(
            f"the pages' sign-in needs a session secret of at least {MIN_SECRET_LENGTH} bytes, "
            f"the same for every worker: --session-secret or {SESSION_SECRET_ENV} (for "
            'example: python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    return OidcSignIn(
        issuer=issuer,
        client_id=client_id,
        client_secret=os.environ.get(OIDC_CLIENT_SECRET_ENV) or None,
        secret=secret,
    )
