"""Week boundaries: Monday 00:00 to the next Monday 00:00 in the chosen zone, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model import Week
from taskapp.domain.services.stats import parse_zone


def week(day: date, zone: str) -> Week:
    return Week.containing(day, ZoneInfo(zone), zone)


def hours(w: Week) -> float:
    return (w.end.astimezone(UTC) - w.start.astimezone(UTC)).total_seconds() / 3600


@pytest.mark.parametrize(
    ("day", "zone", "expected_hours", "start_offset", "end_offset"),
    [
        (date(2026, 3, 25), "Europe/Berlin", 167, "+01:00", "+02:00"),  # spring forward 29 Mar
        (date(2026, 10, 22), "Europe/Berlin", 169, "+02:00", "+01:00"),  # fall back 25 Oct
        (date(2026, 4, 1), "Pacific/Auckland", 169, "+13:00", "+12:00"),  # NZDT ends 5 Apr
        (date(2026, 9, 23), "Pacific/Auckland", 167, "+12:00", "+13:00"),  # NZDT starts 27 Sep
        (date(2026, 6, 10), "UTC", 168, "+00:00", "+00:00"),
    ],
)
def test_dst_weeks_have_their_real_length(
    day: date, zone: str, expected_hours: int, start_offset: str, end_offset: str
) -> None:
    w = week(day, zone)
    assert w.start.weekday() == 0
    assert (w.start.hour, w.start.minute) == (0, 0)
    assert hours(w) == expected_hours
    assert w.start.isoformat().endswith(start_offset)
    assert w.end.isoformat().endswith(end_offset)


@given(st.dates(min_value=date(1971, 1, 1), max_value=date(2100, 1, 1)))
def test_every_day_belongs_to_the_week_that_starts_on_its_monday(day: date) -> None:
    w = week(day, "Europe/Berlin")
    assert w.start.date() <= day < w.end.date()
    assert (w.end.date() - w.start.date()) == timedelta(days=7)
    assert w.start.weekday() == 0


def test_sunday_night_and_monday_midnight_fall_in_different_weeks() -> None:
    zone = ZoneInfo("Europe/Berlin")
    sunday = datetime(2026, 11, 22, 23, 59, 59, 999999, tzinfo=zone)
    monday = datetime(2026, 11, 23, 0, 0, tzinfo=zone)
    this_week = week(sunday.date(), "Europe/Berlin")
    assert this_week.start <= sunday < this_week.end
    assert not this_week.start <= monday < this_week.end
    assert week(monday.date(), "Europe/Berlin").start == monday


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "../../etc/passwd", "UTC\x00", "x" * 300])
def test_unknown_zones_are_a_validation_error(name: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_zone(name)


@pytest.mark.parametrize("day", [date(9999, 12, 27), date(9999, 12, 31), date(1, 1, 1)])
def test_weeks_beyond_what_a_datetime_holds_are_refused_with_the_field(day: date) -> None:
    """Issue 13.4: 9999-12-27 ran past datetime.max (OverflowError, a 500)."""
    with pytest.raises(ValidationFailed) as raised:
        week(day, "Asia/Tokyo")
    assert raised.value.details[0].field == "date"


@pytest.mark.parametrize("name", ["localtime", "Factory", "posixrules"])
def test_names_that_are_no_place_are_not_zones(name: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_zone(name)
