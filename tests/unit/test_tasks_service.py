"""Task use cases on the in-memory adapters: history, idempotency, versions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

import pytest

from taskapp.adapters.memory.adapters import MemoryAdapters
from taskapp.adapters.memory.unit_of_work import MemoryTasksUnitOfWork
from taskapp.domain.errors import (
    Contended,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    TaskNotFound,
    ValidationFailed,
    VersionConflict,
)
from taskapp.domain.model import ActionType, PageRequest, TaskEdit, TaskQuery, TaskStatus
from taskapp.domain.services.tasks import MAX_ATTEMPTS, TaskService
from tests.unit.fakes import FixedClock

USER = uuid.uuid4()
OTHER = uuid.uuid4()


@pytest.fixture
def memory() -> MemoryAdapters:
    return MemoryAdapters()


def task_service(
    memory: MemoryAdapters,
    clock: FixedClock | None = None,
    unit: Callable[[], MemoryTasksUnitOfWork] | None = None,
) -> TaskService:
    return TaskService(
        unit or memory.tasks_unit,
        memory.task_reads,
        memory.idempotency_keys,
        clock or FixedClock(),
        memory.placement,
        memory.list_reads,
        memory.positions,
    )


@pytest.fixture
def service(memory: MemoryAdapters) -> TaskService:
    return task_service(memory)


def actions(memory: MemoryAdapters) -> list[ActionType]:
    return [entry.action_type for entry in memory.store.history]


async def test_every_change_writes_one_history_entry(
    service: TaskService, memory: MemoryAdapters
) -> None:
    task = (await service.create(USER, "a", None)).task
    await service.update(USER, task.id, TaskEdit(title="b"))
    await service.complete(USER, task.id)
    await service.complete(USER, task.id)  # no change: no entry
    await service.reopen(USER, task.id)
    await service.toggle(USER, task.id)
    await service.delete(USER, task.id)
    assert actions(memory) == [
        ActionType.CREATED,
        ActionType.UPDATED,
        ActionType.COMPLETED,
        ActionType.REOPENED,
        ActionType.COMPLETED,
        ActionType.DELETED,
    ]
    assert memory.store.history[-1].task_title == "b"


async def test_a_failed_rule_leaves_no_trace(service: TaskService, memory: MemoryAdapters) -> None:
    task = (await service.create(USER, "a", None)).task
    with pytest.raises(VersionConflict):
        await service.toggle(USER, task.id, expected_versions={5})
    with pytest.raises(ValidationFailed):
        await service.update(USER, task.id, TaskEdit(title=""))
    with pytest.raises(ValidationFailed):
        await service.update(USER, task.id, TaskEdit())
    assert actions(memory) == [ActionType.CREATED]
    assert (await service.get(USER, task.id)).version == 1


async def test_other_users_cannot_reach_the_task(service: TaskService) -> None:
    task = (await service.create(USER, "a", None)).task
    with pytest.raises(TaskNotFound):
        await service.get(OTHER, task.id)
    with pytest.raises(TaskNotFound):
        await service.toggle(OTHER, task.id)
    with pytest.raises(TaskNotFound):
        await service.delete(OTHER, task.id)
    page = await service.list(OTHER, TaskQuery(), PageRequest())
    assert page.total == 0


async def test_idempotency_replays_and_detects_a_different_body(service: TaskService) -> None:
    first = await service.create(USER, "a", None, "key")
    again = await service.create(USER, " a ", None, "key")
    assert again.replayed
    assert again.task == first.task
    with pytest.raises(IdempotencyKeyReused):
        await service.create(USER, "b", None, "key")
    assert not (await service.create(OTHER, "a", None, "key")).replayed


async def test_a_running_claim_answers_in_progress(
    service: TaskService, memory: MemoryAdapters
) -> None:
    clock = FixedClock()
    await memory.idempotency_keys.claim(USER, "key", "f", clock.now(), 60)
    with pytest.raises((IdempotencyKeyInProgress, IdempotencyKeyReused)):
        await service.create(USER, "a", None, "key")


async def test_list_filters_by_status(service: TaskService) -> None:
    a = (await service.create(USER, "a", None)).task
    await service.create(USER, "b", None)
    await service.complete(USER, a.id)
    done = await service.list(USER, TaskQuery(TaskStatus.COMPLETED), PageRequest())
    assert [t.title for t in done.items] == ["a"]


async def test_a_change_that_keeps_losing_the_race_gives_up_with_contended(
    memory: MemoryAdapters,
) -> None:
    """Each attempt re-reads and re-decides; a write that always finds a newer version (here:
    another writer bumps it between read and write) ends as Contended, not as a loop."""
    service = task_service(memory)
    task = (await service.create(USER, "a", None)).task
    attempts = 0

    class Interfering(MemoryTasksUnitOfWork):
        async def __aenter__(self) -> Interfering:
            nonlocal attempts
            attempts += 1
            stored = memory.store.tasks[task.id]
            memory.store.tasks[task.id] = replace(stored, version=stored.version + 1)
            return await super().__aenter__()

    racing = task_service(memory, unit=lambda: Interfering(memory.store))
    with pytest.raises(Contended):
        await racing.toggle(USER, task.id)
    assert attempts == MAX_ATTEMPTS
    assert actions(memory) == [ActionType.CREATED]  # no entry for a change that never landed


async def test_a_lost_race_is_retried_on_the_fresh_task(memory: MemoryAdapters) -> None:
    service = task_service(memory)
    task = (await service.create(USER, "a", None)).task
    interfered = False

    class OnceInterfering(MemoryTasksUnitOfWork):
        async def __aenter__(self) -> OnceInterfering:
            nonlocal interfered
            if not interfered:  # someone completes the task between our read and write
                interfered = True
                completed = memory.store.tasks[task.id].complete(FixedClock().now())
                assert completed is not None
                memory.store.tasks[task.id] = completed
            return await super().__aenter__()

    racing = task_service(memory, unit=lambda: OnceInterfering(memory.store))
    toggled = await racing.toggle(USER, task.id)
    assert (toggled.is_completed, toggled.version) == (False, 3)  # decided on version 2
    interfered = False
    with pytest.raises(VersionConflict):  # with If-Match, a lost race is not retried
        await racing.toggle(USER, task.id, expected_versions={3})
