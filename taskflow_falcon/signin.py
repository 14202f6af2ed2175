"""Signing in to the pages under ``/ui/`` with OpenID Connect (SPEC §16, docs/signin.md).

The authorization code flow with PKCE (S256), ``state`` and ``nonce``: ``GET /ui/signin``
sends the browser to the provider, ``GET /ui/auth/callback`` trades the code for an ID token,
checks it and sets the session cookie; ``POST /ui/signout`` ends the session. The session is
a signed cookie (signed_in.py) holding a random session id, the user's id, roles and claims,
and its expiry. Signing out revokes the session id in the store (``flow.revoke_session``),
so a copy of the cookie kept from before is refused by every process serving the pages, not
only the one that answered the sign-out.
"""

from __future__ import annotations

import logging
import secrets
import urllib.parse
from datetime import datetime, timedelta

import falcon

from taskflow_core import Taskflow
from taskflow_core.domain.clock import utc

from .oidc import Provider, SignInFailed, pkce_pair
from .return_paths import HOME, PAGES, local_path
from .routing import add_route
from .sessions import Signer
from .signed_in import DEFAULT_ROLES_CLAIMS, Session, SessionCookies

logger = logging.getLogger(__name__)

SESSION_COOKIE = "taskflow_session"
STATE_COOKIE = "taskflow_signin"
SIGNIN_PATH = "/ui/signin"
CALLBACK_PATH = "/ui/auth/callback"
SIGNOUT_PATH = "/ui/signout"
# Long enough to type a password and answer a second factor; short enough that a sign-in
# left half done is soon worthless.
SIGNIN_LIFETIME = timedelta(minutes=10)
# Where a cookie without Secure is still safe to send: this machine only (plain HTTP there
# is a developer's setup).
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
# The callback's query parameters that are credentials: kept out of the access log.
CALLBACK_SECRETS = frozenset({"code", "state", "session_state"})
SIGNED_OUT_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out</title>'
    f'</head><body><p>You are signed out.</p><p><a href="{HOME}">Sign in again</a></p>'
    "</body></html>"
)


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
        roles_claims = (roles_claim,) if roles_claim else DEFAULT_ROLES_CLAIMS
        self.sessions = SessionCookies(self.signer, id_claim, roles_claims, session_lifetime)
        self.redirect_uri = redirect_uri

    def install(self, app: falcon.App[falcon.Request, falcon.Response], flow: Taskflow) -> None:
        """Add the sign-in's routes to ``app`` and its middleware for the pages (after the
        app's others; ``create_app(signin=)`` puts it before its authentication instead)."""
        sessions = self.middleware(flow)
        app.add_middleware(sessions)
        self.add_routes(app, sessions, flow)

    def middleware(self, flow: Taskflow) -> Sessions:
        """The middleware that signs the pages' requests in from their session cookie."""
        return Sessions(self, flow)

    def add_routes(
        self, app: falcon.App[falcon.Request, falcon.Response], sessions: Sessions, flow: Taskflow
    ) -> None:
        """The routes of signing in, its callback and signing out."""
        add_route(app, SIGNIN_PATH, SignInResource(self, flow))
        add_route(app, CALLBACK_PATH, CallbackResource(self, flow))
        add_route(app, SIGNOUT_PATH, SignOutResource(sessions, flow))


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
            session = self._signin.sessions.read(value, now)
            if session is not None and not self._flow.session_revoked(session.session_id):
                return session
        return None

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        path = req.path
        if path == CALLBACK_PATH:
            req.context.secret_query = CALLBACK_SECRETS
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
            # The provider's error code, cut short: it arrives in a URL anyone can send.
            logger.info("The provider refused a sign-in: %.100r", req.get_param("error"))
            raise _refuse("The sign-in was refused", unauthorized=True)
        # RFC 9207: a provider that names itself in the response must be ours (a code from
        # another provider, mixed up with this one's, is never sent to this one).
        issuer = req.get_param("iss")
        if issuer is not None and issuer.rstrip("/") != self._signin.provider.issuer:
            raise _refuse("The sign-in came back from another provider")
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
            session = self._signin.sessions.from_claims(claims, now)
        except SignInFailed as error:
            logger.warning("Sign-in failed: %s", error)
            raise _refuse("Signing in failed; try again", unauthorized=True) from None
        set_cookie(
            req,
            resp,
            SESSION_COOKIE,
            self._signin.sessions.value(session),
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
