"""In-memory reads and single-statement records, with the same rules as PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from uuid import UUID

from taskapp.adapters.memory.listing import matches, sorted_tasks
from taskapp.adapters.memory.store import MemoryStore, StoredKey
from taskapp.domain.model import (
    RATING_MAX,
    RATING_MIN,
    ClaimStatus,
    DownloadEvent,
    DueMarks,
    DueWindow,
    HistoryEntry,
    HistoryQuery,
    IdempotencyClaim,
    Page,
    PageRequest,
    Review,
    ReviewSummary,
    Task,
    TaskQuery,
    User,
    WeekCounts,
    email_key,
)
from taskapp.domain.ports import TaskBatch

ABANDONED_AFTER = timedelta(seconds=60)


class MemoryTaskReads:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def get(self, user_id: UUID, task_id: UUID) -> Task | None:
        task = self._store.tasks.get(task_id)
        return task if task is not None and task.user_id == user_id else None

    async def list(
        self, user_id: UUID, query: TaskQuery, window: DueWindow, page: PageRequest
    ) -> Page[Task]:
        mine = [t for t in self._store.tasks.values() if t.user_id == user_id]
        found = sorted_tasks([t for t in mine if matches(t, query, window)], query)
        window_items = found[page.offset : page.offset + page.limit]
        return Page(window_items, len(found), page.offset, page.limit)

    async def batch_after(
        self, user_id: UUID, query: TaskQuery, after: Task | None, limit: int
    ) -> TaskBatch:
        found = [
            t
            for t in self._store.tasks.values()
            if t.user_id == user_id and matches(t, TaskQuery(query.status), DueWindow())
        ]
        found.sort(key=lambda t: (t.created_at, t.id.int), reverse=True)
        if after is not None:
            bound = (after.created_at, after.id.int)
            found = [t for t in found if (t.created_at, t.id.int) < bound]
        return found[:limit]


class MemoryStatsReads:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def count_week(
        self, user_id: UUID, start: datetime, end: datetime, due: DueMarks | None = None
    ) -> WeekCounts:
        mine = [t for t in self._store.tasks.values() if t.user_id == user_id]
        dated = [] if due is None else [t for t in mine if not t.is_completed]
        return WeekCounts(
            created=sum(start <= t.created_at < end for t in mine),
            completed=sum(
                t.completed_at is not None and start <= t.completed_at < end for t in mine
            ),
            total_completed=sum(t.is_completed for t in mine),
            total_incomplete=sum(not t.is_completed for t in mine),
            overdue=sum(due is not None and _overdue(t, due.today, due.now) for t in dated),
            due_this_week=sum(
                due is not None
                and (
                    (t.due_date is not None and due.first_day <= t.due_date < due.end_day)
                    or (t.due_at is not None and start <= t.due_at < end)
                )
                for t in dated
            ),
        )


def _overdue(task: Task, today: date, now: datetime) -> bool:
    return (task.due_date is not None and task.due_date < today) or (
        task.due_at is not None and task.due_at < now
    )


class MemoryHistoryReads:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def list(
        self, user_id: UUID, query: HistoryQuery, page: PageRequest
    ) -> Page[HistoryEntry] | None:
        newest_first = [e for e in reversed(self._store.history) if e.user_id == user_id]
        if query.as_of is not None:
            position = next((i for i, e in enumerate(newest_first) if e.id == query.as_of), None)
            if position is None:
                return None
            newest_first = newest_first[position:]
        found = [
            e
            for e in newest_first
            if (query.task_id is None or e.task_id == query.task_id)
            and (query.action_type is None or e.action_type is query.action_type)
        ]
        window = found[page.offset : page.offset + page.limit]
        return Page(window, len(found), page.offset, page.limit)


class MemoryAccountReads:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def user(self, user_id: UUID) -> User | None:
        return self._store.users.get(user_id)

    async def user_by_email(self, email: str) -> User | None:
        key = email_key(email)
        return next((u for u in self._store.users.values() if email_key(u.email) == key), None)


class MemoryIdempotencyKeys:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def claim(
        self, user_id: UUID, key: str, fingerprint: str, now: datetime, ttl_seconds: int
    ) -> IdempotencyClaim:
        keys = self._store.idempotency_keys
        existing = keys.get((user_id, key))
        abandoned = (
            existing is not None
            and existing.task is None
            and existing.created_at < now - ABANDONED_AFTER
        )
        if existing is None or existing.expires_at <= now or abandoned:
            expires_at = now + timedelta(seconds=ttl_seconds)
            keys[(user_id, key)] = StoredKey(fingerprint, None, now, expires_at)
            return IdempotencyClaim(ClaimStatus.CLAIMED)
        if existing.fingerprint != fingerprint:
            return IdempotencyClaim(ClaimStatus.MISMATCH)
        if existing.task is None:
            return IdempotencyClaim(ClaimStatus.IN_PROGRESS)
        return IdempotencyClaim(ClaimStatus.REPLAY, existing.task)

    async def release(self, user_id: UUID, key: str) -> None:
        stored = self._store.idempotency_keys.get((user_id, key))
        if stored is not None and stored.task is None:
            del self._store.idempotency_keys[(user_id, key)]


class MemoryDownloadLog:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def record(self, event: DownloadEvent) -> None:
        self._store.downloads.append(event)

    async def list(self, user_id: UUID, page: PageRequest) -> Page[DownloadEvent]:
        mine = [e for e in self._store.downloads if e.user_id == user_id]
        mine.sort(key=lambda e: (e.created_at, e.id.int), reverse=True)
        window = mine[page.offset : page.offset + page.limit]
        return Page(window, len(mine), page.offset, page.limit)


class MemoryReviewStore:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def upsert(self, review: Review) -> tuple[Review, bool]:
        reviews = self._store.reviews
        existing = reviews.get(review.user_id)
        if existing is None:
            reviews[review.user_id] = review
            return review, True
        updated = replace(
            existing, rating=review.rating, comment=review.comment, updated_at=review.updated_at
        )
        reviews[review.user_id] = updated
        return updated, False

    async def get(self, user_id: UUID) -> Review | None:
        return self._store.reviews.get(user_id)

    async def summary(self) -> ReviewSummary:
        ratings = [r.rating for r in self._store.reviews.values()]
        return ReviewSummary(
            count=len(ratings),
            rating_sum=sum(ratings),
            distribution={n: ratings.count(n) for n in range(RATING_MIN, RATING_MAX + 1)},
        )
