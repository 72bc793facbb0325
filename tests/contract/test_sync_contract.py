"""Sync reads on both adapters: pages of changed objects after a cursor, deletions as ids,
lists in the same log, events in order, single-use tickets, places for event streams."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from taskapp.adapters.postgres.adapters import PostgresAdapters
from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.migrations import MIGRATION_LOCK_ID
from taskapp.adapters.postgres.sync import SLOT_KEY_TAG, slot_key
from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model import ActionType, TaskList
from taskapp.domain.model.sync import STREAMS_PER_USER, EventType, SyncCursor
from taskapp.domain.ports.sync import StreamSlot, StreamSlots
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
    ada, bob = uuid.uuid4(), uuid.uuid4()
    text = SyncCursor(ada, 42).encode()
    assert SyncCursor.decode(ada, text) == SyncCursor(ada, 42)
    for bad in (text + "x", "", "not a cursor", SyncCursor(bob, 42).encode()):
        with pytest.raises(ValidationFailed):
            SyncCursor.decode(ada, bad)


LIMIT = STREAMS_PER_USER


async def claimed(slots: StreamSlots, user_id: uuid.UUID, seconds: float = 2.0) -> StreamSlot:
    """A place, once one is free (a place given back may take a moment to be unlocked)."""
    async with asyncio.timeout(seconds):
        while True:
            slot = await slots.claim(user_id, LIMIT)
            if slot is not None:
                return slot
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def listening(adapters: Adapters) -> AsyncIterator[Adapters]:
    """The adapters, with the PostgreSQL listener (and so its locks) and the change
    notifier closed afterwards."""
    try:
        yield adapters
    finally:
        if isinstance(adapters, PostgresAdapters):
            await adapters.api_tokens.close()
            await adapters.change_notifier.close()


async def test_a_user_has_five_stream_places(adapters: Adapters) -> None:
    async with listening(adapters):
        ada, bob = uuid.uuid4(), uuid.uuid4()
        slots = adapters.stream_slots
        taken = [await slots.claim(ada, LIMIT) for _ in range(LIMIT)]
        assert all(taken)
        assert await slots.claim(ada, LIMIT) is None
        theirs = await slots.claim(bob, LIMIT)  # another user's places are their own
        assert theirs is not None
        place = taken[2]
        assert place is not None
        place.release()
        place.release()  # idempotent: gives back one place, not two
        taken[2] = await claimed(slots, ada)
        assert await slots.claim(ada, LIMIT) is None
        for slot in taken:
            assert slot is not None
            slot.release()
        again = [await claimed(slots, ada) for _ in range(LIMIT)]
        assert await slots.claim(ada, LIMIT) is None
        for slot in [*again, theirs]:
            slot.release()


async def test_stream_places_are_counted_across_instances(database: Database) -> None:
    """Two sets of adapters on one database stand for two server processes: each has its
    own listening connection, and the places are advisory locks held on it."""
    async with (
        listening(PostgresAdapters(database)) as one,
        listening(PostgresAdapters(database)) as two,
    ):
        assert isinstance(one, PostgresAdapters)
        assert isinstance(two, PostgresAdapters)
        ada = uuid.uuid4()
        here = [await claimed(one.stream_slots, ada) for _ in range(3)]
        there = [await claimed(two.stream_slots, ada) for _ in range(2)]
        assert await one.stream_slots.claim(ada, LIMIT) is None
        assert await two.stream_slots.claim(ada, LIMIT) is None
        here[0].release()  # freed on one process, taken on the other
        there.append(await claimed(two.stream_slots, ada))
        assert await one.stream_slots.claim(ada, LIMIT) is None

        # A process that loses its connection (or dies) loses its places with it.
        await two.api_tokens.close()
        mine = [await claimed(one.stream_slots, ada) for _ in range(3)]
        assert await one.stream_slots.claim(ada, LIMIT) is None
        for slot in [*here[1:], *mine]:
            slot.release()


def test_stream_place_keys_cannot_meet_the_migrations_lock() -> None:
    ada = uuid.uuid4()
    keys = {slot_key(ada, number) for number in range(8)}
    assert len(keys) == 8
    assert all(0 < key < 1 << 63 and key >> 56 == SLOT_KEY_TAG for key in keys)
    assert MIGRATION_LOCK_ID >> 56 != SLOT_KEY_TAG
    assert slot_key(uuid.uuid4(), 0) != slot_key(ada, 0)
    with pytest.raises(ValueError, match="0-7"):
        slot_key(ada, 8)
