"""Domain errors: what went wrong, in the service's words; adapters map them to transports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TaskflowError(Exception):
    """Base of every error a caller is meant to see; the message is safe to show."""

    default_message = "The request could not be completed"

    def __init__(self, message: str | None = None, errors: Mapping[str, Any] | None = None):
        self.message = message or self.default_message
        self.errors = dict(errors) if errors else None
        super().__init__(self.message)


class NotFound(TaskflowError):
    default_message = "Not found"


class InvalidRequest(TaskflowError):
    default_message = "Invalid request"

    def renamed(self, names: Mapping[str, str]) -> InvalidRequest:
        """The same error under the caller's names for the fields it names (an HTTP body's
        ``profileId`` for the Python ``assigned_to``): checks name a field first."""
        message = self.message
        for name, alias in names.items():
            if message.startswith(f"{name} "):
                message = alias + message[len(name) :]
        errors = {names.get(k, k): v for k, v in self.errors.items()} if self.errors else None
        return InvalidRequest(message, errors)


class Gone(TaskflowError):
    """What was asked for was there once and has been pruned (a feed cursor into changes
    ``taskflow prune`` deleted); ``errors`` says where to start again."""

    default_message = "Gone"


class Forbidden(TaskflowError):
    default_message = "Forbidden"


class Conflict(TaskflowError):
    default_message = "Conflict"


class RequestInFlight(Conflict):
    """The request that first used an idempotency key has not answered yet; the same request
    sent again a moment later gets its answer. Marked in ``errors`` (``IN_FLIGHT``) so that a
    client tells it from every other 409, which retrying cannot change (taskflow_client)."""

    default_message = "A request with this idempotency key is still running; retry it later"

    def __init__(self, message: str | None = None, errors: Mapping[str, Any] | None = None):
        super().__init__(message, IN_FLIGHT if errors is None else errors)


# The field errors of a RequestInFlight: {"Idempotency-Key": "running"}.
IN_FLIGHT: Mapping[str, Any] = {"Idempotency-Key": "running"}


class PreconditionFailed(TaskflowError):
    default_message = "Precondition failed"


class IdempotencyKeyReused(TaskflowError):
    """An idempotency key sent again with a different request than the one it was first
    used for; nothing was done."""

    default_message = "This idempotency key was used for a different request"


# Each error's HTTP status: here, not in the HTTP adapter alone, because a bulk action
# answers one status per case from Python too (SPEC §18). taskflow_falcon/errors.py maps
# with it; nothing else may keep a copy.
STATUS_BY_ERROR: dict[type[TaskflowError], int] = {
    NotFound: 404,
    Gone: 410,
    InvalidRequest: 400,
    Forbidden: 403,
    Conflict: 409,
    PreconditionFailed: 412,
    IdempotencyKeyReused: 422,
}


# What a client is told of a failure that is not the request's: nothing of its text, which
# may hold SQL or a hook's internals (the log gets it).
INTERNAL_ERROR_MESSAGE = "Internal server error"
UNAVAILABLE_MESSAGE = "The service is temporarily unavailable; retry later"


def status_for(error: TaskflowError) -> int:
    """The HTTP status of a domain error; the nearest mapped ancestor wins."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    # A hook raising the bare base class means "the request is wrong", not "we are broken".
    return 400


class StoreError(Exception):
    """A store failed for a reason of its own, not the request's (the storage port's errors).

    Every store raises these, whatever its driver, so a caller (the CLI, the HTTP layer) can
    tell an outage from a bug without importing a driver. The message is one line, meant for
    the operator: it may name a host or a file, so it is not shown to HTTP clients.
    """


class StoreUnavailable(StoreError):
    """The store cannot be reached or is busy past its timeout; retrying later may succeed."""


class NotMigrated(StoreUnavailable):
    """The store answers, but has no taskflow schema (yet): ``taskflow migrate`` it."""


class DatabaseMissing(StoreUnavailable):
    """The server answers, but has no database of the name given (``taskflow migrate``
    creates it)."""


class MigrationFailed(StoreError):
    """A migration failed; it was rolled back and the ones after it were not applied."""


def one_line(exc: BaseException) -> str:
    """An exception's text on one line: drivers' messages span lines (a reason, then hints)."""
    parts = (line.strip() for line in str(exc).splitlines())
    return "; ".join(part for part in parts if part) or type(exc).__name__


class CaseMoved(Exception):
    """A case read without a lock changed (or went) before the write that depended on it:
    the command runs again. Never reaches a caller (application/writes.py retries)."""


class HookUsageError(RuntimeError):
    """A hook used the event API in a way that can never be right (a programming error).

    Deliberately not a TaskflowError: the request rolls back and answers a generic 500.
    """


__all__ = [
    "INTERNAL_ERROR_MESSAGE",
    "IN_FLIGHT",
    "STATUS_BY_ERROR",
    "UNAVAILABLE_MESSAGE",
    "CaseMoved",
    "Conflict",
    "DatabaseMissing",
    "Forbidden",
    "HookUsageError",
    "IdempotencyKeyReused",
    "InvalidRequest",
    "MigrationFailed",
    "NotFound",
    "NotMigrated",
    "PreconditionFailed",
    "RequestInFlight",
    "StoreError",
    "StoreUnavailable",
    "TaskflowError",
    "one_line",
    "status_for",
]
