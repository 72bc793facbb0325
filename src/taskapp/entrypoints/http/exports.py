"""GET /api/v1/tasks/export (a streamed file) and GET /api/v1/downloads (its record)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter
from litestar.response import Stream

from taskapp.domain.model import DownloadEvent, ExportFormat, PageRequest, TaskStatus
from taskapp.domain.ports import TaskBatch
from taskapp.entrypoints.http.dependencies import Clock, CurrentUserId, Exports
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.openapi import BEARER, documents_download
from taskapp.entrypoints.http.pagination import Limit, Offset, PageNumber, PageOut
from taskapp.entrypoints.http.scopes import Scope
from taskapp.entrypoints.http.task_files import (
    CSV_COLUMNS,
    ExportTaskOut,
    csv_file,
    ics_file,
    json_file,
)

__all__ = ["CSV_COLUMNS", "DownloadOut", "ExportController"]

Format = Annotated[ExportFormat, QueryParameter(description="csv, json or ics (iCalendar)")]
Status = Annotated[TaskStatus, QueryParameter(description="all, open or completed")]

# Litestar appends `; charset=utf-8` to text/* types itself (so naming it here sent
# `text/csv; charset=utf-8; charset=utf-8`); application/json gets it written out.
_MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv",
    ExportFormat.JSON: "application/json; charset=utf-8",
    ExportFormat.ICS: "text/calendar",
}
_WRITERS = {ExportFormat.CSV: csv_file, ExportFormat.JSON: json_file, ExportFormat.ICS: ics_file}


async def _started(batches: AsyncIterator[TaskBatch]) -> AsyncIterator[TaskBatch]:
    """Run the export up to its first batch now, so a database failure is still a proper
    503 answer rather than a broken file; then hand over the rest."""
    try:
        first = await anext(batches)
    except StopAsyncIteration:
        first = None

    async def resumed() -> AsyncIterator[TaskBatch]:
        if first is not None:
            yield first
            async for batch in batches:
                yield batch

    return resumed()


class DownloadOut(msgspec.Struct):
    id: UUID
    format: ExportFormat
    item_count: int
    created_at: datetime

    @classmethod
    def of(cls, event: DownloadEvent) -> DownloadOut:
        return cls(event.id, event.format, event.item_count, event.created_at)


class ExportController(Controller):
    tags = ["downloads"]
    security = BEARER

    @get("/tasks/export", scope=Scope.EXPORTS_READ, opt=documents_download(ExportTaskOut))
    async def export_tasks(
        self,
        exports: Exports,
        clock: Clock,
        user_id: CurrentUserId,
        format: Format = ExportFormat.CSV,
        status: Status = TaskStatus.ALL,
    ) -> Stream:
        """Download the caller's tasks (CSV, JSON, or iCalendar: one VTODO per task);
        memory use does not grow with their number."""
        names = await exports.list_names(user_id)
        batches = await _started(exports.stream(user_id, format, status))
        chunks = _WRITERS[format](batches, names)
        filename = f"tasks-{clock.now():%Y%m%d}.{format.value}"
        return Stream(
            chunks,
            media_type=_MEDIA_TYPES[format],
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @get("/downloads", scope=Scope.EXPORTS_READ)
    async def list_downloads(
        self,
        exports: Exports,
        user_id: CurrentUserId,
        page: PageNumber = 1,
        limit: Limit = 20,
        offset: Offset = None,
    ) -> Response[Envelope[PageOut[DownloadOut]]]:
        """The caller's exports, newest first."""
        found = await exports.downloads(user_id, PageRequest.of(page, limit, offset))
        return ok(PageOut.of(found, DownloadOut.of))
