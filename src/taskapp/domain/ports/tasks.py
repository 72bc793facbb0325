"""Ports of the task use cases: their unit of work (tasks, history, idempotency records)
and their reads (tasks, history, statistics, export batches)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from taskapp.domain.model import (
    HistoryEntry,
    HistoryQuery,
    IdempotencyClaim,
    Page,
    PageRequest,
    Task,
    TaskQuery,
    WeekCounts,
)
from taskapp.domain.ports.unit_of_work import UnitOfWork

TaskBatch = list[Task]


class TaskRepository(Protocol):
    """Task writes, always addressed through their owner."""

    async def add(self, task: Task) -> None: ...

    async def update(self, task: Task, *, expected_version: int) -> None:
        """Store the changed task if the stored one is still at `expected_version`; if it
        is not (another change won the race), the commit raises StaleWrite."""
        ...

    async def delete(self, task: Task, *, expected_version: int) -> None:
        """Like `update`: guarded by the version the decision was made on."""
        ...


class HistoryLog(Protocol):
    """The append-only record of task changes, numbered per user in commit order."""

    async def append(self, entry: HistoryEntry) -> None: ...


class IdempotencyRecords(Protocol):
    async def complete(self, user_id: UUID, key: str, task: Task) -> None:
        """Remember the task a keyed create made, in the same unit as the task itself."""
        ...


class TasksUnitOfWork(UnitOfWork, Protocol):
    @property
    def tasks(self) -> TaskRepository: ...

    @property
    def history(self) -> HistoryLog: ...

    @property
    def idempotency_keys(self) -> IdempotencyRecords: ...


TasksUnitOfWorkFactory = Callable[[], TasksUnitOfWork]


class IdempotencyKeys(Protocol):
    """Claims on (user, key), each call atomic on its own."""

    async def claim(
        self, user_id: UUID, key: str, fingerprint: str, now: datetime, ttl_seconds: int
    ) -> IdempotencyClaim:
        """Take the key for this request, or say why not (replay, in progress, mismatch)."""
        ...

    async def release(self, user_id: UUID, key: str) -> None:
        """Forget a claim whose request failed, so the client can retry with the key."""
        ...


class TaskReads(Protocol):
    """One round trip each, outside any transaction; another user's task does not exist."""

    async def get(self, user_id: UUID, task_id: UUID) -> Task | None: ...

    async def list(self, user_id: UUID, query: TaskQuery, page: PageRequest) -> Page[Task]: ...

    async def batch_after(
        self, user_id: UUID, query: TaskQuery, after: Task | None, limit: int
    ) -> TaskBatch:
        """Up to `limit` tasks older than `after` (newest first by created_at, then id).

        The key never changes for a task, so walking batches visits each task once even
        while others are completed or edited, and no connection is held between batches.
        """
        ...


class HistoryReads(Protocol):
    async def list(
        self, user_id: UUID, query: HistoryQuery, page: PageRequest
    ) -> Page[HistoryEntry] | None:
        """Entries newest first. With `as_of` (an entry id), only that entry and older ones:
        pages anchored that way neither overlap nor leave gaps while new entries arrive.
        None when `as_of` names no entry of this user."""
        ...


class StatsReads(Protocol):
    async def count_week(self, user_id: UUID, start: datetime, end: datetime) -> WeekCounts:
        """Tasks created and completed in [start, end), and current totals."""
        ...
