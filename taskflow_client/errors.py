"""What a remote answer means, as an exception: the one place statuses and bodies become errors.

An answer the server gives for a domain error (``{"message", "errors"?}`` with 400, 403, 404,
409, 410, 412 or 422) raises the very ``taskflow_core`` class the in-process flow raises for
the same request, so host code catches one set of errors wherever the flow runs. What only a
remote call can meet (no connection, no answer in time, an answer that is no answer of
taskflow's) raises a ``ClientError``, itself a ``TaskflowError``.
"""

from __future__ import annotations

from typing import Any

from taskflow_core.errors import (
    IN_FLIGHT,
    Conflict,
    Forbidden,
    Gone,
    IdempotencyKeyReused,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
    RequestInFlight,
    TaskflowError,
)

# The server's answer for each domain error class (taskflow_falcon/errors.py), read back.
ERROR_BY_STATUS: dict[int, type[TaskflowError]] = {
    400: InvalidRequest,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    412: PreconditionFailed,
    422: IdempotencyKeyReused,
}
# How much of an answer that is not taskflow's an error quotes: enough to recognise it.
EXCERPT = 200


class ClientError(TaskflowError):
    """A remote call that failed for a reason of the transport or the server, not of the
    request's content; ``status`` is the HTTP status when there was an answer."""

    default_message = "The remote call failed"

    def __init__(
        self,
        message: str | None = None,
        errors: dict[str, Any] | None = None,
        *,
        status: int | None = None,
    ) -> None:
        super().__init__(message, errors)
        self.status = status


class TransportError(ClientError):
    """No answer: the connection could not be made, or broke before the whole answer came
    (after every retry the call was allowed)."""


class RequestTimeout(TransportError):
    """No answer within the client's ``timeout`` (after every retry the call was allowed)."""


class UnexpectedResponse(ClientError):
    """An answer that is no answer of taskflow's: not JSON (an HTML error page of a proxy),
    malformed or truncated JSON, a redirect (never followed: it could send the token
    elsewhere), or a status taskflow does not answer."""


class Unauthorized(ClientError):
    """401: the server's authentication refused the token (or its absence)."""


class ServerError(ClientError):
    """5xx with taskflow's JSON body: the server failed (a 503 only after every retry)."""


def excerpt(text: str) -> str:
    short = text[:EXCERPT].replace("\n", " ").strip()
    return short + ("..." if len(text) > EXCERPT else "")


def error_for(status: int, body: Any, where: str) -> TaskflowError:
    """The exception for an error answer whose body parsed as JSON (``where``: ``METHOD
    URL``, for messages of the client's own)."""
    message = body.get("message") if isinstance(body, dict) else None
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(message, str):
        return UnexpectedResponse(
            f"{where} answered {status} with JSON that is no taskflow error: {excerpt(repr(body))}",
            status=status,
        )
    fields = errors if isinstance(errors, dict) else None
    if status == 409 and fields == IN_FLIGHT:
        return RequestInFlight(message, fields)
    cls = ERROR_BY_STATUS.get(status)
    if cls is not None:
        return cls(message, fields)
    if status == 401:
        return Unauthorized(message, fields, status=status)
    if status >= 500:
        return ServerError(f"{where} answered {status}: {message}", fields, status=status)
    # 405, 413, 415...: the request was refused as sent, as a 400 is.
    return InvalidRequest(message, fields)


__all__ = [
    "ClientError",
    "RequestTimeout",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "UnexpectedResponse",
    "error_for",
]
