"""Error mapping: every failure becomes a JSON body ``{"message", "errors"?}``, never HTML,
except under the case browser's paths, whose error pages say the same in HTML (``Pages``).

The one module that knows how domain errors look over HTTP. Four kinds: ``TaskflowError``
(the core's, messages safe to show), falcon's own ``HTTPError`` (unknown route, wrong method,
body too large, bad query parameter), ``StoreUnavailable`` (the database is away or busy: a
503 the client may retry) and anything else, which answers a generic 500 and goes to the log,
because its text may hold SQL or a hook's internals. Authentication adds two of its own
(auth.py): ``Unauthenticated`` (401 with ``WWW-Authenticate``, never saying why) and
``AuthenticationUnavailable`` (the identity provider's keys are away: 503).
"""

from __future__ import annotations

import http
import logging
from typing import Any, Protocol

import falcon

# The status of each domain error is the core's (a bulk action answers them per case).
from taskflow_core.errors import (
    INTERNAL_ERROR_MESSAGE,
    STATUS_BY_ERROR,
    UNAVAILABLE_MESSAGE,
    StoreUnavailable,
    TaskflowError,
    one_line,
    status_for,
)

from .rendering import write_json

logger = logging.getLogger(__name__)

__all__ = [
    "INTERNAL_ERROR_MESSAGE",
    "STATUS_BY_ERROR",
    "UNAVAILABLE_MESSAGE",
    "install_error_handlers",
    "status_for",
]
# A store notices within a fraction of a second that its database is back, so a client may
# come back soon; an outage costs each retry a few milliseconds.
RETRY_AFTER_SECONDS = 2

UNAUTHENTICATED_MESSAGE = "Authentication required"


class Unauthenticated(Exception):
    """A request its authenticator could not authenticate (taskflow_falcon/auth.py): 401.
    Why (no token, a bad signature, an expired token...) is never told to the client, nor
    logged with any part of the credentials."""

    def __init__(self, challenge: str = "Bearer") -> None:
        super().__init__(UNAUTHENTICATED_MESSAGE)
        self.challenge = challenge


class AuthenticationUnavailable(Exception):
    """What authentication needs is away (the identity provider's keys could not be
    fetched): 503, which the client may retry. The reason is for the operator's log."""


class Pages(Protocol):
    """Where a person reads the answers (the case browser, taskflow_falcon/ui): the paths it
    claims get an error page instead of JSON, with the same status."""

    def claims(self, req: falcon.Request) -> bool: ...

    def write(self, resp: falcon.Response, status: int, detail: str | None = None) -> None: ...


def _body(message: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if errors:
        body["errors"] = errors
    return body


def _taskflow_error(
    req: falcon.Request, resp: falcon.Response, error: TaskflowError, params: dict[str, Any]
) -> None:
    status = status_for(error)
    if _paged(req, resp, status, error.message):
        return
    try:
        write_json(resp, _body(error.message, error.errors), status)
    except (TypeError, ValueError):
        # A hook's field errors held something that is not JSON; the message still is.
        logger.warning("Dropped field errors that are not JSON: %r", error.errors)
        write_json(resp, _body(error.message), status)


def _unexpected_error(
    req: falcon.Request, resp: falcon.Response, error: Exception, params: dict[str, Any]
) -> None:
    # The client learns only that it failed; the operator gets the traceback.
    logger.exception("Unhandled error in %s %s", req.method, req.path, exc_info=error)
    if _paged(req, resp, 500):
        return
    write_json(resp, _body(INTERNAL_ERROR_MESSAGE), 500)


def _store_unavailable(
    req: falcon.Request, resp: falcon.Response, error: StoreUnavailable, params: dict[str, Any]
) -> None:
    # An outage is the operator's to fix, not a bug: one line each, no traceback. The
    # reason may name a host or a file, so the client gets only the generic message.
    logger.warning("%s %s answered 503: %s", req.method, req.path, one_line(error))
    resp.set_header("Retry-After", str(RETRY_AFTER_SECONDS))
    if _paged(req, resp, 503):
        return
    write_json(resp, _body(UNAVAILABLE_MESSAGE), 503)


def _unauthenticated(
    req: falcon.Request, resp: falcon.Response, error: Unauthenticated, params: dict[str, Any]
) -> None:
    resp.set_header("WWW-Authenticate", error.challenge)
    if _paged(req, resp, 401, UNAUTHENTICATED_MESSAGE):
        return
    write_json(resp, _body(UNAUTHENTICATED_MESSAGE), 401)


def _authentication_unavailable(
    req: falcon.Request,
    resp: falcon.Response,
    error: AuthenticationUnavailable,
    params: dict[str, Any],
) -> None:
    # The reason names the identity provider's address, never a credential.
    logger.warning("%s %s answered 503: %s", req.method, req.path, one_line(error))
    resp.set_header("Retry-After", str(RETRY_AFTER_SECONDS))
    write_json(resp, _body(UNAVAILABLE_MESSAGE), 503)


def _serialize_http_error(
    req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError
) -> None:
    # Falcon's default picks JSON or XML from Accept; the contract is JSON, always.
    if _paged(req, resp, error.status_code, error.description):
        # The page replaces the body; the error's own headers (Allow of a 405) stay.
        return
    write_json(resp, _body(error.description or http.HTTPStatus(error.status_code).phrase))


def _paged(
    req: falcon.Request, resp: falcon.Response, status: int, detail: str | None = None
) -> bool:
    """Whether the request is a page's, whose error ``pages`` wrote as HTML."""
    pages: Pages | None = getattr(req.context, "taskflow_pages", None)
    if pages is None or not pages.claims(req):
        return False
    pages.write(resp, status, detail)
    return True


def install_error_handlers(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    """Register the mapping on ``app``; falcon picks the most specific handler by class.
    A request whose context names ``taskflow_pages`` (``Pages``: the case browser's
    middleware sets it) gets its error pages from them where they claim the path."""
    app.add_error_handler(Exception, _unexpected_error)
    app.add_error_handler(TaskflowError, _taskflow_error)
    app.add_error_handler(StoreUnavailable, _store_unavailable)
    app.add_error_handler(Unauthenticated, _unauthenticated)
    app.add_error_handler(AuthenticationUnavailable, _authentication_unavailable)
    app.set_error_serializer(_serialize_http_error)
