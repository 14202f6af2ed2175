"""Checking what callers pass in: ids, statuses, data, comments, assignees.

Each check names the argument as the caller passed it (``field``), so a Python caller reads
``assigned_to`` where an HTTP client reads ``profileId``.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from ..errors import InvalidRequest, NotFound

STATUS_RE = re.compile(r"[a-z-]+")
# A UUID as PostgreSQL prints it, in either letter case: the only spelling an id may have.
# (uuid.UUID() also takes braces, "urn:uuid:", no hyphens and surrounding whitespace.)
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# How deeply JSON may nest in a case's data (and in anything else a caller sends): far
# beyond any real document, and far below where encoding or decoding it would recurse
# past Python's limit.
MAX_DEPTH = 64
TIMER_NAME_RE = re.compile(r"[A-Za-z][A-Za-z-]*")
# The original's columns are varchar(255), and the event name `status:<old>:<new>` must fit
# in one too: two statuses of at most 120 characters do.
MAX_STATUS_LENGTH = 120
MAX_ASSIGNEE_LENGTH = 255
# Ids name users in the log, as assignees do; an unbounded one (a 3,000-character
# profile.id) fails PostgreSQL's index on the log's changed_by.
MAX_ACTOR_ID_LENGTH = MAX_ASSIGNEE_LENGTH
# `timer:<name>` is an event name, and (case, name) a timer's key: both indexed.
MAX_TIMER_NAME_LENGTH = 120
# What no store can keep in text: NUL (PostgreSQL refuses it) and unpaired surrogates (not
# encodable as UTF-8).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def canonical_id(value: object, what: str = "Case") -> str:
    """The canonical text of a UUID; anything else is an id that cannot exist, so NotFound."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str) or not UUID_RE.fullmatch(value):
        raise NotFound(f"{what} not found")
    return value.lower()


def canonical_actor(actor: str | None) -> str | None:
    """An actor id as the log keeps it: a UUID in lower case, as the original's ``uuid``
    column wrote it (a host may send capitals); any other id as it is."""
    if actor is not None and UUID_RE.fullmatch(actor):
        return actor.lower()
    return actor


def same_id(left: str | None, right: str | None) -> bool:
    """Whether two actor ids name the same actor: equal text, or the same canonical UUID in
    another letter case (an adopted database holds them lowercase; a host may send capitals).
    Other spellings of a UUID (braces, no hyphens) are other ids."""
    if left is None or right is None:
        return False
    if left == right:
        return True
    return bool(UUID_RE.fullmatch(left) and UUID_RE.fullmatch(right)) and (
        left.lower() == right.lower()
    )


_HTML_INERT = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def quoted(text: str, limit: int = 40) -> str:
    """A caller's text, safe to echo in an error message: JSON-quoted (control characters and
    markup stay inert text) and cut to ``limit`` characters."""
    cut = text if len(text) <= limit else f"{text[:limit]}…"
    # Escaped as JSON escapes them for HTML: a message shown in a page stays text.
    return json.dumps(cut).translate(_HTML_INERT)


def check_timer_name(value: object) -> str:
    """A timer's name is one part of an event name (``timer:<name>``): a word of letters and
    hyphens starting with a letter. Checked where a hook sets it: a bad one is a bug."""
    if isinstance(value, str) and len(value) > MAX_TIMER_NAME_LENGTH:
        # Often made from what a request sent: the request's fault, told as such.
        raise InvalidRequest(
            f"a timer name must be at most {MAX_TIMER_NAME_LENGTH} characters",
            {"timer": "too long"},
        )
    if not isinstance(value, str) or not TIMER_NAME_RE.fullmatch(value):
        raise ValueError(
            f"a timer name is a word of letters and hyphens starting with a letter, not {value!r}"
        )
    return value


def check_actor_id(value: str | None) -> str | None:
    """The id the flow computed for the requesting user (``actor_id``), as the log keeps it."""
    if value is None:
        return None
    if len(value) > MAX_ACTOR_ID_LENGTH:
        raise InvalidRequest(
            f"the user's id must be at most {MAX_ACTOR_ID_LENGTH} characters", {"user": "too long"}
        )
    check_storable(value, "user")
    return value


def check_when(value: object) -> datetime | timedelta:
    """An aware datetime or a timedelta; a naive datetime's zone would be a guess."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"a timer's time must be timezone-aware, not {value!r}")
        return value
    if isinstance(value, timedelta):
        return value
    raise TypeError(f"a timer's time is an aware datetime or a timedelta, not {value!r}")


def is_status(value: object) -> bool:
    return (
        isinstance(value, str)
        and 0 < len(value) <= MAX_STATUS_LENGTH
        and STATUS_RE.fullmatch(value) is not None
    )


def check_status(value: object, field: str = "status") -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"{field} is required", {field: "required"})
    if len(value) > MAX_STATUS_LENGTH:
        raise InvalidRequest(
            f"{field} must be at most {MAX_STATUS_LENGTH} characters", {field: "too long"}
        )
    if not STATUS_RE.fullmatch(value):
        raise InvalidRequest(
            f"{field} must contain only lowercase letters and hyphens", {field: "invalid"}
        )
    return value


def check_data(value: object, field: str = "data") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidRequest(f"{field} must be a JSON object", {field: "invalid"})
    check_storable(value, field)
    return value


def check_comment(value: object, field: str = "comment") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{field} must be a non-empty string", {field: "required"})
    check_storable(value, field)
    return value


def check_assignee(value: object, field: str = "assigned_to") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{field} must be a string or null", {field: "invalid"})
    if len(value) > MAX_ASSIGNEE_LENGTH:
        raise InvalidRequest(
            f"{field} must be at most {MAX_ASSIGNEE_LENGTH} characters", {field: "too long"}
        )
    check_storable(value, field)
    return value


def check_storable(value: object, field: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse what a store could not keep: NUL or unpaired surrogates in any string (keys
    included), numbers JSON cannot hold (NaN, infinities), and objects or arrays nested more
    than ``max_depth`` deep. Every store refuses them alike, as bad input, instead of one
    store failing on them with an internal error."""
    _check_storable(value, field, max_depth)


def _check_storable(value: object, field: str, depth_left: int) -> None:
    if isinstance(value, dict | list | tuple):
        if depth_left <= 0:
            raise InvalidRequest(
                f"{field} is nested too deeply (at most {MAX_DEPTH} levels)", {field: "too deep"}
            )
        depth_left -= 1
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise InvalidRequest(
                f"{field} must not contain NUL characters or unpaired surrogates",
                {field: "invalid"},
            )
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidRequest(f"{field} must not contain NaN or Infinity", {field: "invalid"})
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, field, depth_left)
            _check_storable(item, field, depth_left)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_storable(item, field, depth_left)
