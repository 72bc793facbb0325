"""Sync reads on both adapters: pages of changed objects after a cursor, deletions as ids,
lists in the same log, events in order, single-use tickets."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model import ActionType, TaskList
from taskapp.domain.model.sync import EventType, SyncCursor
from tests.contract.test_adapters_contract import (
    NOW,
    Adapters,
    add_task,
    add_user,
    change,
    delete,
)


async def test_pages_carry_each_changed_object_once_with_deletions_as_ids(
    adapters: Adapters,
) -> None:
    ada = await add_user(adapters)
    other = await add_user(adapters, "bob@example.com")
    first = await add_task(adapters, ada, "first")
    second = await add_task(adapters, ada, "second")
    await add_task(adapters, other, "not mine")
    done = replace(first, is_completed=True, completed_at=NOW, version=2)
    await change(adapters, first, done, ActionType.COMPLETED)
    await delete(adapters, second)
    work = TaskList.create(ada.id, "Work", None, "a0", NOW)
    async with adapters.tasks_unit() as unit:
        await unit.lists.add(work)
        await unit.commit()

    everything = await adapters.sync_reads.changes(ada.id, 0, 10)
    assert [t.id for t in everything.tasks] == [first.id]
    assert everything.tasks[0].is_completed
    assert everything.deleted_task_ids == [second.id]
    assert [x.id for x in everything.lists] == [work.id]
    assert not everything.has_more
    assert everything.cursor.seq == await adapters.sync_reads.head(ada.id)

    # Small pages: the same objects, in order of their latest change, nothing twice.
    seen: list[object] = []
    cursor = 0
    while True:
        page = await adapters.sync_reads.changes(ada.id, cursor, 1)
        seen += [*page.tasks, *page.deleted_task_ids, *page.lists]
        assert page.cursor.seq > cursor
        cursor = page.cursor.seq
        if not page.has_more:
            break
    assert len(seen) == 3

    renamed = replace(work, name="Office", version=2)
    async with adapters.tasks_unit() as unit:
        await unit.lists.update(renamed, expected_version=1)
        await unit.commit()
    delta = await adapters.sync_reads.changes(ada.id, cursor, 10)
    assert ([x.name for x in delta.lists], delta.tasks, delta.deleted_task_ids) == (
        ["Office"],
        [],
        [],
    )
    nothing = await adapters.sync_reads.changes(ada.id, delta.cursor.seq, 10)
    assert (nothing.tasks, nothing.lists, nothing.cursor, nothing.has_more) == (
        [],
        [],
        delta.cursor,
        False,
    )

    events = await adapters.sync_reads.events(ada.id, 0, 100)
    assert [e.type for e in events] == [
        EventType.TASK_CREATED,
        EventType.TASK_CREATED,
        EventType.TASK_COMPLETED,
        EventType.TASK_DELETED,
        EventType.LIST_CREATED,
        EventType.LIST_UPDATED,
    ]
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    later = await adapters.sync_reads.events(ada.id, events[2].seq, 2)
    assert [e.seq for e in later] == [events[3].seq, events[4].seq]


async def test_tickets_are_single_use_and_expire(adapters: Adapters) -> None:
    ada = await add_user(adapters)
    await adapters.event_tickets.issue(ada.id, "h1", NOW + timedelta(seconds=60))
    await adapters.event_tickets.issue(ada.id, "h2", NOW + timedelta(seconds=60))
    assert await adapters.event_tickets.redeem("h1", NOW) == ada.id
    assert await adapters.event_tickets.redeem("h1", NOW) is None
    assert await adapters.event_tickets.redeem("h2", NOW + timedelta(seconds=61)) is None


def test_cursors_are_opaque_and_bound_to_their_user() -> None:
    import uuid

    ada, bob = uuid.uuid4(), uuid.uuid4()
    text = SyncCursor(ada, 42).encode()
    assert SyncCursor.decode(ada, text) == SyncCursor(ada, 42)
    for bad in (text + "x", "", "not a cursor", SyncCursor(bob, 42).encode()):
        with pytest.raises(ValidationFailed):
            SyncCursor.decode(ada, bad)
