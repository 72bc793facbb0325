"""Task use cases on the in-memory adapters: history, idempotency, versions."""

from __future__ import annotations

import uuid

import pytest

from taskapp.adapters.memory.adapters import MemoryAdapters
from taskapp.domain.errors import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    TaskNotFound,
    ValidationFailed,
    VersionConflict,
)
from taskapp.domain.model import ActionType, PageRequest, TaskQuery, TaskStatus
from taskapp.domain.services.tasks import TaskService
from tests.unit.fakes import FixedClock

USER = uuid.uuid4()
OTHER = uuid.uuid4()


@pytest.fixture
def memory() -> MemoryAdapters:
    return MemoryAdapters()


def task_service(memory: MemoryAdapters, clock: FixedClock | None = None) -> TaskService:
    return TaskService(
        memory.tasks_unit, memory.task_reads, memory.idempotency_keys, clock or FixedClock()
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
    await service.update(USER, task.id, title="b")
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
        await service.toggle(USER, task.id, expected_version=5)
    with pytest.raises(ValidationFailed):
        await service.update(USER, task.id, title="")
    with pytest.raises(ValidationFailed):
        await service.update(USER, task.id)
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
