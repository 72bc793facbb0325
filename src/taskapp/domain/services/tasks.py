"""Task use cases. Each change and its history entry land together, or neither.

A change reads the task (one round trip), lets the entity decide, and writes the change and
its history entry guarded by the version it read (one more round trip). When another change
won the race in between, the write does nothing and the decision is made again on the
fresh task: optimistic concurrency, so no transaction stays open across round trips.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from taskapp.domain.errors import (
    Contended,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    StaleWrite,
    TaskNotFound,
    ValidationFailed,
    VersionConflict,
)
from taskapp.domain.model import (
    IDEMPOTENCY_TTL_SECONDS,
    KEEP,
    ActionType,
    ClaimStatus,
    FieldChange,
    HistoryEntry,
    Keep,
    Page,
    PageRequest,
    Task,
    TaskQuery,
    check_idempotency_key,
    normalize_description,
    normalize_title,
)
from taskapp.domain.ports import Clock, IdempotencyKeys, TaskReads, TasksUnitOfWorkFactory

# Enough for every one of 64 concurrent changes of one task to get its turn.
MAX_ATTEMPTS = 64


@dataclass(frozen=True, slots=True)
class Created:
    task: Task
    replayed: bool = False


# A rule decides on the task as read: the changed task with its history action and field
# changes, or None when the request changes nothing.
Decision = tuple[Task, ActionType, dict[str, FieldChange] | None] | None
Rule = Callable[[Task, datetime], Decision]


class TaskService:
    def __init__(
        self,
        uow: TasksUnitOfWorkFactory,
        reads: TaskReads,
        idempotency_keys: IdempotencyKeys,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._reads = reads
        self._keys = idempotency_keys
        self._clock = clock

    async def create(
        self,
        user_id: UUID,
        title: str,
        description: str | None,
        idempotency_key: str | None = None,
    ) -> Created:
        title = normalize_title(title)
        description = normalize_description(description)
        if idempotency_key is None:
            return Created(await self._insert(user_id, title, description))
        key = check_idempotency_key(idempotency_key)
        fingerprint = _fingerprint(title, description)
        claim = await self._keys.claim(
            user_id, key, fingerprint, self._clock.now(), IDEMPOTENCY_TTL_SECONDS
        )
        if claim.status is ClaimStatus.REPLAY and claim.task is not None:
            return Created(claim.task, replayed=True)
        if claim.status is ClaimStatus.IN_PROGRESS:
            raise IdempotencyKeyInProgress
        if claim.status is ClaimStatus.MISMATCH:
            raise IdempotencyKeyReused
        try:
            return Created(await self._insert(user_id, title, description, key))
        except BaseException:
            await self._keys.release(user_id, key)
            raise

    async def _insert(
        self, user_id: UUID, title: str, description: str | None, key: str | None = None
    ) -> Task:
        now = self._clock.now()
        task = Task.create(user_id, title, description, now)
        async with self._uow() as uow:
            await uow.tasks.add(task)
            await uow.history.append(HistoryEntry.record(task, ActionType.CREATED, now))
            if key is not None:
                await uow.idempotency_keys.complete(user_id, key, task)
            await uow.commit()
        return task

    async def get(self, user_id: UUID, task_id: UUID) -> Task:
        task = await self._reads.get(user_id, task_id)
        if task is None:
            raise TaskNotFound
        return task

    async def list(self, user_id: UUID, query: TaskQuery, page: PageRequest) -> Page[Task]:
        return await self._reads.list(user_id, query, page)

    async def update(
        self,
        user_id: UUID,
        task_id: UUID,
        *,
        title: str | None = None,
        description: str | Keep | None = KEEP,
        expected_versions: Collection[int] | None = None,
    ) -> Task:
        if title is None and isinstance(description, Keep):
            raise ValidationFailed.of("body", "give at least one of title, description")

        def edit(task: Task, now: datetime) -> Decision:
            edited = task.edit(now, title=title, description=description)
            return None if edited is None else (edited[0], ActionType.UPDATED, edited[1])

        return await self._change(user_id, task_id, expected_versions, edit)

    async def complete(
        self, user_id: UUID, task_id: UUID, expected_versions: Collection[int] | None = None
    ) -> Task:
        return await self._change(user_id, task_id, expected_versions, _transition(Task.complete))

    async def reopen(
        self, user_id: UUID, task_id: UUID, expected_versions: Collection[int] | None = None
    ) -> Task:
        return await self._change(user_id, task_id, expected_versions, _transition(Task.reopen))

    async def toggle(
        self, user_id: UUID, task_id: UUID, expected_versions: Collection[int] | None = None
    ) -> Task:
        return await self._change(user_id, task_id, expected_versions, _transition(Task.toggle))

    async def delete(
        self, user_id: UUID, task_id: UUID, expected_versions: Collection[int] | None = None
    ) -> Task:
        for attempt in range(MAX_ATTEMPTS):
            task = await self._current(user_id, task_id, expected_versions)
            entry = HistoryEntry.record(task, ActionType.DELETED, self._clock.now())
            try:
                async with self._uow() as uow:
                    await uow.tasks.delete(task, expected_version=task.version)
                    await uow.history.append(entry)
                    await uow.commit()
            except StaleWrite:
                await _back_off(attempt)
                continue
            return task
        raise Contended

    async def _change(
        self, user_id: UUID, task_id: UUID, expected_versions: Collection[int] | None, rule: Rule
    ) -> Task:
        """Read, decide, write guarded by the version read; on a lost race, again.

        `expected_versions` (from If-Match): the change applies only while the task is at
        one of them; None accepts any."""
        for attempt in range(MAX_ATTEMPTS):
            task = await self._current(user_id, task_id, expected_versions)
            now = self._clock.now()
            decision = rule(task, now)
            if decision is None:  # already so: idempotent, no new version, no entry
                return task
            changed, action, changes = decision
            try:
                async with self._uow() as uow:
                    await uow.tasks.update(changed, expected_version=task.version)
                    await uow.history.append(HistoryEntry.record(changed, action, now, changes))
                    await uow.commit()
            except StaleWrite:
                await _back_off(attempt)
                continue
            return changed
        raise Contended

    async def _current(
        self, user_id: UUID, task_id: UUID, expected_versions: Collection[int] | None
    ) -> Task:
        task = await self._reads.get(user_id, task_id)
        if task is None:
            raise TaskNotFound
        if expected_versions is not None and task.version not in expected_versions:
            raise VersionConflict
        return task


def _transition(rule: Callable[[Task, datetime], Task | None]) -> Rule:
    def decide(task: Task, now: datetime) -> Decision:
        changed = rule(task, now)
        if changed is None:
            return None
        action = ActionType.COMPLETED if changed.is_completed else ActionType.REOPENED
        return changed, action, None

    return decide


async def _back_off(attempt: int) -> None:
    """Let the winner's commit land before re-reading: a short, jittered pause that grows
    with each lost race (at most a few milliseconds)."""
    if attempt:
        await asyncio.sleep(random.uniform(0, min(0.004, 0.0005 * attempt)))  # noqa: S311


def _fingerprint(title: str, description: str | None) -> str:
    canonical = json.dumps({"title": title, "description": description}, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
