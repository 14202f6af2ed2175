"""Signing in to the pages under ``/ui/`` with OpenID Connect (SPEC §16, docs/signin.md).

The authorization code flow with PKCE (S256), ``state`` and ``nonce``: ``GET /ui/signin``
sends the browser to the provider, ``GET /ui/auth/callback`` trades the code for an ID token,
checks it and sets the session cookie; ``POST /ui/signout`` ends the session. The session is
a signed cookie (sessions.py) holding a random session id, the user's id, roles and claims,
and its expiry. Signing out revokes the session id in the store (``flow.revoke_session``),
so a copy of the cookie kept from before is refused by every process serving the pages, not
only the one that answered the sign-out.
"""

from __future__ import annotations

import logging
import secrets
import urllib.parse
from datetime import datetime, timedelta
from typing import Any

import attrs
import falcon

from taskflow_core import Taskflow
from taskflow_core.domain.clock import utc

from .oidc import Provider, SignInFailed, pkce_pair
from .routing import add_route
from .sessions import MAX_VALUE_LENGTH, Signer

logger = logging.getLogger(__name__)

SESSION_COOKIE = "taskflow_session"
STATE_COOKIE = "taskflow_signin"
PAGES = "/ui"
SIGNIN_PATH = "/ui/signin"
CALLBACK_PATH = "/ui/auth/callback"
SIGNOUT_PATH = "/ui/signout"
HOME = "/ui/"
# Long enough to type a password and answer a second factor; short enough that a sign-in
# left half done is soon worthless.
SIGNIN_LIFETIME = timedelta(minutes=10)
# Where a cookie without Secure is still safe to send: this machine only (plain HTTP there
# is a developer's setup).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
# What an ID token says about itself rather than about the user: not kept in the session.
TOKEN_CLAIMS = frozenset(
    {"exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "s_hash", "jti", "auth_time", "sid"}
)
DEFAULT_ROLES_CLAIMS = ("realm_access.roles", "roles")
SIGNED_OUT_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title>'
    f'</head><body><p>You are signed out.</p><p><a href="{HOME}">Sign in again</a></p>'
    "</body></html>"
)


def local_path(value: str | None) -> str:
    """``value`` when it is a path of the pages on this server, else the inbox: the return
    address after signing in must not send the browser elsewhere (an open redirect)."""
    if not value:
        return HOME
    # Decoded until nothing changes, so that no encoding (%2F%2F, %252F...) hides a host.
    decoded, previous = value, None
    while decoded != previous:
        previous, decoded = decoded, urllib.parse.unquote(decoded)
    # Browsers drop tabs and newlines from a Location, and read a backslash as a slash.
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        return HOME
    for text in (value, decoded):
        if "\\" in text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
            return HOME
        if any(part in (".", "..") for part in urllib.parse.urlsplit(text).path.split("/")):
            return HOME
        if text.startswith("//") or not (text == PAGES or text.startswith(PAGES + "/")):
            return HOME
        parts = urllib.parse.urlsplit(text)
        if parts.scheme or parts.netloc:
            return HOME
    return value


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


class OidcSignIn:
    """The pages' sign-in with an OpenID Connect provider (docs/signin.md).

    ``issuer``: the provider's issuer URL (its discovery document is under it).
    ``client_id``, ``client_secret``: this app as registered there (no secret: a public
    client, protected by PKCE alone). ``secret``: the key signing the cookies, at least 16
    bytes, the same in every process serving the pages. ``id_claim``: the claim naming the
    user; ``roles_claim``: a dotted path to the roles (default ``realm_access.roles``, then
    ``roles``). ``redirect_uri``: the callback's full URL when the one seen from the request
    (scheme and Host as they arrive) is not what the provider has registered, e.g. behind a
    proxy that rewrites them.
    """

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str | None = None,
        secret: str | bytes,
        scopes: tuple[str, ...] = ("openid", "profile", "email"),
        id_claim: str = "sub",
        roles_claim: str | None = None,
        session_lifetime: timedelta = timedelta(hours=8),
        redirect_uri: str | None = None,
    ) -> None:
        if "openid" not in scopes:
            raise ValueError("scopes must include 'openid'")
        if session_lifetime <= timedelta(0):
            raise ValueError("session_lifetime must be positive")
        self.provider = Provider(issuer, client_id, client_secret)
        self.signer = Signer(secret)
        self.scopes = tuple(scopes)
        self.id_claim = id_claim
        self.roles_claims = (roles_claim,) if roles_claim else DEFAULT_ROLES_CLAIMS
        self.session_lifetime = session_lifetime
        self.redirect_uri = redirect_uri

    def install(self, app: falcon.App[falcon.Request, falcon.Response], flow: Taskflow) -> None:
        """Add the sign-in's routes to ``app`` and its middleware for the pages."""
        sessions = Sessions(self, flow)
        app.add_middleware(sessions)
        add_route(app, SIGNIN_PATH, SignInResource(self, flow))
        add_route(app, CALLBACK_PATH, CallbackResource(self, flow))
        add_route(app, SIGNOUT_PATH, SignOutResource(sessions, flow))

    # -- the session cookie ----------------------------------------------------------------

    def session_from_claims(self, claims: dict[str, Any], now: datetime) -> Session:
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
            expires=now + self.session_lifetime,
        )

    def cookie_value(self, session: Session) -> str:
        payload = {
            "sid": session.session_id,
            "id": session.user_id,
            "roles": session.roles,
            "claims": session.claims,
        }
        value = self.signer.dumps("session", payload, session.expires)
        if len(value) > MAX_VALUE_LENGTH:
            # A browser drops a cookie that big: keep who it is, leave the other claims.
            logger.warning("The ID token's claims do not fit in a cookie; only its id is kept")
            payload["claims"] = {self.id_claim: session.user_id}
            value = self.signer.dumps("session", payload, session.expires)
        return value

    def session_from_cookie(self, value: str | None, now: datetime) -> Session | None:
        """The session ``value`` holds, if it is one this app signed and it has not expired
        (revocation is checked by the caller, against the store)."""
        payload = self.signer.loads("session", value, now)
        if payload is None:
            return None
        sid, user_id = payload.get("sid"), payload.get("id")
        roles, claims = payload.get("roles"), payload.get("claims")
        if not (isinstance(sid, str) and isinstance(user_id, str)):
            return None
        if not (isinstance(roles, list) and isinstance(claims, dict)):
            return None
        return Session(
            sid, user_id, roles, claims, datetime.fromtimestamp(payload["exp"], now.tzinfo)
        )


def set_cookie(
    req: falcon.Request,
    resp: falcon.Response,
    name: str,
    value: str,
    *,
    path: str,
    expires: datetime,
    now: datetime,
) -> None:
    resp.set_cookie(
        name,
        value,
        max_age=max(int((expires - now).total_seconds()), 0),
        path=path,
        secure=req.host not in LOCAL_HOSTS,
        http_only=True,
        same_site="Lax",
    )


def unset_cookie(req: falcon.Request, resp: falcon.Response, name: str, *, path: str) -> None:
    resp.unset_cookie(name, path=path, same_site="Lax")


def _no_store(resp: falcon.Response) -> None:
    # Answers carrying a session or a sign-in's state are nobody's to keep.
    resp.set_header("Cache-Control", "no-store")


def _refuse(message: str, *, unauthorized: bool = False) -> falcon.HTTPError:
    if unauthorized:
        return falcon.HTTPUnauthorized(description=message)
    return falcon.HTTPBadRequest(description=message)


class Sessions:
    """Middleware: the pages under ``/ui/`` know who is signed in, or ask them to sign in.

    With a valid session cookie, ``req.context.user`` is the session's user. Without one, a
    GET (or HEAD) is sent to the sign-in with the page as its return address (303); any
    other method gets 401, since a form's submission cannot be replayed after signing in.
    The API's routes (outside ``/ui/``) are left to the host's authentication.
    """

    OPEN = frozenset({SIGNIN_PATH, CALLBACK_PATH, SIGNOUT_PATH})

    def __init__(self, signin: OidcSignIn, flow: Taskflow) -> None:
        self._signin = signin
        self._flow = flow

    def current(self, req: falcon.Request) -> Session | None:
        now = utc(self._flow.clock())
        values = req.get_cookie_values(SESSION_COOKIE) or []
        for value in values:
            session = self._signin.session_from_cookie(value, now)
            if session is not None and not self._flow.session_revoked(session.session_id):
                return session
        return None

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        path = req.path
        if not (path == PAGES or path.startswith(PAGES + "/")) or path in self.OPEN:
            return
        session = self.current(req)
        if session is not None:
            req.context.user = session.user()
            return
        if req.method in ("GET", "HEAD"):
            here = urllib.parse.quote(path, safe="/")
            if req.query_string:
                here += "?" + req.query_string
            _no_store(resp)
            raise falcon.HTTPSeeOther(f"{SIGNIN_PATH}?{urllib.parse.urlencode({'next': here})}")
        raise falcon.HTTPUnauthorized(description="Sign in first")


class SignInResource:
    """``GET /ui/signin?next=/ui/...``: off to the provider, with a fresh state, nonce and
    PKCE verifier kept in a short-lived signed cookie until the browser comes back."""

    def __init__(self, signin: OidcSignIn, flow: Taskflow) -> None:
        self._signin = signin
        self._flow = flow

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        now = utc(self._flow.clock())
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier, challenge = pkce_pair()
        redirect_uri = callback_url(self._signin, req)
        try:
            location = self._signin.provider.authorization_url(
                {
                    "response_type": "code",
                    "client_id": self._signin.provider.client_id,
                    "redirect_uri": redirect_uri,
                    "scope": " ".join(self._signin.scopes),
                    "state": state,
                    "nonce": nonce,
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                }
            )
        except SignInFailed as error:
            logger.warning("Sign-in unavailable: %s", error)
            raise falcon.HTTPServiceUnavailable(
                description="The sign-in provider cannot be reached; try again later"
            ) from None
        pending = {
            "state": state,
            "nonce": nonce,
            "verifier": verifier,
            "next": local_path(req.get_param("next")),
            "redirect_uri": redirect_uri,
        }
        expires = now + SIGNIN_LIFETIME
        value = self._signin.signer.dumps("signin", pending, expires)
        set_cookie(req, resp, STATE_COOKIE, value, path=CALLBACK_PATH, expires=expires, now=now)
        _no_store(resp)
        raise falcon.HTTPSeeOther(location)


def callback_url(signin: OidcSignIn, req: falcon.Request) -> str:
    return signin.redirect_uri or f"{req.prefix}{CALLBACK_PATH}"


class CallbackResource:
    """``GET /ui/auth/callback?code=...&state=...``: the provider sends the browser back."""

    def __init__(self, signin: OidcSignIn, flow: Taskflow) -> None:
        self._signin = signin
        self._flow = flow

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        now = utc(self._flow.clock())
        _no_store(resp)
        cookies = req.get_cookie_values(STATE_COOKIE) or []
        pending = self._signin.signer.loads("signin", next(iter(cookies), None), now)
        state = req.get_param("state") or ""
        if pending is None:
            raise _refuse(
                "This sign-in has expired or was started in another browser; sign in again"
            )
        if not secrets.compare_digest(str(pending.get("state", "")).encode(), state.encode()):
            raise _refuse("This sign-in does not match the one this browser started; sign in again")
        # A state is good for one trip back: the same callback replayed is refused here,
        # whoever replays it, before its code reaches the provider.
        used = f"signin-state:{pending['state']}"
        if self._flow.session_revoked(used):
            raise _refuse("This sign-in was already used; sign in again")
        self._flow.revoke_session(used, now + SIGNIN_LIFETIME)
        unset_cookie(req, resp, STATE_COOKIE, path=CALLBACK_PATH)
        if req.get_param("error"):
            logger.info("The provider refused a sign-in: %s", req.get_param("error"))
            raise _refuse("The sign-in was refused", unauthorized=True)
        code = req.get_param("code")
        if not code:
            raise _refuse("The provider sent no authorization code")
        try:
            tokens = self._signin.provider.exchange(
                code, str(pending["redirect_uri"]), str(pending["verifier"])
            )
            id_token = tokens.get("id_token")
            if not isinstance(id_token, str):
                raise SignInFailed("the token answer holds no id_token")
            claims = self._signin.provider.verify_id_token(id_token, str(pending["nonce"]))
            session = self._signin.session_from_claims(claims, now)
        except SignInFailed as error:
            logger.warning("Sign-in failed: %s", error)
            raise _refuse("Signing in failed; try again", unauthorized=True) from None
        set_cookie(
            req,
            resp,
            SESSION_COOKIE,
            self._signin.cookie_value(session),
            path=PAGES,
            expires=session.expires,
            now=now,
        )
        raise falcon.HTTPSeeOther(local_path(str(pending.get("next", HOME))))


class SignOutResource:
    """``POST /ui/signout``: the session ends here and everywhere its cookie was copied."""

    def __init__(self, sessions: Sessions, flow: Taskflow) -> None:
        self._sessions = sessions
        self._flow = flow

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        # Only with the session's own cookie: a cross-site form cannot send it (SameSite),
        # so another site cannot sign anyone out.
        session = self._sessions.current(req)
        if session is None:
            raise falcon.HTTPUnauthorized(description="Not signed in")
        self._flow.revoke_session(session.session_id, session.expires)
        unset_cookie(req, resp, SESSION_COOKIE, path=PAGES)
        _no_store(resp)
        # A page, not a trip to the sign-in: the provider's own session would sign the
        # browser straight back in.
        resp.content_type = falcon.MEDIA_HTML
        resp.text = SIGNED_OUT_PAGE
