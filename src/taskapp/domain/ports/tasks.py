"""Ports of the task use cases: their unit of work (tasks, history, idempotency records)
and their reads (tasks, history, statistics, export batches)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from taskapp.domain.model import (
    DueMarks,
    DueWindow,
    HistoryEntry,
    HistoryQuery,
    IdempotencyClaim,
    LabelUsage,
    ListSummary,
    Page,
    PageRequest,
    Task,
    TaskList,
    TaskQuery,
    WeekCounts,
)
from taskapp.domain.ports.unit_of_work import UnitOfWork

TaskBatch = list[Task]


class TaskRepository(Protocol):
    """Task writes, always addressed through their owner."""

    async def add(self, task: Task) -> None:
        """Store a new task; when the user already has TASKS_PER_USER tasks, nothing is
        stored and the commit raises StaleWrite."""
        ...

    async def update(self, task: Task, *, expected_version: int) -> None:
        """Store the changed task if the stored one is still at `expected_version`; if it
        is not (another change won the race), the commit raises StaleWrite."""
        ...

    async def delete(self, task: Task, *, expected_version: int) -> None:
        """Like `update`: guarded by the version the decision was made on."""
        ...

    async def add_many(self, tasks: Sequence[Task]) -> None:
        """Store new tasks of one user, all or none; when they would take the user past
        TASKS_PER_USER, nothing is stored and the commit raises StaleWrite."""
        ...

    async def update_many(self, changes: Sequence[tuple[Task, int]]) -> None:
        """Store each changed task if it is still at its expected version; if any is not,
        none is stored and the commit raises StaleWrite."""
        ...

    async def delete_many(self, tasks: Sequence[Task]) -> None:
        """Delete each task if it is still at the version given; all or none."""
        ...


class ListRepository(Protocol):
    async def add(self, task_list: TaskList) -> None:
        """Store a new list; beyond LISTS_PER_USER the commit raises StaleWrite; a name the
        user already has raises ListNameTaken."""
        ...

    async def update(self, task_list: TaskList, *, expected_version: int) -> None: ...

    async def delete(
        self, task_list: TaskList, *, expected_version: int, holding: Sequence[UUID] = ()
    ) -> None:
        """Delete the list if it is at `expected_version` and holds no task but those in
        `holding` (which the same unit deletes); else the commit raises StaleWrite."""
        ...


class HistoryLog(Protocol):
    """The append-only record of task changes, numbered per user in commit order."""

    async def append(self, entry: HistoryEntry) -> None: ...

    async def append_many(self, entries: Sequence[HistoryEntry]) -> None: ...


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

    @property
    def lists(self) -> ListRepository: ...


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

    async def list(
        self, user_id: UUID, query: TaskQuery, window: DueWindow, page: PageRequest
    ) -> Page[Task]:
        """Filtered and sorted as `query` says, ties by id; `window` holds its due-date
        bounds resolved in the caller's zone."""
        ...

    async def batch_after(
        self, user_id: UUID, query: TaskQuery, after: Task | None, limit: int
    ) -> TaskBatch:
        """Up to `limit` tasks older than `after` (newest first by created_at, then id).

        The key never changes for a task, so walking batches visits each task once even
        while others are completed or edited, and no connection is held between batches.
        """
        ...


@dataclass(frozen=True, slots=True)
class Gap:
    """Where a task or list goes among its siblings: strictly between `low` and `high`
    (None: no bound). `found` is False when a named neighbour is not a sibling there."""

    low: str | None
    high: str | None
    found: bool = True


@dataclass(frozen=True, slots=True)
class Siblings:
    """A group of siblings: tasks of one list (None: the Inbox) under one parent (None:
    top level)."""

    list_id: UUID | None
    parent_id: UUID | None


class PlacementReads(Protocol):
    async def lineage(self, user_id: UUID, task_id: UUID) -> list[Task]:
        """The task and its ancestors, nearest first (empty: no such task of this user)."""
        ...

    async def subtree(self, user_id: UUID, task_id: UUID) -> list[Task]:
        """The task and all its descendants (parents before their children)."""
        ...

    async def task_gap(
        self,
        user_id: UUID,
        siblings: Siblings,
        after: UUID | None,
        before: UUID | None,
        moving: UUID | None = None,
    ) -> Gap:
        """Right after `after`, else right before `before`, else at the end; `moving` is
        left out of the siblings (it is the task being placed)."""
        ...

    async def list_gap(
        self, user_id: UUID, after: UUID | None, before: UUID | None, moving: UUID | None = None
    ) -> Gap: ...


class ListReads(Protocol):
    async def get(self, user_id: UUID, list_id: UUID) -> ListSummary | None: ...

    async def list(self, user_id: UUID, page: PageRequest) -> Page[ListSummary]:
        """In manual order (position, then id)."""
        ...

    async def tasks_in(self, user_id: UUID, list_id: UUID) -> TaskBatch:
        """Every task of the list, parents before their children."""
        ...


class LabelReads(Protocol):
    async def usage(self, user_id: UUID) -> list[LabelUsage]:
        """Every label the user's tasks carry (first spelling met), by name."""
        ...

    async def tasks_with(self, user_id: UUID, key: str) -> list[Task]:
        """The tasks carrying the label whose label_key is `key`."""
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
    async def count_week(
        self, user_id: UUID, start: datetime, end: datetime, due: DueMarks | None = None
    ) -> WeekCounts:
        """Tasks created and completed in [start, end), and current totals; with `due`,
        also the open tasks overdue and due this week (else both are 0)."""
        ...
