"""Task use cases. Each change and its history entry land in one transaction, or neither."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from taskapp.domain.errors import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    TaskNotFound,
    ValidationFailed,
    VersionConflict,
)
from taskapp.domain.model import (
    KEEP,
    ActionType,
    ClaimStatus,
    HistoryEntry,
    Keep,
    Page,
    PageRequest,
    Task,
    TaskQuery,
    normalize_description,
    normalize_title,
)
from taskapp.domain.ports import Clock, UnitOfWork, UnitOfWorkFactory

IDEMPOTENCY_TTL_SECONDS = 24 * 3600
IDEMPOTENCY_KEY_MAX_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Created:
    task: Task
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Changed:
    """The task after the request, and whether the request changed anything."""

    task: Task
    changed: bool


def check_idempotency_key(key: str) -> str:
    printable_ascii = all(" " <= ch <= "~" for ch in key)
    if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not printable_ascii:
        raise ValidationFailed.of(
            "Idempotency-Key",
            f"must be 1-{IDEMPOTENCY_KEY_MAX_LENGTH} printable ASCII characters",
        )
    return key


class TaskService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
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
        async with self._uow() as uow:
            claim = await uow.idempotency_keys.claim(
                user_id, key, fingerprint, self._clock.now(), IDEMPOTENCY_TTL_SECONDS
            )
            await uow.commit()
        if claim.status is ClaimStatus.REPLAY and claim.task is not None:
            return Created(claim.task, replayed=True)
        if claim.status is ClaimStatus.IN_PROGRESS:
            raise IdempotencyKeyInProgress
        if claim.status is ClaimStatus.MISMATCH:
            raise IdempotencyKeyReused
        try:
            return Created(await self._insert(user_id, title, description, key))
        except BaseException:
            async with self._uow() as uow:
                await uow.idempotency_keys.release(user_id, key)
                await uow.commit()
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
        async with self._uow(read_only=True) as uow:
            task = await uow.tasks.get(user_id, task_id)
        if task is None:
            raise TaskNotFound
        return task

    async def list(self, user_id: UUID, query: TaskQuery, page: PageRequest) -> Page[Task]:
        async with self._uow(read_only=True) as uow:
            return await uow.tasks.list(user_id, query, page)

    async def update(
        self,
        user_id: UUID,
        task_id: UUID,
        *,
        title: str | None = None,
        description: str | Keep | None = KEEP,
        expected_version: int | None = None,
    ) -> Changed:
        if title is None and isinstance(description, Keep):
            raise ValidationFailed.of("body", "give at least one of title, description")
        async with self._uow() as uow:
            task = await self._locked(uow, user_id, task_id, expected_version)
            now = self._clock.now()
            edited = task.edit(now, title=title, description=description)
            if edited is None:
                return Changed(task, changed=False)
            changed, changes = edited
            await uow.tasks.update(changed)
            await uow.history.append(HistoryEntry.record(changed, ActionType.UPDATED, now, changes))
            await uow.commit()
        return Changed(changed, changed=True)

    async def complete(
        self, user_id: UUID, task_id: UUID, expected_version: int | None = None
    ) -> Changed:
        return await self._transition(user_id, task_id, expected_version, Task.complete)

    async def reopen(
        self, user_id: UUID, task_id: UUID, expected_version: int | None = None
    ) -> Changed:
        return await self._transition(user_id, task_id, expected_version, Task.reopen)

    async def toggle(
        self, user_id: UUID, task_id: UUID, expected_version: int | None = None
    ) -> Changed:
        return await self._transition(user_id, task_id, expected_version, Task.toggle)

    async def delete(
        self, user_id: UUID, task_id: UUID, expected_version: int | None = None
    ) -> Task:
        async with self._uow() as uow:
            task = await self._locked(uow, user_id, task_id, expected_version)
            await uow.tasks.delete(task)
            await uow.history.append(
                HistoryEntry.record(task, ActionType.DELETED, self._clock.now())
            )
            await uow.commit()
        return task

    async def _transition(
        self,
        user_id: UUID,
        task_id: UUID,
        expected_version: int | None,
        rule: Callable[[Task, datetime], Task | None],
    ) -> Changed:
        async with self._uow() as uow:
            task = await self._locked(uow, user_id, task_id, expected_version)
            now = self._clock.now()
            changed = rule(task, now)
            if changed is None:  # already in that state: idempotent, no new version
                return Changed(task, changed=False)
            action = ActionType.COMPLETED if changed.is_completed else ActionType.REOPENED
            await uow.tasks.update(changed)
            await uow.history.append(HistoryEntry.record(changed, action, now))
            await uow.commit()
        return Changed(changed, changed=True)

    @staticmethod
    async def _locked(
        uow: UnitOfWork, user_id: UUID, task_id: UUID, expected_version: int | None
    ) -> Task:
        task = await uow.tasks.get_for_update(user_id, task_id)
        if task is None:
            raise TaskNotFound
        if expected_version is not None and expected_version != task.version:
            raise VersionConflict
        return task


def _fingerprint(title: str, description: str | None) -> str:
    canonical = json.dumps({"title": title, "description": description}, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
