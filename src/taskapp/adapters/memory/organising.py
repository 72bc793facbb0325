"""Lists, labels and placement in memory, with the same rules as PostgreSQL."""

from __future__ import annotations

from uuid import UUID

from taskapp.adapters.memory.store import MemoryStore
from taskapp.domain.model import (
    LabelUsage,
    ListSummary,
    Page,
    PageRequest,
    Task,
    label_key,
)
from taskapp.domain.ports import Gap, Siblings, TaskBatch


def _descendants_first_order(store: MemoryStore, roots: list[Task]) -> TaskBatch:
    """The roots and everything under them, parents before children."""
    ordered: list[Task] = []
    level = roots
    while level:
        ordered.extend(level)
        ids = {t.id for t in level}
        level = sorted(
            (t for t in store.tasks.values() if t.parent_id in ids), key=lambda t: t.id.int
        )
    return ordered


class MemoryPlacementReads:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def _mine(self, user_id: UUID, task_id: UUID | None) -> Task | None:
        task = None if task_id is None else self._store.tasks.get(task_id)
        return task if task is not None and task.user_id == user_id else None

    async def lineage(self, user_id: UUID, task_id: UUID) -> TaskBatch:
        found: list[Task] = []
        current = self._mine(user_id, task_id)
        while current is not None and len(found) < 10:
            found.append(current)
            current = self._mine(user_id, current.parent_id)
        return found

    async def subtree(self, user_id: UUID, task_id: UUID) -> TaskBatch:
        root = self._mine(user_id, task_id)
        return [] if root is None else _descendants_first_order(self._store, [root])

    async def task_gap(
        self,
        user_id: UUID,
        siblings: Siblings,
        after: UUID | None,
        before: UUID | None,
        moving: UUID | None = None,
    ) -> Gap:
        group = [
            t.position
            for t in self._store.tasks.values()
            if t.user_id == user_id
            and t.list_id == siblings.list_id
            and t.parent_id == siblings.parent_id
            and t.id != moving
        ]
        named = {
            t.id: t.position
            for t in self._store.tasks.values()
            if t.user_id == user_id
            and t.list_id == siblings.list_id
            and t.parent_id == siblings.parent_id
            and t.id != moving
        }
        return _gap(group, named, after, before)

    async def list_gap(
        self, user_id: UUID, after: UUID | None, before: UUID | None, moving: UUID | None = None
    ) -> Gap:
        named = {
            x.id: x.position
            for x in self._store.lists.values()
            if x.user_id == user_id and x.id != moving
        }
        return _gap(list(named.values()), named, after, before)


def _gap(
    positions: list[str], named: dict[UUID, str], after: UUID | None, before: UUID | None
) -> Gap:
    found = (after is None or after in named) and (before is None or before in named)
    by_bytes = sorted(positions, key=str.encode)
    if after is not None:
        low = named.get(after)
        bound = named.get(before) if before is not None else None
        if low is not None and bound is not None and not low.encode() < bound.encode():
            found = False  # with both, `after` must come before `before`
        higher = [
            p
            for p in by_bytes
            if low is not None
            and p.encode() > low.encode()
            and (bound is None or p.encode() <= bound.encode())
        ]
        return Gap(low, higher[0] if higher else None, found)
    if before is not None:
        high = named.get(before)
        lower = [p for p in by_bytes if high is not None and p.encode() < high.encode()]
        return Gap(lower[-1] if lower else None, high, found)
    return Gap(by_bytes[-1] if by_bytes else None, None, found)


class MemoryListReads:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def _summary(self, list_id: UUID) -> ListSummary:
        found = self._store.lists[list_id]
        tasks = [t for t in self._store.tasks.values() if t.list_id == list_id]
        done = sum(t.is_completed for t in tasks)
        return ListSummary(found, len(tasks) - done, done)

    async def get(self, user_id: UUID, list_id: UUID) -> ListSummary | None:
        found = self._store.lists.get(list_id)
        return None if found is None or found.user_id != user_id else self._summary(list_id)

    async def list(self, user_id: UUID, page: PageRequest) -> Page[ListSummary]:
        mine = sorted(
            (x for x in self._store.lists.values() if x.user_id == user_id),
            key=lambda x: (x.position.encode(), x.id.int),
        )
        window = [self._summary(x.id) for x in mine[page.offset : page.offset + page.limit]]
        return Page(window, len(mine), page.offset, page.limit)

    async def tasks_in(self, user_id: UUID, list_id: UUID) -> TaskBatch:
        roots = sorted(
            (
                t
                for t in self._store.tasks.values()
                if t.user_id == user_id and t.list_id == list_id and t.parent_id is None
            ),
            key=lambda t: t.id.int,
        )
        return _descendants_first_order(self._store, roots)


class MemoryLabelReads:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def usage(self, user_id: UUID) -> list[LabelUsage]:
        seen: dict[str, tuple[str, int, int]] = {}
        mine = sorted(
            (t for t in self._store.tasks.values() if t.user_id == user_id),
            key=lambda t: (t.created_at, t.id.int),
        )
        for task in mine:
            for label in task.labels:
                key = label_key(label)
                name, open_count, count = seen.get(key, (label, 0, 0))
                seen[key] = (name, open_count + (not task.is_completed), count + 1)
        return [LabelUsage(*seen[key]) for key in sorted(seen)]

    async def tasks_with(self, user_id: UUID, key: str) -> TaskBatch:
        return [
            t
            for t in self._store.tasks.values()
            if t.user_id == user_id and key in {label_key(x) for x in t.labels}
        ]
