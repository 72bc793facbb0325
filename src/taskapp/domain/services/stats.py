"""Weekly statistics in the user's time zone."""

from __future__ import annotations

from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model import Week, WeeklyStats
from taskapp.domain.ports import Clock, UnitOfWorkFactory


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed.of("tz", "must be an IANA time zone, e.g. Europe/Berlin") from None


class StatsService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def weekly(
        self, user_id: UUID, zone_name: str = "UTC", day: date | None = None
    ) -> WeeklyStats:
        """The week containing `day` (default: today in that zone)."""
        zone = parse_zone(zone_name)
        today = self._clock.now().astimezone(zone).date()
        week = Week.containing(day or today, zone, zone_name)
        async with self._uow() as uow:
            counts = await uow.tasks.count_week(user_id, week.start, week.end)
        return WeeklyStats(week, counts)
