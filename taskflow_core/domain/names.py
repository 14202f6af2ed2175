"""Event names: the one place that spells them, and how status and ``pre-`` names are made."""

from __future__ import annotations

from enum import StrEnum


class Event(StrEnum):
    """The events a case has; a status change is ``status:<old>:<new>`` (``status_event``)."""

    CREATE = "create"
    UPDATE = "update"
    ASSIGN = "assign"
    COMMENT = "comment"
    UPDATE_COMMENT = "update-comment"
    DELETE_COMMENT = "delete-comment"


STATUS = "status"
TIMER = "timer"
PRE = "pre-"


def status_event(old: str, new: str) -> str:
    return f"{STATUS}:{old}:{new}"


def timer_event(name: str) -> str:
    return f"{TIMER}:{name}"


def pre(name: str) -> str:
    """The name of the hooks that run before ``name``'s change."""
    return f"{PRE}{name}"


def kind(name: str) -> str:
    """The first part of an event name: ``pre-status`` for ``pre-status:new:open``."""
    return name.split(":", 1)[0]
