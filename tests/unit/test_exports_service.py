"""The export use case: batches, and a download recorded only when the file is complete."""

from __future__ import annotations

import uuid

from taskapp.adapters.memory.adapters import MemoryAdapters
from taskapp.domain.model import ExportFormat, PageRequest, TaskStatus
from taskapp.domain.services import exports
from taskapp.domain.services.exports import ExportService
from taskapp.domain.services.tasks import TaskService
from tests.unit.fakes import FixedClock

USER = uuid.uuid4()


async def make(count: int) -> tuple[ExportService, MemoryAdapters]:
    memory, clock = MemoryAdapters(), FixedClock()
    tasks = TaskService(
        memory.tasks_unit,
        memory.task_reads,
        memory.idempotency_keys,
        clock,
        memory.placement,
        memory.list_reads,
        memory.positions,
    )
    for n in range(count):
        await tasks.create(USER, f"t{n}", None)
    return ExportService(memory.task_reads, memory.downloads, clock), memory


async def test_batches_cover_every_task_once() -> None:
    service, _ = await make(1234)
    batches = [b async for b in service.stream(USER, ExportFormat.JSON)]
    assert [len(b) for b in batches] == [500, 500, 234]
    assert len({t.id for b in batches for t in b}) == 1234
    assert exports.BATCH_SIZE == 500


async def test_completed_export_is_recorded_with_its_count() -> None:
    service, _ = await make(3)
    async for _ in service.stream(USER, ExportFormat.CSV, TaskStatus.OPEN):
        pass
    page = await service.downloads(USER, PageRequest())
    assert [(e.format, e.item_count) for e in page.items] == [(ExportFormat.CSV, 3)]


async def test_abandoned_export_is_not_recorded() -> None:
    service, _ = await make(1200)
    stream = service.stream(USER, ExportFormat.CSV)
    await anext(stream)
    await stream.aclose()  # what the server does when the client disconnects
    assert (await service.downloads(USER, PageRequest())).total == 0
