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
class DueMarks:
    """ "Overdue" and "due this week" for one request, resolved in the caller's zone
    (decision 0013): an all-day `due_date` is overdue from the start of the next day
    (`due_date < today`), a `due_at` from that moment (`due_at < now`); it is due this week
    when the date lies in [first_day, end_day) or the moment in [week start, week end)."""

    now: datetime
    today: date
    first_day: date
    end_day: date  # exclusive: the next Monday

    @classmethod
    def of(cls, start: datetime, end: datetime, now: datetime, zone: tzinfo) -> DueMarks:
        """`start` and `end`: the week's bounds, aware datetimes in `zone`."""
        return cls(now, now.astimezone(zone).date(), start.date(), end.date())


@dataclass(frozen=True, slots=True)
class WeekCounts:
    created: int
    completed: int
    total_completed: int
    total_incomplete: int
    overdue: int = 0
    due_this_week: int = 0


@dataclass(frozen=True, slots=True)
class WeeklyStats:
    week: Week
    counts: WeekCounts
