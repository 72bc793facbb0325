"""GET /api/v1/tasks/export (a streamed file) and GET /api/v1/downloads (its record)."""

from __future__ import annotations

import csv
import io
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
from taskapp.entrypoints.http.tasks import TaskOut

Format = Annotated[ExportFormat, QueryParameter(description="csv or json")]
Status = Annotated[TaskStatus, QueryParameter(description="all, open or completed")]

CSV_COLUMNS = [
    "id",
    "title",
    "description",
    "is_completed",
    "completed_at",
    "created_at",
    "updated_at",
    "version",
]
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.JSON: "application/json; charset=utf-8",
}
_json = msgspec.json.Encoder()


def neutralize(cell: str) -> str:
    """Prefix a would-be formula with an apostrophe, so it is shown as text (OWASP)."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _stamp(value: datetime | None) -> str:
    return "" if value is None else value.isoformat().replace("+00:00", "Z")


def csv_rows(batch: TaskBatch) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: quotes as needed, CRLF line ends
    for task in batch:
        writer.writerow(
            [
                str(task.id),
                neutralize(task.title),
                neutralize(task.description or ""),
                "true" if task.is_completed else "false",
                _stamp(task.completed_at),
                _stamp(task.created_at),
                _stamp(task.updated_at),
                task.version,
            ]
        )
    return buffer.getvalue().encode("utf-8")


async def csv_file(batches: AsyncIterator[TaskBatch]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(CSV_COLUMNS)
    yield buffer.getvalue().encode("utf-8")
    async for batch in batches:
        yield csv_rows(batch)


async def json_file(batches: AsyncIterator[TaskBatch]) -> AsyncIterator[bytes]:
    yield b"["
    separator = b""
    async for batch in batches:
        parts = []
        for task in batch:
            parts.append(separator + _json.encode(TaskOut.of(task)))
            separator = b","
        yield b"".join(parts)
    yield b"]"


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

    @get("/tasks/export", scope=Scope.EXPORTS_READ, opt=documents_download(TaskOut))
    async def export_tasks(
        self,
        exports: Exports,
        clock: Clock,
        user_id: CurrentUserId,
        format: Format = ExportFormat.CSV,
        status: Status = TaskStatus.ALL,
    ) -> Stream:
        """Download the caller's tasks; memory use does not grow with their number."""
        batches = await _started(exports.stream(user_id, format, status))
        chunks = csv_file(batches) if format is ExportFormat.CSV else json_file(batches)
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
