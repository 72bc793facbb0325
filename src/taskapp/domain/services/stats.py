"""Weekly statistics in the user's time zone."""

from __future__ import annotations

from datetime import date
from functools import cache
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model import DueMarks, Week, WeeklyStats
from taskapp.domain.ports import Clock, StatsReads

# Names the tz database ships that name no place: the host's own zone, and a placeholder.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@cache
def known_zones() -> frozenset[str]:
    """The IANA zone names this system knows; nothing else is accepted (not file paths,
    not legacy aliases that are missing from the list)."""
    return frozenset((available_timezones() | {"UTC"}) - _NOT_PLACES)


def parse_zone(name: str) -> ZoneInfo:
    if name not in known_zones():
        raise ValidationFailed.of("tz", "must be an IANA time zone, e.g. Europe/Berlin")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed.of("tz", "must be an IANA time zone, e.g. Europe/Berlin") from None


class StatsService:
    def __init__(self, reads: StatsReads, clock: Clock) -> None:
        self._reads = reads
        self._clock = clock

    async def weekly(
        self, user_id: UUID, zone_name: str = "UTC", day: date | None = None
    ) -> WeeklyStats:
        """The week containing `day` (default: today in that zone)."""
        zone = parse_zone(zone_name)
        now = self._clock.now()
        today = now.astimezone(zone).date()
        week = Week.containing(day or today, zone, zone_name)
        due = DueMarks.of(week.start, week.end, now, zone)
        counts = await self._reads.count_week(user_id, week.start, week.end, due)
        return WeeklyStats(week, counts)
