"""Sync and live events in memory: the store's change log, tickets, a feed that the store
tells of each commit, and stream places (one process: all there is). Held to the PostgreSQL
adapters by tests/contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from taskapp.adapters.change_feed import ChangeHub, HubSubscription
from taskapp.adapters.memory.store import MemoryStore
from taskapp.domain.model.sync import ChangeEvent, EventType, SyncCursor, SyncPage


class MemorySyncReads:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def _mine(self, user_id: UUID, after: int) -> list[tuple[int, str, UUID, str]]:
        return [
            (seq, kind, object_id, action)
            for seq, (kind, user, object_id, action) in enumerate(self._store.changes, start=1)
            if user == user_id and seq > after
        ]

    async def changes(self, user_id: UUID, after: int, limit: int) -> SyncPage:
        latest: dict[tuple[str, UUID], int] = {}
        for seq, kind, object_id, _ in self._mine(user_id, after):
            latest[(kind, object_id)] = seq
        ordered = sorted(latest.items(), key=lambda item: item[1])
        page = ordered[:limit]
        result = SyncPage([], [], [], [], SyncCursor(user_id, after), len(ordered) > limit)
        for (kind, object_id), _ in page:
            if kind == "task":
                task = self._store.tasks.get(object_id)
                if task is not None and task.user_id == user_id:
                    result.tasks.append(task)
                else:
                    result.deleted_task_ids.append(object_id)
            else:
                found = self._store.lists.get(object_id)
                if found is not None and found.user_id == user_id:
                    result.lists.append(found)
                else:
                    result.deleted_list_ids.append(object_id)
        if page:
            result = SyncPage(
                result.tasks,
                result.lists,
                result.deleted_task_ids,
                result.deleted_list_ids,
                SyncCursor(user_id, page[-1][1]),
                result.has_more,
            )
        return result

    async def events(self, user_id: UUID, after: int, limit: int) -> list[ChangeEvent]:
        events = []
        for seq, kind, object_id, action in self._mine(user_id, after)[:limit]:
            task = self._store.tasks.get(object_id) if kind == "task" else None
            found = self._store.lists.get(object_id) if kind == "list" else None
            events.append(ChangeEvent(seq, EventType.of(kind, action), object_id, task, found))
        return events

    async def head(self, user_id: UUID) -> int:
        mine = self._mine(user_id, 0)
        return mine[-1][0] if mine else 0


class MemoryEventTickets:
    def __init__(self) -> None:
        self._tickets: dict[str, tuple[UUID, datetime]] = {}

    async def issue(self, user_id: UUID, ticket_hash: str, expires_at: datetime) -> None:
        self._tickets[ticket_hash] = (user_id, expires_at)

    async def redeem(self, ticket_hash: str, now: datetime) -> UUID | None:
        found = self._tickets.pop(ticket_hash, None)
        if found is None or found[1] <= now:
            return None
        return found[0]


class MemoryChangeFeed:
    def __init__(self, store: MemoryStore, hub: ChangeHub | None = None) -> None:
        self.hub = hub or ChangeHub()
        store.on_change.append(self.hub.notify)

    def subscribe(self, user_id: UUID) -> HubSubscription:
        return self.hub.subscribe(user_id)

    def on_any_change(self, callback: Callable[[UUID | None], None]) -> None:
        self.hub.on_any_change(callback)


class MemoryStreamSlot:
    def __init__(self, slots: MemoryStreamSlots, user_id: UUID, number: int) -> None:
        self._slots, self.user_id, self.number = slots, user_id, number
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._slots.give_back(self)


class MemoryStreamSlots:
    def __init__(self) -> None:
        self._held: dict[UUID, set[int]] = {}

    async def claim(self, user_id: UUID, limit: int) -> MemoryStreamSlot | None:
        held = self._held.setdefault(user_id, set())
        for number in range(limit):
            if number not in held:
                held.add(number)
                return MemoryStreamSlot(self, user_id, number)
        return None

    def give_back(self, slot: MemoryStreamSlot) -> None:
        held = self._held.get(slot.user_id)
        if held is not None:
            held.discard(slot.number)
            if not held:
                del self._held[slot.user_id]
