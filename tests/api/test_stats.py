"""GET /stats/weekly with a pinned clock: week boundaries, zones, DST, deletions."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from taskapp.config import Settings
from tests.api.conftest import serve_with
from tests.api.helpers import assert_error, signed_in
from tests.unit.fakes import FixedClock

BERLIN = ZoneInfo("Europe/Berlin")
STATS = "/api/v1/stats/weekly"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 18, 12, 0, tzinfo=UTC))  # a Wednesday


@pytest.fixture
async def client(settings: Settings, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    # The clock jumps across months in these tests: keep the access tokens valid meanwhile.
    settings = dataclasses.replace(settings, access_token_ttl_seconds=400 * 24 * 3600)
    async with serve_with(settings, clock) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, clock: FixedClock) -> dict[str, str]:
    """Sign in "early in 2026", so the token is valid wherever the tests move the clock."""
    now, clock.current = clock.current, datetime(2026, 1, 1, tzinfo=UTC)
    try:
        return await signed_in(client)
    finally:
        clock.current = now


async def make_task(
    client: httpx.AsyncClient, me: dict[str, str], clock: FixedClock, at: datetime
) -> str:
    clock.current = at
    response = await client.post("/api/v1/tasks", json={"title": f"at {at}"}, headers=me)
    assert response.status_code == 201, response.text
    task_id: str = response.json()["data"]["id"]
    return task_id


async def stats(client: httpx.AsyncClient, me: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(STATS, params=params, headers=me)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_empty_account(client: httpx.AsyncClient, clock: FixedClock) -> None:
    me = await sign_in(client, clock)
    data = await stats(client, me)
    assert data == {
        "week_start": "2026-11-16T00:00:00Z",
        "week_end": "2026-11-23T00:00:00Z",
        "timezone": "UTC",
        "tasks_created_this_week": 0,
        "tasks_completed_this_week": 0,
        "total_completed": 0,
        "total_incomplete": 0,
        "overdue": 0,
        "due_this_week": 0,
    }


async def test_sunday_night_versus_monday_midnight_in_the_zone(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    me = await sign_in(client, clock)
    await make_task(client, me, clock, datetime(2026, 11, 22, 23, 59, 59, 999999, tzinfo=BERLIN))
    await make_task(client, me, clock, datetime(2026, 11, 23, 0, 0, tzinfo=BERLIN))
    clock.current = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    this_week = await stats(client, me, tz="Europe/Berlin")
    assert this_week["week_start"] == "2026-11-16T00:00:00+01:00"
    assert this_week["week_end"] == "2026-11-23T00:00:00+01:00"
    assert this_week["tasks_created_this_week"] == 1
    next_week = await stats(client, me, tz="Europe/Berlin", date="2026-11-23")
    assert next_week["tasks_created_this_week"] == 1
    # The same instants seen from UTC: Sunday 22:59:59 and Sunday 23:00 UTC, both this week.
    assert (await stats(client, me))["tasks_created_this_week"] == 2


@pytest.mark.parametrize(
    ("zone", "day", "inside", "outside", "start", "end"),
    [
        (
            "Europe/Berlin",
            "2026-03-25",
            datetime(2026, 3, 29, 23, 30),
            datetime(2026, 3, 30, 0, 0),
            "2026-03-23T00:00:00+01:00",
            "2026-03-30T00:00:00+02:00",
        ),
        (
            "Europe/Berlin",
            "2026-10-22",
            datetime(2026, 10, 25, 23, 30),
            datetime(2026, 10, 26, 0, 0),
            "2026-10-19T00:00:00+02:00",
            "2026-10-26T00:00:00+01:00",
        ),
        (
            "Pacific/Auckland",
            "2026-04-01",
            datetime(2026, 4, 5, 23, 30),
            datetime(2026, 4, 6, 0, 0),
            "2026-03-30T00:00:00+13:00",
            "2026-04-06T00:00:00+12:00",
        ),
        (
            "Pacific/Auckland",
            "2026-09-23",
            datetime(2026, 9, 27, 23, 30),
            datetime(2026, 9, 28, 0, 0),
            "2026-09-21T00:00:00+12:00",
            "2026-09-28T00:00:00+13:00",
        ),
    ],
)
async def test_weeks_with_a_dst_change(
    client: httpx.AsyncClient,
    clock: FixedClock,
    zone: str,
    day: str,
    inside: datetime,
    outside: datetime,
    start: str,
    end: str,
) -> None:
    me = await sign_in(client, clock)
    tz = ZoneInfo(zone)
    await make_task(client, me, clock, inside.replace(tzinfo=tz))
    await make_task(client, me, clock, outside.replace(tzinfo=tz))
    data = await stats(client, me, tz=zone, date=day)
    assert (data["week_start"], data["week_end"]) == (start, end)
    assert data["tasks_created_this_week"] == 1
    assert data["timezone"] == zone


async def test_created_last_week_completed_this_week_and_deletions(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    me = await sign_in(client, clock)
    old = await make_task(client, me, clock, datetime(2026, 11, 12, 9, 0, tzinfo=UTC))
    kept = await make_task(client, me, clock, datetime(2026, 11, 17, 9, 0, tzinfo=UTC))
    doomed = await make_task(client, me, clock, datetime(2026, 11, 17, 10, 0, tzinfo=UTC))
    clock.current = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    for task_id in (old, doomed):
        assert (
            await client.patch(f"/api/v1/tasks/{task_id}/complete", headers=me)
        ).status_code == 200
    assert (await client.delete(f"/api/v1/tasks/{doomed}", headers=me)).status_code == 200
    data = await stats(client, me)
    assert data["tasks_created_this_week"] == 1  # `kept`; `doomed` is deleted
    assert data["tasks_completed_this_week"] == 1  # `old`, created last week
    assert data["total_completed"] == 1
    assert data["total_incomplete"] == 1
    last_week = await stats(client, me, date="2026-11-12")
    assert last_week["tasks_created_this_week"] == 1
    assert last_week["tasks_completed_this_week"] == 0
    assert kept


async def test_reopening_moves_a_task_out_of_completed(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    me = await sign_in(client, clock)
    task = await make_task(client, me, clock, datetime(2026, 11, 17, 9, 0, tzinfo=UTC))
    await client.patch(f"/api/v1/tasks/{task}/complete", headers=me)
    await client.patch(f"/api/v1/tasks/{task}/incomplete", headers=me)
    data = await stats(client, me)
    assert (
        data["tasks_completed_this_week"],
        data["total_completed"],
        data["total_incomplete"],
    ) == (0, 0, 1)


async def test_other_users_tasks_do_not_count(client: httpx.AsyncClient, clock: FixedClock) -> None:
    me, other = await sign_in(client, clock), await sign_in(client, clock)
    await make_task(client, other, clock, datetime(2026, 11, 17, 9, 0, tzinfo=UTC))
    assert (await stats(client, me))["total_incomplete"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"tz": "Mars/Base"},
        {"tz": "../../etc/passwd"},
        {"date": "2026-13-01"},
        {"date": "22.11.2026"},
        {"date": "20261122"},
        {"date": ""},
        {"week": "1"},
    ],
)
async def test_bad_parameters_are_422(
    client: httpx.AsyncClient, clock: FixedClock, params: dict[str, str]
) -> None:
    me = await sign_in(client, clock)
    assert_error(await client.get(STATS, params=params, headers=me), 422, "VALIDATION_ERROR")


async def test_overdue_and_due_this_week_in_the_callers_zone(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    """Wednesday 2026-11-18 12:00 UTC is already Thursday 01:00 in Auckland (UTC+13): the
    all-day date of the 18th is overdue there, not yet in UTC; moments are the same
    everywhere. Completed tasks never count; the statistics stay one round trip."""
    me = await sign_in(client, clock)
    now = clock.current
    due = [
        {"due_date": "2026-11-18"},
        {"due_at": "2026-11-18T11:00:00Z"},
        {"due_at": "2026-11-18T13:00:00Z"},
        {"due_date": "2026-11-22"},
        {"due_date": "2026-11-23"},
        {"due_date": "2026-11-16"},
        {"due_at": "2026-11-22T11:30:00Z"},  # Monday 00:30 in Auckland: next week there
        {},
    ]
    for fields in due:
        response = await client.post("/api/v1/tasks", json={"title": "t", **fields}, headers=me)
        assert response.status_code == 201, response.text
    done = await client.post(
        "/api/v1/tasks", json={"title": "done", "due_date": "2026-11-01"}, headers=me
    )
    completed = await client.patch(
        f"/api/v1/tasks/{done.json()['data']['id']}/complete", headers=me
    )
    assert completed.status_code == 200
    clock.current = now
    utc = await stats(client, me)
    assert (utc["overdue"], utc["due_this_week"]) == (2, 6)
    auckland = await stats(client, me, tz="Pacific/Auckland")
    assert (auckland["overdue"], auckland["due_this_week"]) == (3, 5)
    # Another week: "due this week" is that week's; "overdue" is always as of now.
    next_week = await stats(client, me, date="2026-11-25")
    assert (next_week["overdue"], next_week["due_this_week"]) == (2, 1)
