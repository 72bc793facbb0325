"""/api/v1/stats/weekly: counts for one Monday-to-Monday week in the caller's time zone."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model import WeeklyStats
from taskapp.entrypoints.http.dependencies import CurrentUserId, Stats
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.openapi import BEARER

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Zone = Annotated[str, QueryParameter(max_length=64, description="IANA time zone (default UTC)")]
Day = Annotated[
    str | None,
    QueryParameter(description="YYYY-MM-DD: the week containing this date (default today)"),
]


class WeeklyStatsOut(msgspec.Struct):
    week_start: datetime
    week_end: datetime
    timezone: str
    tasks_created_this_week: int
    tasks_completed_this_week: int
    total_completed: int
    total_incomplete: int

    @classmethod
    def of(cls, stats: WeeklyStats) -> WeeklyStatsOut:
        return cls(
            week_start=stats.week.start,
            week_end=stats.week.end,
            timezone=stats.week.timezone,
            tasks_created_this_week=stats.counts.created,
            tasks_completed_this_week=stats.counts.completed,
            total_completed=stats.counts.total_completed,
            total_incomplete=stats.counts.total_incomplete,
        )


def parse_day(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        if not _ISO_DATE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed.of("date", "must be a date as YYYY-MM-DD") from None


class StatsController(Controller):
    path = "/stats"
    tags = ["stats"]
    security = BEARER

    @get("/weekly")
    async def weekly(
        self, stats: Stats, user_id: CurrentUserId, tz: Zone = "UTC", date: Day = None
    ) -> Response[Envelope[WeeklyStatsOut]]:
        """Tasks created and completed this week, and the current totals."""
        return ok(WeeklyStatsOut.of(await stats.weekly(user_id, tz, parse_day(date))))
