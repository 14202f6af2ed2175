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


class Forbidden(TaskflowError):
    default_message = "Forbidden"


class Conflict(TaskflowError):
    default_message = "Conflict"


class PreconditionFailed(TaskflowError):
    default_message = "Precondition failed"


class HookUsageError(RuntimeError):
    """A hook used the event API in a way that can never be right (a programming error).

    Deliberately not a TaskflowError: the request rolls back and answers a generic 500.
    """


__all__ = [
    "Conflict",
    "Forbidden",
    "HookUsageError",
    "InvalidRequest",
    "NotFound",
    "PreconditionFailed",
    "TaskflowError",
]
