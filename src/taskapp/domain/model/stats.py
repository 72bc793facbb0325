"""Weekly statistics: the week in the caller's zone and what happened in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from taskapp.domain.errors import ValidationFailed

# The first and last days whose week, with a day's margin for any zone offset, still lies
# inside what a datetime can represent.
FIRST_DAY = date(1, 1, 8)
LAST_DAY = date(9999, 12, 23)


@dataclass(frozen=True, slots=True)
class Week:
    """Monday 00:00 to the next Monday 00:00 (exclusive) in one time zone."""

    start: datetime
    end: datetime
    timezone: str

    @classmethod
    def containing(cls, day: date, zone: tzinfo, zone_name: str) -> Week:
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationFailed.of(
                "date", f"must be between {FIRST_DAY.isoformat()} and {LAST_DAY.isoformat()}"
            )
        monday = day - timedelta(days=day.weekday())
        start = datetime.combine(monday, time.min, tzinfo=zone)
        end = datetime.combine(monday + timedelta(days=7), time.min, tzinfo=zone)
        # Aware datetimes in a zone keep their wall-clock meaning across DST changes, so the
        # week is 167, 168 or 169 real hours long, as it should be.
        return cls(start, end, zone_name)


@dataclass(frozen=True, slots=True)
class WeekCounts:
    created: int
    completed: int
    total_completed: int
    total_incomplete: int


@dataclass(frozen=True, slots=True)
class WeeklyStats:
    week: Week
    counts: WeekCounts
