"""POST /api/v1/tasks/import: the export's own CSV or JSON, back into the caller's account."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, post

from taskapp.domain.errors import DomainError
from taskapp.domain.model import IMPORT_MAX_BYTES, ImportResult
from taskapp.entrypoints.http.dependencies import CurrentUserId, Imports
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.openapi import BEARER, documents_upload
from taskapp.entrypoints.http.scopes import Scope
from taskapp.entrypoints.http.task_files import ImportItem, read_csv_file, read_json_file


class PayloadTooLarge(DomainError):
    code = "PAYLOAD_TOO_LARGE"
    default_message = f"An import file may hold at most {IMPORT_MAX_BYTES // 2**20} MiB"


class ImportMediaType(DomainError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Send the file as text/csv or application/json"


class ImportOut(msgspec.Struct):
    created: int
    lists_created: int

    @classmethod
    def of(cls, result: ImportResult) -> ImportOut:
        return cls(result.created, result.lists_created)


async def read_limited(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The body, refused as soon as it passes `limit` bytes (a Content-Length that says so
    is refused before anything is read): memory never holds more than `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _media_type(request: Request[Any, Any, Any]) -> str:
    content_type = request.headers.get("content-type", "")
    return content_type.split(";", 1)[0].strip().lower()


class ImportController(Controller):
    tags = ["downloads"]
    security = BEARER

    @post(
        "/tasks/import",
        scope=Scope.TASKS_WRITE,
        status_code=201,
        # Litestar's own limit (the app's is far smaller), checked while the body streams.
        request_max_body_size=IMPORT_MAX_BYTES,
        opt={**documents_upload(ImportItem), "popups": ("TASKS_IMPORTED",)},
    )
    async def import_tasks(
        self, request: Request[Any, Any, Any], imports: Imports, user_id: CurrentUserId
    ) -> Response[Envelope[ImportOut]]:
        """Import tasks from a file in the export's own CSV or JSON format (up to 5 MiB and
        10,000 tasks): all or nothing; lists are matched by name or created; subtasks and
        manual order are kept; a bad row is a 422 naming the row and field
        (`rows[3].due_date`: the file's third task)."""
        media_type = _media_type(request)
        if media_type not in ("text/csv", "application/json"):
            raise ImportMediaType
        body = await read_limited(request, IMPORT_MAX_BYTES)
        rows = read_csv_file(body) if media_type == "text/csv" else read_json_file(body)
        result = await imports.run(user_id, rows)
        return ok(ImportOut.of(result), popup="TASKS_IMPORTED", status_code=201)
