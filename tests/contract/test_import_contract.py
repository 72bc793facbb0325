"""Issue 16 on both adapters: add_many (the import's bulk insert) and the due-date counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from taskapp.domain.model import ActionType, DueMarks, HistoryEntry, HistoryQuery, PageRequest, Task
from tests.contract.test_adapters_contract import NOW, Adapters, add_user


async def test_add_many_stores_parents_and_subtasks_with_their_entries(adapters: Adapters) -> None:
    user = await add_user(adapters)
    parent = Task.create(user.id, "parent", None, NOW, labels=["a;b", "c"])
    child = replace(
        Task.create(user.id, "child", "d", NOW, due_date=date(2026, 12, 1)), parent_id=parent.id
    )
    done = replace(Task.create(user.id, "done", None, NOW), is_completed=True, completed_at=NOW)
    tasks = [child, parent, done]  # a subtask before its parent: one statement, any order
    async with adapters.tasks_unit() as unit:
        await unit.tasks.add_many(tasks)
        await unit.history.append_many(
            [HistoryEntry.record(t, ActionType.CREATED, NOW) for t in tasks]
        )
        await unit.commit()
    for task in tasks:
        assert await adapters.task_reads.get(user.id, task.id) == task
    page = await adapters.history_reads.list(user.id, HistoryQuery(), PageRequest(0, 10))
    assert page is not None
    assert page.total == 3


async def test_add_many_without_commit_writes_nothing(adapters: Adapters) -> None:
    user = await add_user(adapters)
    task = Task.create(user.id, "t", None, NOW)
    async with adapters.tasks_unit() as unit:
        await unit.tasks.add_many([task])
    assert await adapters.task_reads.get(user.id, task.id) is None


async def test_overdue_and_due_this_week(adapters: Adapters) -> None:
    user = await add_user(adapters)
    zone = ZoneInfo("Pacific/Auckland")  # NOW (Sunday 12:00 UTC) is Monday 01:00 there
    tasks = [
        Task.create(user.id, "yesterday there", None, NOW, due_date=date(2026, 11, 22)),
        Task.create(user.id, "an hour ago", None, NOW, due_at=NOW - timedelta(hours=1)),
        Task.create(user.id, "in an hour", None, NOW, due_at=NOW + timedelta(hours=1)),
        Task.create(user.id, "next sunday", None, NOW, due_date=date(2026, 11, 29)),
        replace(
            Task.create(user.id, "done", None, NOW, due_date=date(2026, 1, 1)),
            is_completed=True,
            completed_at=NOW,
        ),
    ]
    async with adapters.tasks_unit() as unit:
        await unit.tasks.add_many(tasks)
        await unit.commit()
    monday = NOW.astimezone(zone).replace(hour=0)
    start, end = monday, monday + timedelta(days=7)
    week = await adapters.stats_reads.count_week(
        user.id, start, end, DueMarks.of(start, end, NOW, zone)
    )
    assert (week.overdue, week.due_this_week) == (2, 3)
    plain = await adapters.stats_reads.count_week(user.id, start, end)
    assert (plain.overdue, plain.due_this_week) == (0, 0)
