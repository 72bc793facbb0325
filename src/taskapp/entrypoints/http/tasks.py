"""/api/v1/tasks: create, list, get, update, complete / reopen / toggle, delete."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import HeaderParameter, PathParameter, QueryParameter

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model import KEEP, Keep, PageRequest, Task, TaskQuery, TaskStatus
from taskapp.entrypoints.http.body import read_json
from taskapp.entrypoints.http.dependencies import CurrentUserId, Tasks
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.fields import (
    IDEMPOTENCY_KEY_PATTERN,
    SEARCH_PATTERN,
    UUID_PATTERN,
    Description,
    Title,
)
from taskapp.entrypoints.http.openapi import BEARER, documents_body
from taskapp.entrypoints.http.pagination import Limit, Offset, PageNumber, PageOut
from taskapp.entrypoints.http.preconditions import expected_versions

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        description='"<version>", a list of them, or *: apply only at a version named '
        '(strong comparison: W/"<version>" names none); no match, or a value that does not '
        "parse, is 412",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="1-255 printable ASCII characters, kept 24 hours per user",
    ),
]
Search = Annotated[
    str | None,
    QueryParameter(
        max_length=255,
        pattern=SEARCH_PATTERN,
        description="case-insensitive plain-text search",
    ),
]
Status = Annotated[TaskStatus, QueryParameter(description="all, open or completed")]
# A string, parsed here: a malformed id is a 422 (VALIDATION_ERROR), not a routing 404.
TaskId = Annotated[str, PathParameter(pattern=UUID_PATTERN, description="the task's UUID")]


class TaskCreate(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    description: Description | None = None


class TaskPatch(msgspec.Struct, forbid_unknown_fields=True):
    """At least one of the two; `description: null` clears the description."""

    __schema_patch__: ClassVar[dict[str, Any]] = {"minProperties": 1}

    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType | None = msgspec.UNSET


class TaskOut(msgspec.Struct):
    id: UUID
    title: str
    description: str | None
    is_completed: bool
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        return cls(
            id=task.id,
            title=task.title,
            description=task.description,
            is_completed=task.is_completed,
            completed_at=task.completed_at,
            created_at=task.created_at,
            updated_at=task.updated_at,
            version=task.version,
        )


class DeletedOut(msgspec.Struct):
    id: UUID


_UUID = re.compile(UUID_PATTERN)


def parse_id(raw: str, field: str = "task_id") -> UUID:
    """Only the canonical 8-4-4-4-12 form, exactly as the OpenAPI document says."""
    if not _UUID.match(raw):
        raise ValidationFailed.of(field, "must be a UUID")
    return UUID(raw)


def etag(task: Task) -> str:
    return f'"{task.version}"'


def _task_response(task: Task, popup: str | None) -> Response[Envelope[TaskOut]]:
    return ok(TaskOut.of(task), popup=popup, headers={"ETag": etag(task)})


class TaskController(Controller):
    path = "/tasks"
    tags = ["tasks"]
    security = BEARER

    @post("/", status_code=201, opt=documents_body(TaskCreate))
    async def create_task(
        self,
        request: Request[Any, Any, Any],
        tasks: Tasks,
        user_id: CurrentUserId,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Envelope[TaskOut]]:
        """Create a task. With Idempotency-Key, a retry replays the first answer."""
        body = await read_json(request, TaskCreate)
        created = await tasks.create(user_id, body.title, body.description, idempotency_key)
        headers = {"ETag": etag(created.task), "Location": f"/api/v1/tasks/{created.task.id}"}
        if created.replayed:
            headers["Idempotent-Replayed"] = "true"
        return ok(TaskOut.of(created.task), popup="TASK_CREATED", status_code=201, headers=headers)

    @get("/")
    async def list_tasks(
        self,
        tasks: Tasks,
        user_id: CurrentUserId,
        status: Status = TaskStatus.ALL,
        q: Search = None,
        page: PageNumber = 1,
        limit: Limit = 20,
        offset: Offset = None,
    ) -> Response[Envelope[PageOut[TaskOut]]]:
        """The caller's tasks: open first, then completed; newest first within each."""
        found = await tasks.list(
            user_id, TaskQuery(status, q or None), PageRequest.of(page, limit, offset)
        )
        return ok(PageOut.of(found, TaskOut.of))

    @get("/{task_id:str}")
    async def get_task(
        self, tasks: Tasks, user_id: CurrentUserId, task_id: TaskId
    ) -> Response[Envelope[TaskOut]]:
        """One task of the caller's."""
        return _task_response(await tasks.get(user_id, parse_id(task_id)), None)

    @put("/{task_id:str}", opt=documents_body(TaskPatch))
    async def replace_task(
        self,
        request: Request[Any, Any, Any],
        tasks: Tasks,
        user_id: CurrentUserId,
        task_id: TaskId,
        if_match: IfMatch = None,
    ) -> Response[Envelope[TaskOut]]:
        """Change title and/or description (same partial semantics as PATCH)."""
        return await _update(request, tasks, user_id, task_id, if_match)

    @patch("/{task_id:str}", opt=documents_body(TaskPatch))
    async def update_task(
        self,
        request: Request[Any, Any, Any],
        tasks: Tasks,
        user_id: CurrentUserId,
        task_id: TaskId,
        if_match: IfMatch = None,
    ) -> Response[Envelope[TaskOut]]:
        """Change title and/or description; `description: null` clears it."""
        return await _update(request, tasks, user_id, task_id, if_match)

    @patch("/{task_id:str}/complete")
    async def complete_task(
        self, tasks: Tasks, user_id: CurrentUserId, task_id: TaskId, if_match: IfMatch = None
    ) -> Response[Envelope[TaskOut]]:
        """Mark completed (idempotent)."""
        result = await tasks.complete(user_id, parse_id(task_id), expected_versions(if_match))
        return _task_response(result, "TASK_COMPLETED")

    @patch("/{task_id:str}/incomplete")
    async def reopen_task(
        self, tasks: Tasks, user_id: CurrentUserId, task_id: TaskId, if_match: IfMatch = None
    ) -> Response[Envelope[TaskOut]]:
        """Mark open again (idempotent)."""
        result = await tasks.reopen(user_id, parse_id(task_id), expected_versions(if_match))
        return _task_response(result, "TASK_REOPENED")

    @patch("/{task_id:str}/toggle")
    async def toggle_task(
        self, tasks: Tasks, user_id: CurrentUserId, task_id: TaskId, if_match: IfMatch = None
    ) -> Response[Envelope[TaskOut]]:
        """Flip between open and completed."""
        result = await tasks.toggle(user_id, parse_id(task_id), expected_versions(if_match))
        popup = "TASK_COMPLETED" if result.is_completed else "TASK_REOPENED"
        return _task_response(result, popup)

    @delete("/{task_id:str}", status_code=200)
    async def delete_task(
        self, tasks: Tasks, user_id: CurrentUserId, task_id: TaskId, if_match: IfMatch = None
    ) -> Response[Envelope[DeletedOut]]:
        """Delete a task; its history stays."""
        deleted = await tasks.delete(user_id, parse_id(task_id), expected_versions(if_match))
        return ok(DeletedOut(deleted.id), popup="TASK_DELETED")


async def _update(
    request: Request[Any, Any, Any],
    tasks: Tasks,
    user_id: UUID,
    task_id: str,
    if_match: str | None,
) -> Response[Envelope[TaskOut]]:
    body = await read_json(request, TaskPatch)
    title = None if isinstance(body.title, msgspec.UnsetType) else body.title
    description: str | Keep | None = (
        KEEP if isinstance(body.description, msgspec.UnsetType) else body.description
    )
    result = await tasks.update(
        user_id,
        parse_id(task_id),
        title=title,
        description=description,
        expected_versions=expected_versions(if_match),
    )
    return _task_response(result, "TASK_UPDATED")
