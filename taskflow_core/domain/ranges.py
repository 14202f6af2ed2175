"""Time ranges of a listing: ``createdAt[from]``, ``createdAt[to]``, ``updatedAt[from]``,
``updatedAt[to]`` (docs/finding.md), parsed into aware datetimes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import attrs

from ..errors import InvalidRequest
from .validation import quoted

RANGE_KEYS = ("createdAt", "updatedAt")
_BOUNDS = ("from", "to")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A query string's unescaped "+" arrives as a space: "...T10:00:00 01:00" meant "+01:00".
_SPACED_OFFSET = re.compile(r"(T.*) (\d{2}(:?\d{2})?)$")


@attrs.frozen
class TimeRange:
    """``start`` inclusive, ``end`` exclusive; None is unbounded."""

    start: datetime | None = None
    end: datetime | None = None

    def __bool__(self) -> bool:
        return self.start is not None or self.end is not None

    def holds(self, instant: datetime) -> bool:
        return (self.start is None or instant >= self.start) and (
            self.end is None or instant < self.end
        )


def parse_range(key: str, value: Any) -> TimeRange:
    """``createdAt``'s (or ``updatedAt``'s) mapping ``{"from": ..., "to": ...}``."""
    if value is None:
        return TimeRange()
    if not isinstance(value, dict):
        raise InvalidRequest(f"{key} must be given as {key}[from] and {key}[to]", {key: "invalid"})
    unknown = sorted(set(value) - set(_BOUNDS))
    if unknown:
        name = f"{key}[{quoted(unknown[0])}]"
        message = f"{name} is not supported; use {key}[from] or {key}[to]"
        raise InvalidRequest(message, {name: "unknown"})
    start, end = (_instant(f"{key}[{bound}]", value.get(bound)) for bound in _BOUNDS)
    return TimeRange(start, end)


def _instant(name: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise _invalid(name)
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        raise _invalid(name)
    text = value.strip()
    if _DATE.fullmatch(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            raise _invalid(name) from None
    text = _SPACED_OFFSET.sub(r"\1+\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(name) from None
    if parsed.tzinfo is None or "T" not in text.upper():
        raise _invalid(name)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise _invalid(name) from None


def _invalid(name: str) -> InvalidRequest:
    return InvalidRequest(
        f"{name} must be an ISO 8601 timestamp with an offset, or a date", {name: "invalid"}
    )
