"""/api/v1/stats/weekly: counts for one Monday-to-Monday week in the caller's time zone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model import WeeklyStats
from taskapp.domain.services.stats import known_zones
from taskapp.entrypoints.http.dependencies import CurrentUserId, Stats
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.fields import described, whole
from taskapp.entrypoints.http.openapi import BEARER
from taskapp.entrypoints.http.scopes import Scope

# A string checked here against the zones the system knows (not an enum of 600 names in
# the document): legacy aliases and files such as `localtime`, `Factory` or `posixrules`
# are refused like any unknown name.
ZONE_PATTERN = described(
    whole("[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*"),
    "must be an IANA time zone, e.g. Europe/Berlin",
)
ZoneName = Annotated[
    str,
    QueryParameter(
        max_length=64,
        pattern=ZONE_PATTERN,
        description="IANA time zone, e.g. Europe/Berlin (default UTC)",
    ),
]
Zone = ZoneName


def checked_zone(name: str) -> str:
    """The zone's name when the system knows it, else 422 on `tz`."""
    if name not in known_zones():
        raise ValidationFailed.of("tz", "must be an IANA time zone, e.g. Europe/Berlin")
    return name


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

    @get("/weekly", scope=Scope.STATS_READ, operation_id="getWeeklyStats")
    async def weekly(
        self,
        stats: Stats,
        user_id: CurrentUserId,
        tz: Zone = "UTC",
        date: Day = None,
    ) -> Response[Envelope[WeeklyStatsOut]]:
        """Tasks created and completed this week, the current totals, and the open tasks
        overdue now and due within the week (a due date read in `tz`)."""
        return ok(WeeklyStatsOut.of(await stats.weekly(user_id, checked_zone(tz), date)))
