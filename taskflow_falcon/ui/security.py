"""The pages' defences: a token against cross-site form posts, and the headers every page
carries.

The token is a double submit tied to a signed cookie: the browser holds a random value in a
``SameSite=Lax`` cookie only this app's pages set, and every form carries the HMAC of that
value under the app's secret. A POST counts only when the two agree. Another site can make a
browser post to us, but cannot read our cookie to compute the token, and (with ``Lax``) the
browser does not even send the cookie on its cross-site POST. The HMAC, rather than the bare
value, keeps a cookie planted by a neighbouring subdomain from being enough.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import falcon

from taskflow_core.errors import Forbidden

COOKIE = "taskflow_csrf"
FIELD = "csrf_token"
# Every page answer carries these. No script runs at all (the pages need none), forms post
# only here, and no other site may frame a page to trick a click.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class CrossSiteRequest(Forbidden):
    """A form post without a token matching the browser's cookie: answered 403, nothing
    changed."""

    def __init__(self) -> None:
        super().__init__(
            "The form was not sent from this site's own page (or the page is too old); "
            "open the page again and retry"
        )


class Csrf:
    """Issues and checks the token; ``secret`` is the app's (shared by every worker that
    serves the same pages, or a token from one is refused by the next)."""

    def __init__(self, secret: bytes, *, path: str) -> None:
        if len(secret) < 16:
            raise ValueError("the pages' secret must be at least 16 bytes")
        self._secret = secret
        self._path = path

    def token(self, req: falcon.Request, resp: falcon.Response) -> str:
        """The token for the forms of the page being rendered; sets the cookie when the
        browser has none (or a malformed one)."""
        value = req.cookies.get(COOKIE)
        if not _well_formed(value):
            value = secrets.token_urlsafe(32)
            resp.set_cookie(
                COOKIE,
                value,
                path=self._path,
                http_only=True,
                same_site="Lax",
                # Secure only where the page itself came over TLS, or a plain-HTTP
                # development server would never get it back.
                secure=req.scheme == "https",
            )
        return self._sign(value)

    def check(self, req: falcon.Request, submitted: str | None) -> None:
        """CrossSiteRequest unless ``submitted`` is the token for the browser's cookie."""
        value = req.cookies.get(COOKIE)
        if not _well_formed(value) or not submitted:
            raise CrossSiteRequest()
        if not hmac.compare_digest(self._sign(value), submitted):
            raise CrossSiteRequest()

    def _sign(self, value: str | None) -> str:
        digest = hmac.new(self._secret, str(value).encode(), hashlib.sha256)
        return digest.hexdigest()


def _well_formed(value: str | None) -> bool:
    return isinstance(value, str) and 32 <= len(value) <= 64 and value.isascii()


def protect(resp: falcon.Response) -> None:
    """The headers of every page answer, errors included."""
    for name, value in SECURITY_HEADERS.items():
        resp.set_header(name, value)
    # Pages show the case as it is now and carry a per-browser token: never kept by a cache.
    resp.set_header("Cache-Control", "no-store")
