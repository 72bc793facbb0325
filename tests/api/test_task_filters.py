"""GET /tasks filters and sorts (v1.1) with a pinned clock: due dates vs due moments in a
zone, around midnight and DST changes; stable pages; 422 for malformed filters."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from taskapp.config import Settings
from tests.api.conftest import serve_with
from tests.api.helpers import assert_error, signed_in
from tests.api.organising import (
    TASKS,
    Headers,
    create_list,
    create_task,
    field_names,
    list_tasks,
    patch_task,
)
from tests.unit.fakes import FixedClock

Client = httpx.AsyncClient
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def client(settings: Settings, clock: FixedClock) -> AsyncIterator[Client]:
    settings = dataclasses.replace(settings, access_token_ttl_seconds=400 * 24 * 3600)
    async with serve_with(settings, clock) as client:
        yield client


@pytest.fixture
async def me(client: Client, clock: FixedClock) -> Headers:
    now, clock.current = clock.current, datetime(2026, 1, 1, tzinfo=UTC)
    try:
        return await signed_in(client)
    finally:
        clock.current = now


async def make(client: Client, me: Headers, clock: FixedClock, **body: Any) -> dict[str, Any]:
    """A task created one second after the previous one (created order is meaningful)."""
    clock.advance(seconds=1)
    return await create_task(client, me, **body)


async def titles(client: Client, me: Headers, **params: Any) -> list[str]:
    page = await list_tasks(client, me, **params)
    return [t["title"] for t in page["items"]]


async def title_set(client: Client, me: Headers, **params: Any) -> set[str]:
    return set(await titles(client, me, **params))


# --- filters ----------------------------------------------------------------------------


async def test_list_and_parent_filters(client: Client, me: Headers, clock: FixedClock) -> None:
    work = await create_list(client, me, name="Work")
    top = await make(client, me, clock, title="top", list_id=work["id"])
    await make(client, me, clock, title="sub", parent_id=top["id"])
    await make(client, me, clock, title="inbox")
    inbox_parent = await make(client, me, clock, title="inbox parent")
    await make(client, me, clock, title="inbox sub", parent_id=inbox_parent["id"])
    assert await title_set(client, me, list_id=work["id"]) == {"top", "sub"}
    assert await title_set(client, me, list_id="inbox") == {"inbox", "inbox parent", "inbox sub"}
    assert await title_set(client, me, parent_id="none") == {"top", "inbox", "inbox parent"}
    assert await title_set(client, me, parent_id=top["id"]) == {"sub"}
    assert await title_set(client, me, list_id="inbox", parent_id="none") == {
        "inbox",
        "inbox parent",
    }
    assert await title_set(client, me, list_id=work["id"], parent_id=inbox_parent["id"]) == set()


async def test_label_filter_needs_every_label_case_insensitively(
    client: Client, me: Headers, clock: FixedClock
) -> None:
    await make(client, me, clock, title="both", labels=["Work", "urgent"])
    await make(client, me, clock, title="work", labels=["work"])
    await make(client, me, clock, title="none")
    assert await title_set(client, me, label="WORK") == {"both", "work"}
    assert await title_set(client, me, label=["work", "URGENT"]) == {"both"}
    assert await title_set(client, me, label=["work", "work"]) == {"both", "work"}
    assert await title_set(client, me, label=" work ") == {"both", "work"}
    assert await title_set(client, me, label="missing") == set()


async def test_priority_filter_is_any_of(client: Client, me: Headers, clock: FixedClock) -> None:
    for priority in ("none", "low", "medium", "high"):
        await make(client, me, clock, title=priority, priority=priority)
    assert await title_set(client, me, priority="high") == {"high"}
    assert await title_set(client, me, priority=["high", "low"]) == {"high", "low"}
    assert await title_set(client, me, priority="none") == {"none"}


async def test_has_due(client: Client, me: Headers, clock: FixedClock) -> None:
    await make(client, me, clock, title="date", due_date="2026-11-20")
    await make(client, me, clock, title="moment", due_at="2026-11-20T10:00:00Z")
    await make(client, me, clock, title="never")
    assert await title_set(client, me, has_due="true") == {"date", "moment"}
    assert await title_set(client, me, has_due="false") == {"never"}


async def test_every_filter_combines_with_and(
    client: Client, me: Headers, clock: FixedClock
) -> None:
    work = await create_list(client, me, name="Work")
    match = {
        "list_id": work["id"],
        "labels": ["x"],
        "priority": "high",
        "due_date": "2026-11-10",
        "description": "needle",
    }
    await make(client, me, clock, title="match", **match)
    for field, value in (
        ("list_id", None),
        ("labels", ["y"]),
        ("priority", "low"),
        ("due_date", "2026-11-25"),
        ("description", "hay"),
    ):
        await make(client, me, clock, title=f"not {field}", **{**match, field: value})
    done = await make(client, me, clock, title="done", **match)
    await client.patch(f"{TASKS}/{done['id']}/complete", headers=me)
    params = {
        "list_id": work["id"],
        "parent_id": "none",
        "label": "X",
        "priority": ["high", "medium"],
        "due_from": "2026-11-01",
        "due_to": "2026-11-15",
        "overdue": "true",
        "has_due": "true",
        "status": "open",
        "q": "needle",
        "tz": "Europe/Berlin",
    }
    for sort in ("default", "due", "-priority", "manual", "created", "updated", "-title"):
        assert await titles(client, me, sort=sort, **params) == ["match"]
    assert await title_set(client, me, **{**params, "status": "all", "overdue": "false"}) == {
        "match",
        "done",
    }


# --- due windows in a zone --------------------------------------------------------------


async def test_due_from_and_due_to_are_inclusive_days_in_tz(
    client: Client, me: Headers, clock: FixedClock
) -> None:
    await make(client, me, clock, title="date 20", due_date="2026-11-20")
    await make(client, me, clock, title="date 21", due_date="2026-11-21")
    # 23:30 UTC on the 20th is 00:30 on the 21st in Berlin, 18:30 on the 20th in New York.
    await make(client, me, clock, title="late 20 utc", due_at="2026-11-20T23:30:00Z")
    await make(client, me, clock, title="early 21 utc", due_at="2026-11-21T00:30:00Z")
    day20 = {"due_from": "2026-11-20", "due_to": "2026-11-20"}
    assert await title_set(client, me, **day20) == {"date 20", "late 20 utc"}
    assert await title_set(client, me, **day20, tz="Europe/Berlin") == {"date 20"}
    assert await title_set(client, me, **day20, tz="America/New_York") == {
        "date 20",
        "late 20 utc",
        "early 21 utc",
    }
    day21_berlin = {"due_from": "2026-11-21", "due_to": "2026-11-21", "tz": "Europe/Berlin"}
    assert await title_set(client, me, **day21_berlin) == {
        "date 21",
        "late 20 utc",
        "early 21 utc",
    }
    assert await title_set(client, me, due_from="2026-11-21") == {"date 21", "early 21 utc"}
    assert await title_set(client, me, due_to="2026-11-20") == {"date 20", "late 20 utc"}


async def test_due_window_on_a_23_hour_day_berlin_spring_forward(
    client: Client, me: Headers, clock: FixedClock
) -> None:
    # 2026-03-29 in Berlin runs from 2026-03-28T23:00Z (CET) to 2026-03-29T22:00Z (CEST).
    for at in ("2026-03-28T22:59:59Z", "2026-03-28T23:00:00Z", "2026-03-29T21:59:59Z"):
        await make(client, me, clock, title=at, due_at=at)
    await make(client, me, clock, title="2026-03-29T22:00:00Z", due_at="2026-03-29T22:00:00Z")
    await make(client, me, clock, title="date", due_date="2026-03-29")
    day = {"due_from": "2026-03-29", "due_to": "2026-03-29", "tz": "Europe/Berlin"}
    assert await title_set(client, me, **day) == {
        "2026-03-28T23:00:00Z",
        "2026-03-29T21:59:59Z",
        "date",
    }


async def test_due_window_on_a_day_without_midnight_santiago(
    client: Client, me: Headers, clock: FixedClock
) -> None:
    # In Santiago, 2026-09-06 starts at 01:00 local (clocks jump at midnight): 04:00Z.
    for at in ("2026-09-06T03:59:59Z", "2026-09-06T04:00:00Z"):
        await make(client, me, clock, title=at, due_at=at)
    day = {"due_from": "2026-09-06", "tz": "America/Santiago"}
    assert await title_set(client, me, **day) == {"2026-09-06T04:00:00Z"}
    before = {"due_to": "2026-09-05", "tz": "America/Santiago"}
    assert await title_set(client, me, **before) == {"2026-09-06T03:59:59Z"}


async def test_overdue_around_midnight_in_tz(
    client: Client, me: Headers, clock: FixedClock
) -> None:
    clock.current = datetime(2026, 11, 18, 20, 0, tzinfo=UTC)
    await make(client, me, clock, title="date 17", due_date="2026-11-17")
    await make(client, me, clock, title="date 18", due_date="2026-11-18")
    await make(client, me, clock, title="at 22:59:59Z", due_at="2026-11-18T22:59:59Z")
    done = await make(client, me, clock, title="done", due_date="2026-11-01")
    await client.patch(f"{TASKS}/{done['id']}/complete", headers=me)
    await make(client, me, clock, title="no due")

    async def overdue(at: datetime, tz: str) -> set[str]:
        clock.current = at
        return await title_set(client, me, overdue="true", tz=tz)

    # Berlin (UTC+1): the 18th ends at 23:00Z.
    assert await overdue(datetime(2026, 11, 18, 22, 59, 59, tzinfo=UTC), "Europe/Berlin") == {
        "date 17"
    }
    assert await overdue(datetime(2026, 11, 18, 23, 0, tzinfo=UTC), "Europe/Berlin") == {
        "date 17",
        "date 18",
        "at 22:59:59Z",
    }
    # In UTC the 18th is not over at 23:00Z; the moment is past either way.
    assert await overdue(datetime(2026, 11, 18, 23, 0, tzinfo=UTC), "UTC") == {
        "date 17",
        "at 22:59:59Z",
    }
    assert await overdue(datetime(2026, 11, 19, 0, 0, tzinfo=UTC), "UTC") == {
        "date 17",
        "date 18",
        "at 22:59:59Z",
    }
    # A moment exactly now is not yet overdue.
    assert await overdue(datetime(2026, 11, 18, 22, 59, 59, tzinfo=UTC), "UTC") == {"date 17"}
    # overdue=false filters nothing.
    assert len(await title_set(client, me, overdue="false")) == 5


async def test_overdue_across_the_autumn_dst_change(
    client: Client, me: Headers, clock: FixedClock
) -> None:
    # New York falls back on 2026-11-01: that day has 25 hours and ends at 2026-11-02T05:00Z.
    await make(client, me, clock, title="nov 1", due_date="2026-11-01")
    ny = "America/New_York"
    clock.current = datetime(2026, 11, 2, 4, 59, 59, tzinfo=UTC)
    assert await title_set(client, me, overdue="true", tz=ny) == set()
    clock.current = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
    assert await title_set(client, me, overdue="true", tz=ny) == {"nov 1"}


# --- sorts ------------------------------------------------------------------------------


async def test_sort_due_reads_dates_as_the_start_of_the_day_in_tz(
    client: Client, me: Headers, clock: FixedClock
) -> None:
    await make(client, me, clock, title="none")
    await make(client, me, clock, title="date 21", due_date="2026-11-21")
    await make(client, me, clock, title="at 21 00:30Z", due_at="2026-11-21T00:30:00Z")
    await make(client, me, clock, title="at 20 23:30Z", due_at="2026-11-20T23:30:00Z")
    await make(client, me, clock, title="date 20", due_date="2026-11-20")
    # UTC: the 21st starts at 00:00Z.
    assert await titles(client, me, sort="due") == [
        "date 20",
        "at 20 23:30Z",
        "date 21",
        "at 21 00:30Z",
        "none",
    ]
    # Berlin: the 21st starts at 2026-11-20T23:00Z, before 23:30Z.
    assert await titles(client, me, sort="due", tz="Europe/Berlin") == [
        "date 20",
        "date 21",
        "at 20 23:30Z",
        "at 21 00:30Z",
        "none",
    ]
    # Los Angeles (UTC-8): the 20th starts at 08:00Z, the 21st at 2026-11-21T08:00Z.
    assert await titles(client, me, sort="due", tz="America/Los_Angeles") == [
        "date 20",
        "at 20 23:30Z",
        "at 21 00:30Z",
        "date 21",
        "none",
    ]
    # Reversed: latest first; tasks without a due date stay last.
    assert await titles(client, me, sort="-due") == [
        "at 21 00:30Z",
        "date 21",
        "at 20 23:30Z",
        "date 20",
        "none",
    ]


async def test_sort_due_on_the_day_santiago_skips_midnight(
    client: Client, me: Headers, clock: FixedClock
) -> None:
    await make(client, me, clock, title="at 03:59Z", due_at="2026-09-06T03:59:00Z")
    await make(client, me, clock, title="at 04:01Z", due_at="2026-09-06T04:01:00Z")
    await make(client, me, clock, title="date", due_date="2026-09-06")
    assert await titles(client, me, sort="due", tz="America/Santiago") == [
        "at 03:59Z",
        "date",
        "at 04:01Z",
    ]


async def test_other_sorts(client: Client, me: Headers, clock: FixedClock) -> None:
    b = await make(client, me, clock, title="banana", priority="low")
    await make(client, me, clock, title="Apple", priority="high")
    c = await make(client, me, clock, title="cherry", priority="none")
    await make(client, me, clock, title="date", priority="medium")
    clock.advance(seconds=10)
    await patch_task(client, me, b["id"], description="touched")
    clock.advance(seconds=1)
    await client.patch(f"{TASKS}/{c['id']}/complete", headers=me)
    assert await titles(client, me, sort="priority") == ["Apple", "date", "banana", "cherry"]
    assert await titles(client, me, sort="-priority") == ["cherry", "banana", "date", "Apple"]
    assert await titles(client, me, sort="title") == ["Apple", "banana", "cherry", "date"]
    assert await titles(client, me, sort="-title") == ["date", "cherry", "banana", "Apple"]
    assert await titles(client, me, sort="created") == ["banana", "Apple", "cherry", "date"]
    assert await titles(client, me, sort="-created") == ["date", "cherry", "Apple", "banana"]
    assert (await titles(client, me, sort="updated"))[-2:] == ["banana", "cherry"]
    assert (await titles(client, me, sort="-updated"))[:2] == ["cherry", "banana"]
    # default: open first, newest first.
    assert await titles(client, me) == ["date", "Apple", "banana", "cherry"]
    assert await titles(client, me, sort="default") == ["date", "Apple", "banana", "cherry"]
    assert await titles(client, me, sort="manual") == ["banana", "Apple", "cherry", "date"]
    assert await titles(client, me, sort="-manual") == ["date", "cherry", "Apple", "banana"]


@pytest.mark.parametrize(
    "sort",
    [
        "due",
        "-due",
        "priority",
        "-priority",
        "created",
        "-created",
        "updated",
        "title",
        "-title",
        "default",
        "manual",
    ],
)
async def test_ties_are_broken_by_id_so_pages_never_overlap_or_skip(
    client: Client, me: Headers, clock: FixedClock, sort: str
) -> None:
    # The clock stands still: every task has the same created_at, updated_at and due date.
    ids = []
    for _ in range(7):
        task = await create_task(client, me, title="Same", due_date="2026-11-20", priority="low")
        ids.append(task["id"])
    await create_task(client, me, title="Same", priority="low")  # no due date
    seen: list[str] = []
    for page in range(1, 6):
        items = (await list_tasks(client, me, sort=sort, limit=2, page=page))["items"]
        seen += [t["id"] for t in items]
    assert len(seen) == 8
    assert len(set(seen)) == 8
    # The same order every time, and by offset too.
    again = [t["id"] for t in (await list_tasks(client, me, sort=sort, limit=8))["items"]]
    assert again == seen
    shifted = (await list_tasks(client, me, sort=sort, limit=3, offset=3))["items"]
    assert [t["id"] for t in shifted] == seen[3:6]


# --- malformed filters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"list_id": "work"}, "list_id"),
        ({"list_id": "INBOX"}, "list_id"),
        ({"parent_id": "top"}, "parent_id"),
        ({"parent_id": "12345678-1234-1234-1234-1234567890"}, "parent_id"),
        ({"label": ""}, "label"),
        ({"label": "x" * 51}, "label"),
        ({"priority": "urgent"}, "priority"),
        ({"due_from": "2026-13-01"}, "due_from"),
        ({"due_from": "2026-11-18T00:00:00Z"}, "due_from"),
        ({"due_to": "tomorrow"}, "due_to"),
        ({"overdue": "maybe"}, "overdue"),
        ({"has_due": "yes please"}, "has_due"),
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"tz": "localtime"}, "tz"),
        ({"sort": "random"}, "sort"),
        ({"sort": "--due"}, "sort"),
        ({"sort": "Due"}, "sort"),
        ({"status": "done"}, "status"),
        ({"due": "2026-11-18"}, "due"),
        ({"labels": "x"}, "labels"),
    ],
)
async def test_malformed_filters_are_422_naming_the_field(
    client: Client, me: Headers, params: dict[str, str], field: str
) -> None:
    response = await client.get(TASKS, params=params, headers=me)
    assert_error(response, 422, "VALIDATION_ERROR")
    names = field_names(response)
    message = response.json()["error"]["message"]
    assert any(field in (name or "") for name in names) or field in message, response.text


async def test_due_from_after_due_to_is_simply_empty(
    client: Client, me: Headers, clock: FixedClock
) -> None:
    await make(client, me, clock, title="x", due_date="2026-11-20")
    assert await title_set(client, me, due_from="2026-11-21", due_to="2026-11-19") == set()


async def test_far_dates_do_not_overflow(client: Client, me: Headers, clock: FixedClock) -> None:
    await make(client, me, clock, title="x", due_date="2026-11-20")
    assert await title_set(client, me, due_from="0001-01-01", due_to="9999-12-31") == {"x"}
    assert await title_set(
        client, me, due_from="0001-01-01", due_to="9999-12-31", tz="Pacific/Kiritimati"
    ) == {"x"}
    assert await title_set(client, me, due_to="0001-01-01", tz="America/Adak") == set()


async def test_filters_only_see_the_callers_tasks(
    client: Client, me: Headers, clock: FixedClock
) -> None:
    await make(client, me, clock, title="mine", labels=["shared"], due_date="2026-11-01")
    now, clock.current = clock.current, datetime(2026, 1, 1, tzinfo=UTC)
    other = await signed_in(client)
    clock.current = now
    await create_task(client, other, title="theirs", labels=["shared"], due_date="2026-11-01")
    assert await title_set(client, me, label="shared", overdue="true") == {"mine"}
    clock.advance(days=1)
    assert await title_set(client, me, sort="due", has_due="true") == {"mine"}
