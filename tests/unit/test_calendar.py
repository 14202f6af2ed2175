"""Business-day arithmetic (SPEC §14): pure functions over dates, table-driven, no store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from taskflow_core import BusinessCalendar, BusinessDays, holidays_from_lines

LONDON = ZoneInfo("Europe/London")
UK_HOLIDAYS = Path(__file__).resolve().parents[2] / "docs" / "examples" / "uk-bank-holidays.txt"


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


def uk() -> BusinessCalendar:
    lines = UK_HOLIDAYS.read_text().splitlines()
    return BusinessCalendar(holidays=holidays_from_lines(lines), timezone="Europe/London")


class TestAddingBusinessDays:
    def test_the_spec_example_is_due_at_the_end_of_the_next_business_day(self) -> None:
        calendar = BusinessCalendar(timezone="Europe/London")
        due = calendar.add(london(2026, 1, 5, 10, 0), BusinessDays(1))
        assert due == london(2026, 1, 7, 0, 0)
        assert due.tzinfo is UTC

    @pytest.mark.parametrize(
        ("start", "n", "due"),
        [
            # Friday + 1: the weekend is skipped, due at the end of Monday.
            (london(2026, 1, 9, 16, 0), 1, london(2026, 1, 13)),
            # Started on a Saturday: counting begins with Monday.
            (london(2026, 1, 10, 9, 0), 1, london(2026, 1, 13)),
            # 0: the end of the start's own day.
            (london(2026, 1, 5, 10, 0), 0, london(2026, 1, 6)),
            # Started a minute before midnight: still that day.
            (london(2026, 1, 5, 23, 59), 5, london(2026, 1, 13)),
            (london(2026, 1, 5, 10, 0), 40, london(2026, 3, 3)),
        ],
    )
    def test_weekends_are_not_counted(self, start: datetime, n: int, due: datetime) -> None:
        assert BusinessCalendar(timezone="Europe/London").add(start, BusinessDays(n)) == due

    def test_a_start_across_the_october_change_ends_at_midnight_gmt(self) -> None:
        # Friday 23 October 2026, 10:00 BST (09:00Z); the clocks go back on Sunday the 25th.
        due = BusinessCalendar(timezone="Europe/London").add(
            london(2026, 10, 23, 10, 0), BusinessDays(1)
        )
        assert due == datetime(2026, 10, 27, 0, 0, tzinfo=UTC)  # 24:00 Monday, GMT

    def test_a_start_across_the_march_change_ends_at_midnight_bst(self) -> None:
        # Friday 27 March 2026, 10:00 GMT; the clocks go forward on Sunday the 29th.
        due = BusinessCalendar(timezone="Europe/London").add(
            london(2026, 3, 27, 10, 0), BusinessDays(1)
        )
        assert due == datetime(2026, 3, 30, 23, 0, tzinfo=UTC)  # 24:00 Monday, BST

    def test_a_start_late_in_the_evening_utc_is_the_next_day_in_a_zone_ahead(self) -> None:
        calendar = BusinessCalendar(timezone="Europe/Berlin")
        # 23:30Z on Monday is 00:30 on Tuesday in Berlin: counting starts after Tuesday.
        due = calendar.add(datetime(2026, 1, 5, 23, 30, tzinfo=UTC), BusinessDays(1))
        assert due == datetime(2026, 1, 7, 23, 0, tzinfo=UTC)

    def test_a_timedelta_is_added_as_it_is(self) -> None:
        start = datetime(2026, 1, 9, 16, 0, tzinfo=UTC)
        assert BusinessCalendar().add(start, timedelta(days=3)) == start + timedelta(days=3)

    def test_another_weekend_is_skipped_instead(self) -> None:
        calendar = BusinessCalendar(weekend=(4, 5))  # Friday and Saturday
        due = calendar.add(datetime(2026, 1, 8, 9, 0, tzinfo=UTC), BusinessDays(1))
        assert due == datetime(2026, 1, 12, 0, 0, tzinfo=UTC)  # 24:00 Sunday


class TestUkBankHolidays:
    def test_the_example_file_reads_as_dates(self) -> None:
        days = holidays_from_lines(UK_HOLIDAYS.read_text().splitlines())
        assert date(2026, 12, 28) in days
        assert len(days) == 24
        assert all(d.weekday() < 5 for d in days)  # substitute days are weekdays

    def test_christmas_and_the_substitute_boxing_day_are_skipped(self) -> None:
        # Thursday 24 December 2026 + 1: Friday 25th and Monday 28th are holidays.
        assert uk().add(london(2026, 12, 24, 12, 0), BusinessDays(1)) == london(2026, 12, 30)

    def test_easter_is_skipped_across_the_march_change(self) -> None:
        # Thursday 25 March 2027, GMT: Good Friday, the weekend (clocks forward), Easter Monday.
        due = uk().add(london(2027, 3, 25, 9, 0), BusinessDays(1))
        assert due == datetime(2027, 3, 30, 23, 0, tzinfo=UTC)

    def test_forty_business_days_of_a_licence(self) -> None:
        # Submitted Monday 23 March 2026: Easter (3 and 6 April) and 4 May are not counted.
        assert uk().add(london(2026, 3, 23, 11, 0), BusinessDays(40)) == london(2026, 5, 22)

    def test_a_line_that_is_not_a_date_is_named(self) -> None:
        with pytest.raises(ValueError, match="line 2"):
            holidays_from_lines(["2026-01-01", "Christmas"])


class TestCountingBack:
    def test_five_business_days_before_a_due(self) -> None:
        calendar = BusinessCalendar(timezone="Europe/London")
        # Due at the end of Friday 16 January: five business days before is the end of the 9th.
        assert calendar.subtract(london(2026, 1, 17), BusinessDays(5)) == london(2026, 1, 10)

    def test_extending_counts_from_the_day_the_due_ends(self) -> None:
        calendar = BusinessCalendar(timezone="Europe/London")
        # Due at the end of Friday 9 January; +1 business day: the end of Monday 12th.
        assert calendar.extend(london(2026, 1, 10), BusinessDays(1)) == london(2026, 1, 13)

    @pytest.mark.parametrize(
        ("moment", "due", "left"),
        [
            (london(2026, 1, 5, 10, 0), london(2026, 1, 7), 1),
            (london(2026, 1, 5, 10, 0), london(2026, 1, 6), 0),
            (london(2026, 1, 9, 10, 0), london(2026, 1, 17), 5),
            # A due at 15:00 on a day does not count that day as whole.
            (london(2026, 1, 5, 10, 0), london(2026, 1, 7, 15, 0), 1),
        ],
    )
    def test_business_days_left(self, moment: datetime, due: datetime, left: int) -> None:
        calendar = BusinessCalendar(timezone="Europe/London")
        assert calendar.business_days_left(moment, due) == left

    def test_left_then_added_again_gives_the_same_due(self) -> None:
        calendar = uk()
        start = london(2026, 10, 20, 14, 0)
        due = calendar.add(start, BusinessDays(30))
        assert calendar.add(start, BusinessDays(calendar.business_days_left(start, due))) == due


class TestBadDeclarations:
    @pytest.mark.parametrize("n", [-1, 1.5, True, "3"])
    def test_business_days_are_a_whole_number_not_below_zero(self, n: object) -> None:
        with pytest.raises(ValueError, match="BusinessDays"):
            BusinessDays(n)  # type: ignore[arg-type]

    def test_a_weekend_of_seven_days_is_refused(self) -> None:
        with pytest.raises(ValueError, match="seven days"):
            BusinessCalendar(weekend=range(7))

    @pytest.mark.parametrize("weekend", [(7,), (-1,), (True,)])
    def test_a_weekend_day_outside_the_week_is_refused(self, weekend: tuple[int, ...]) -> None:
        with pytest.raises(ValueError, match="weekend"):
            BusinessCalendar(weekend=weekend)

    def test_an_unknown_zone_is_refused(self) -> None:
        with pytest.raises(ValueError, match="time zone"):
            BusinessCalendar(timezone="Europe/Atlantis")

    def test_a_holiday_that_is_a_datetime_is_refused(self) -> None:
        with pytest.raises(ValueError, match="dates"):
            BusinessCalendar(holidays=[datetime(2026, 12, 25, tzinfo=UTC)])
