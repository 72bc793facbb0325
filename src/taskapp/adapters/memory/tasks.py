"""Tasks, history and idempotency keys in memory, with the same rules as PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from taskapp.domain.model import (
    ActionType,
    ClaimStatus,
    DownloadEvent,
    HistoryEntry,
    IdempotencyClaim,
    Page,
    PageRequest,
    Review,
    ReviewSummary,
    Task,
    TaskQuery,
    TaskStatus,
    WeekCounts,
)
from taskapp.domain.ports import TaskBatch

ABANDONED_AFTER = timedelta(seconds=60)


def _matches(task: Task, query: TaskQuery) -> bool:
    if query.status is TaskStatus.OPEN and task.is_completed:
        return False
    if query.status is TaskStatus.COMPLETED and not task.is_completed:
        return False
    if query.search:
        needle = query.search.casefold()
        haystacks = [task.title, task.description or ""]
        return any(needle in text.casefold() for text in haystacks)
    return True


class MemoryTaskRepository:
    def __init__(self, tasks: dict[UUID, Task]) -> None:
        self._tasks = tasks

    async def get(self, user_id: UUID, task_id: UUID) -> Task | None:
        task = self._tasks.get(task_id)
        return task if task is not None and task.user_id == user_id else None

    async def get_for_update(self, user_id: UUID, task_id: UUID) -> Task | None:
        return await self.get(user_id, task_id)  # the unit of work's lock serializes

    async def list(self, user_id: UUID, query: TaskQuery, page: PageRequest) -> Page[Task]:
        found = [t for t in self._tasks.values() if t.user_id == user_id and _matches(t, query)]
        found.sort(key=lambda t: (t.is_completed, -t.created_at.timestamp(), t.id.int * -1))
        window = found[page.offset : page.offset + page.limit]
        return Page(window, len(found), page.offset, page.limit)

    async def add(self, task: Task) -> None:
        self._tasks[task.id] = task

    async def update(self, task: Task) -> None:
        self._tasks[task.id] = task

    async def delete(self, task: Task) -> None:
        self._tasks.pop(task.id, None)

    async def batch_after(
        self, user_id: UUID, query: TaskQuery, after: Task | None, limit: int
    ) -> TaskBatch:
        found = [t for t in self._tasks.values() if t.user_id == user_id and _matches(t, query)]
        found.sort(key=lambda t: (t.created_at, str(t.id)), reverse=True)
        if after is not None:
            bound = (after.created_at, str(after.id))
            found = [t for t in found if (t.created_at, str(t.id)) < bound]
        return found[:limit]

    async def count_week(self, user_id: UUID, start: datetime, end: datetime) -> WeekCounts:
        mine = [t for t in self._tasks.values() if t.user_id == user_id]
        return WeekCounts(
            created=sum(start <= t.created_at < end for t in mine),
            completed=sum(
                t.completed_at is not None and start <= t.completed_at < end for t in mine
            ),
            total_completed=sum(t.is_completed for t in mine),
            total_incomplete=sum(not t.is_completed for t in mine),
        )


class MemoryHistoryLog:
    def __init__(self, entries: list[HistoryEntry]) -> None:
        self._entries = entries

    async def append(self, entry: HistoryEntry) -> None:
        self._entries.append(entry)

    async def list(
        self,
        user_id: UUID,
        page: PageRequest,
        task_id: UUID | None = None,
        action_type: ActionType | None = None,
        as_of: UUID | None = None,
    ) -> Page[HistoryEntry] | None:
        newest_first = [e for e in reversed(self._entries) if e.user_id == user_id]
        if as_of is not None:
            position = next((i for i, e in enumerate(newest_first) if e.id == as_of), None)
            if position is None:
                return None
            newest_first = newest_first[position:]
        found = [
            e
            for e in newest_first
            if (task_id is None or e.task_id == task_id)
            and (action_type is None or e.action_type is action_type)
        ]
        window = found[page.offset : page.offset + page.limit]
        return Page(window, len(found), page.offset, page.limit)


@dataclass
class StoredKey:
    fingerprint: str
    task: Task | None
    created_at: datetime
    expires_at: datetime


class MemoryIdempotencyKeys:
    def __init__(self, keys: dict[tuple[UUID, str], StoredKey]) -> None:
        self._keys = keys

    async def claim(
        self, user_id: UUID, key: str, fingerprint: str, now: datetime, ttl_seconds: int
    ) -> IdempotencyClaim:
        existing = self._keys.get((user_id, key))
        abandoned = (
            existing is not None
            and existing.task is None
            and existing.created_at < now - ABANDONED_AFTER
        )
        if existing is None or existing.expires_at <= now or abandoned:
            expires_at = now + timedelta(seconds=ttl_seconds)
            self._keys[(user_id, key)] = StoredKey(fingerprint, None, now, expires_at)
            return IdempotencyClaim(ClaimStatus.CLAIMED)
        if existing.fingerprint != fingerprint:
            return IdempotencyClaim(ClaimStatus.MISMATCH)
        if existing.task is None:
            return IdempotencyClaim(ClaimStatus.IN_PROGRESS)
        return IdempotencyClaim(ClaimStatus.REPLAY, existing.task)

    async def complete(self, user_id: UUID, key: str, task: Task) -> None:
        self._keys[(user_id, key)].task = task

    async def release(self, user_id: UUID, key: str) -> None:
        stored = self._keys.get((user_id, key))
        if stored is not None and stored.task is None:
            del self._keys[(user_id, key)]


class MemoryDownloadLog:
    def __init__(self, events: list[DownloadEvent]) -> None:
        self._events = events

    async def record(self, event: DownloadEvent) -> None:
        self._events.append(event)

    async def list(self, user_id: UUID, page: PageRequest) -> Page[DownloadEvent]:
        mine = [e for e in reversed(self._events) if e.user_id == user_id]
        return Page(
            mine[page.offset : page.offset + page.limit], len(mine), page.offset, page.limit
        )


class MemoryReviewRepository:
    def __init__(self, reviews: dict[UUID, Review]) -> None:
        self._reviews = reviews

    async def upsert(self, review: Review) -> tuple[Review, bool]:
        existing = self._reviews.get(review.user_id)
        if existing is None:
            self._reviews[review.user_id] = review
            return review, True
        updated = replace(
            existing, rating=review.rating, comment=review.comment, updated_at=review.updated_at
        )
        self._reviews[review.user_id] = updated
        return updated, False

    async def get(self, user_id: UUID) -> Review | None:
        return self._reviews.get(user_id)

    async def summary(self) -> ReviewSummary:
        ratings = [r.rating for r in self._reviews.values()]
        return ReviewSummary(
            count=len(ratings),
            rating_sum=sum(ratings),
            distribution={n: ratings.count(n) for n in range(1, 6)},
        )
