"""Exports: the caller's tasks, streamed in batches; completed downloads are recorded."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from uuid import UUID

from taskapp.domain.model import (
    LISTS_PER_USER,
    DownloadEvent,
    ExportFormat,
    Page,
    PageRequest,
    Task,
    TaskQuery,
    TaskStatus,
)
from taskapp.domain.ports import Clock, DownloadLog, ListReads, TaskBatch, TaskReads

BATCH_SIZE = 500


class ExportService:
    def __init__(
        self,
        reads: TaskReads,
        downloads: DownloadLog,
        clock: Clock,
        lists: ListReads | None = None,
    ) -> None:
        self._reads = reads
        self._downloads = downloads
        self._clock = clock
        self._lists = lists

    async def list_names(self, user_id: UUID) -> dict[UUID, str]:
        """The caller's list names by id (at most LISTS_PER_USER: one read), so the file can
        name each task's list: an import matches lists by name."""
        if self._lists is None:
            return {}
        page = await self._lists.list(user_id, PageRequest(0, LISTS_PER_USER))
        return {summary.list.id: summary.list.name for summary in page.items}

    async def stream(
        self, user_id: UUID, fmt: ExportFormat, status: TaskStatus = TaskStatus.ALL
    ) -> AsyncIterator[TaskBatch]:
        """Yield the tasks batch by batch; record the download once the last batch is out.

        Each batch is its own read (one round trip), so a slow or vanished client holds
        no database connection. A download the client abandons (the generator is closed
        early, or never resumed) is not recorded: the user did not get the file.
        """
        query = TaskQuery(status)
        sent = 0
        last: Task | None = None
        while True:
            batch = await self._reads.batch_after(user_id, query, last, BATCH_SIZE)
            if batch:
                yield batch
                sent += len(batch)
                last = batch[-1]
            if len(batch) < BATCH_SIZE:
                break
        event = DownloadEvent(uuid.uuid4(), user_id, fmt, sent, self._clock.now())
        await self._downloads.record(event)

    async def downloads(self, user_id: UUID, page: PageRequest) -> Page[DownloadEvent]:
        return await self._downloads.list(user_id, page)
