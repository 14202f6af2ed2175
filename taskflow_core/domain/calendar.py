"""Business days: a calendar of working days in a time zone, and counting in them (SPEC §14).

Pure functions over dates: no store, no clock. ``BusinessDays(n)`` from a moment is the end
(24:00 in the calendar's zone) of the n-th business day after that moment's day. Days are
counted as local dates and only the final midnight is turned into an instant, so a
daylight-saving change in between moves nothing (tests/unit/test_calendar.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
MONDAY_TO_FRIDAY_WEEKEND = (5, 6)


def _count(_: object, __: object, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"BusinessDays takes a whole number of days, not {value!r}")
    if value < 0:
        raise ValueError(f"BusinessDays cannot be negative, got {value}")


@attrs.frozen
class BusinessDays:
    """A span of ``n`` business days of a deadline's calendar (0 or more)."""

    n: int = attrs.field(validator=_count)


Span = BusinessDays | timedelta


def check_span(value: object, name: str) -> Span:
    """A ``BusinessDays`` or a positive ``timedelta``; ValueError otherwise."""
    if isinstance(value, BusinessDays):
        return value
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValueError(f"{name} cannot be negative, got {value!r}")
        return value
    raise ValueError(f"{name} is a BusinessDays or a timedelta, not {value!r}")


def _zone(value: str | tzinfo) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError(f"a calendar's timezone is an IANA name, not {value!r}")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {value!r}") from error


def _weekend(value: Iterable[int]) -> frozenset[int]:
    days = frozenset(value)
    if any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in days):
        raise ValueError(f"weekend days are 0 (Monday) to 6 (Sunday), not {sorted(days)!r}")
    if len(days) == 7:
        raise ValueError("a weekend of all seven days leaves no business day")
    return days


def _holidays(value: Iterable[date]) -> frozenset[date]:
    days = frozenset(value)
    for day in days:
        # A datetime is a date too; its time would be silently dropped.
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValueError(f"holidays are dates, not {day!r}")
    return days


def holidays_from_lines(lines: Iterable[str]) -> list[date]:
    """The dates of a plain list: one ISO date (``2026-12-25``) at the start of each line,
    anything after it a name; blank lines and lines starting with ``#`` are skipped.
    ValueError naming the line that is not a date."""
    found = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        word = text.split(maxsplit=1)[0]
        try:
            found.append(date.fromisoformat(word))
        except ValueError:
            raise ValueError(f"line {number}: {word!r} is not a date (YYYY-MM-DD)") from None
    return found


class BusinessCalendar:
    """Which days are worked, in which time zone.

    ``holidays``: dates not worked; ``weekend``: weekdays not worked (0 is Monday; default
    Saturday and Sunday); ``timezone``: an IANA name or a ``tzinfo`` (default UTC), in which
    days begin and end. ValueError for a weekend of all seven days, an unknown zone or a
    holiday that is not a date.
    """

    def __init__(
        self,
        holidays: Iterable[date] = (),
        weekend: Iterable[int] = MONDAY_TO_FRIDAY_WEEKEND,
        timezone: str | tzinfo = "UTC",
    ) -> None:
        self.holidays = _holidays(holidays)
        self.weekend = _weekend(weekend)
        self.zone = _zone(timezone)

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar(holidays={len(self.holidays)} days,"
            f" weekend={sorted(self.weekend)}, timezone={self.zone!s})"
        )

    def is_business_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def local_day(self, moment: datetime) -> date:
        """The date of ``moment`` in the calendar's zone."""
        return moment.astimezone(self.zone).date()

    def end_of(self, day: date) -> datetime:
        """24:00 of ``day`` in the calendar's zone (the next day's midnight), in UTC."""
        return datetime.combine(day + _DAY, time(), tzinfo=self.zone).astimezone(UTC)

    def business_day_after(self, day: date, n: int) -> date:
        """The n-th business day after ``day`` (``day`` itself for 0)."""
        counted = 0
        while counted < n:
            day += _DAY
            counted += self.is_business_day(day)
        return day

    def business_day_before(self, day: date, n: int) -> date:
        """The n-th business day before ``day`` (``day`` itself for 0)."""
        counted = 0
        while counted < n:
            day -= _DAY
            counted += self.is_business_day(day)
        return day

    def add(self, moment: datetime, span: Span) -> datetime:
        """``span`` after ``moment``: for business days, the end of the n-th business day
        after ``moment``'s day; a timedelta is added as it is. In UTC."""
        if isinstance(span, timedelta):
            return (moment + span).astimezone(UTC)
        return self.end_of(self.business_day_after(self.local_day(moment), span.n))

    def extend(self, due: datetime, span: Span) -> datetime:
        """A due moved on by ``span``: business days count from the day the due ends (a due
        at 24:00 ends that day, not the next)."""
        if isinstance(span, timedelta):
            return (due + span).astimezone(UTC)
        return self.add(due - _TICK, span)

    def subtract(self, due: datetime, span: Span) -> datetime:
        """``span`` before ``due``: for business days, the end of the n-th business day
        before the day ``due`` ends (so that many whole business days lie between)."""
        if isinstance(span, timedelta):
            return (due - span).astimezone(UTC)
        last = self.local_day(due - _TICK)
        return self.end_of(self.business_day_before(last, span.n))

    def business_days_left(self, moment: datetime, due: datetime) -> int:
        """The business days after ``moment``'s day that end by ``due``: what a pause at
        ``moment`` keeps."""
        day, last = self.local_day(moment), self.local_day(due) - _DAY
        left = 0
        while day < last:
            day += _DAY
            left += self.is_business_day(day)
        return left


DEFAULT_CALENDAR = BusinessCalendar()
