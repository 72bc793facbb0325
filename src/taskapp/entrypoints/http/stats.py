"""/api/v1/stats/weekly: counts for one Monday-to-Monday week in the caller's time zone."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter

from taskapp.domain.model import WeeklyStats
from taskapp.domain.services.stats import known_zones
from taskapp.entrypoints.http.dependencies import CurrentUserId, Stats
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.openapi import BEARER
from taskapp.entrypoints.http.scopes import Scope

ZoneName = StrEnum("ZoneName", {name: name for name in sorted(known_zones())})  # type: ignore[misc]
Zone = Annotated[ZoneName, QueryParameter(description="IANA time zone (default UTC)")]
Day = Annotated[
    date | None,
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
    overdue: int
    due_this_week: int

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
            overdue=stats.counts.overdue,
            due_this_week=stats.counts.due_this_week,
        )


class StatsController(Controller):
    path = "/stats"
    tags = ["stats"]
    security = BEARER

    @get("/weekly", scope=Scope.STATS_READ)
    async def weekly(
        self,
        stats: Stats,
        user_id: CurrentUserId,
        tz: Zone = ZoneName["UTC"],
        date: Day = None,
    ) -> Response[Envelope[WeeklyStatsOut]]:
        """Tasks created and completed this week, the current totals, and the open tasks
        overdue now and due within the week (a due date read in `tz`)."""
        return ok(WeeklyStatsOut.of(await stats.weekly(user_id, tz.value, date)))
