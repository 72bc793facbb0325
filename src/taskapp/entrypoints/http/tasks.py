"""/api/v1/tasks: create, list, get, update, complete / reopen / toggle, delete."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import HeaderParameter, PathParameter, QueryParameter

from taskapp.domain.model import (
    INBOX,
    KEEP,
    LABEL_MAX_LENGTH,
    LABELS_PER_TASK,
    TOP_LEVEL,
    Keep,
    PageRequest,
    Priority,
    SortKey,
    Task,
    TaskEdit,
    TaskQuery,
    TaskSort,
    TaskStatus,
)
from taskapp.domain.services.tasks import Destination, NewTask
from taskapp.entrypoints.http.body import read_json
from taskapp.entrypoints.http.dependencies import CurrentUserId, Tasks
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.fields import (
    IDEMPOTENCY_KEY_PATTERN,
    SEARCH_PATTERN,
    STORABLE_TEXT,
    UUID_CORE,
    UUID_PATTERN,
    Description,
    DueAt,
    Label,
    Labels,
    Title,
    Uuid,
    described,
    optional_id,
    parse_id,
    whole,
)
from taskapp.entrypoints.http.openapi import BEARER, answers, documents_body, list_items
from taskapp.entrypoints.http.pagination import Limit, Offset, PageNumber, PageOut
from taskapp.entrypoints.http.preconditions import expected_versions
from taskapp.entrypoints.http.scopes import Scope
from taskapp.entrypoints.http.stats import ZONE_PATTERN, checked_zone

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


# due_date and due_at are never both set: a schema-level rule, so documents tell it too.
_NOT_BOTH_DUE: dict[str, Any] = {
    "not": {
        "required": ["due_date", "due_at"],
        "properties": {"due_date": {"type": "string"}, "due_at": {"type": "string"}},
    }
}


class TaskCreate(msgspec.Struct, forbid_unknown_fields=True):
    __schema_patch__: ClassVar[dict[str, Any]] = _NOT_BOTH_DUE

    title: Title
    description: Description | None = None
    list_id: Uuid | msgspec.UnsetType | None = msgspec.UNSET
    parent_id: Uuid | None = None
    due_date: date | None = None
    due_at: DueAt | None = None
    priority: Priority = Priority.NONE
    labels: Labels = msgspec.field(default_factory=list)


class TaskPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Any of the fields: an absent one is kept, `null` clears it, `labels` replaces the
    whole set. A new `list_id` or `parent_id` moves the task (with its subtasks) to the end
    of its new siblings."""

    __schema_patch__: ClassVar[dict[str, Any]] = {"minProperties": 1, **_NOT_BOTH_DUE}

    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType | None = msgspec.UNSET
    list_id: Uuid | msgspec.UnsetType | None = msgspec.UNSET
    parent_id: Uuid | msgspec.UnsetType | None = msgspec.UNSET
    due_date: date | msgspec.UnsetType | None = msgspec.UNSET
    due_at: DueAt | msgspec.UnsetType | None = msgspec.UNSET
    priority: Priority | msgspec.UnsetType = msgspec.UNSET
    labels: Labels | msgspec.UnsetType = msgspec.UNSET


class TaskMove(msgspec.Struct, forbid_unknown_fields=True):
    """Where to put the task: a list (`null`: the Inbox), a parent (`null`: top level),
    right after `after_id` or right before `before_id` (siblings at the destination).
    An absent list or parent is kept; with neither neighbour the task goes last."""

    list_id: Uuid | msgspec.UnsetType | None = msgspec.UNSET
    parent_id: Uuid | msgspec.UnsetType | None = msgspec.UNSET
    after_id: Uuid | None = None
    before_id: Uuid | None = None


class TaskOut(msgspec.Struct):
    id: UUID
    list_id: UUID | None
    parent_id: UUID | None
    position: str
    title: str
    description: str | None
    is_completed: bool
    completed_at: datetime | None
    due_date: date | None
    due_at: datetime | None
    priority: Priority
    labels: list[str]
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        """Field by field from the entity (everything but the owner), by msgspec."""
        return msgspec.convert(task, cls, from_attributes=True)


class DeletedOut(msgspec.Struct):
    id: UUID


def kept_id(raw: str | msgspec.UnsetType | None, field: str) -> UUID | Keep | None:
    return KEEP if isinstance(raw, msgspec.UnsetType) else optional_id(raw, field)


def _kept(value: Any) -> Any:
    return KEEP if isinstance(value, msgspec.UnsetType) else value


def etag(task: Task) -> str:
    return f'"{task.version}"'


def _task_response(task: Task, popup: str | None) -> Response[Envelope[TaskOut]]:
    return ok(TaskOut.of(task), popup=popup, headers={"ETag": etag(task)})


ListFilter = Annotated[
    str | None,
    QueryParameter(
        pattern=described(whole(f"inbox|{UUID_CORE}"), "must be a list's UUID or inbox"),
        description="a list's id, or inbox (no list)",
    ),
]
ParentFilter = Annotated[
    str | None,
    QueryParameter(
        pattern=described(whole(f"none|{UUID_CORE}"), "must be a task's UUID or none"),
        description="a task's id (its subtasks), or none (top-level tasks only)",
    ),
]
LabelFilter = Annotated[
    list[Label] | None,
    QueryParameter(
        description="repeatable; a task must carry every one (case-insensitive)",
        max_items=LABELS_PER_TASK,
    ),
]
PriorityFilter = Annotated[
    list[Priority] | None, QueryParameter(description="repeatable; any of them")
]
DueFrom = Annotated[date | None, QueryParameter(description="YYYY-MM-DD, inclusive, in tz")]
DueTo = Annotated[date | None, QueryParameter(description="YYYY-MM-DD, inclusive, in tz")]
Overdue = Annotated[
    bool | None,
    QueryParameter(
        description="true: open and due before now (a due_date from the start of the next "
        "day in tz)"
    ),
]
HasDue = Annotated[bool | None, QueryParameter(description="true or false")]
Zone = Annotated[
    str,
    QueryParameter(
        max_length=64,
        pattern=ZONE_PATTERN,
        description="IANA time zone for due dates, e.g. Europe/Berlin (default UTC)",
    ),
]
Sort = Annotated[
    str,
    QueryParameter(
        pattern=described(
            whole("-?(" + "|".join(k.value for k in SortKey) + ")"),
            "must be one of: " + ", ".join(k.value for k in SortKey) + " (a leading - reverses)",
        ),
        description="default, due, priority, manual, created, updated or title; a leading - "
        "reverses; ties by id",
    ),
]


# What a change of one task can answer beyond the usual errors.
_CHANGE_ERRORS = ("TASK_NOT_FOUND", "VERSION_CONFLICT", "CONFLICT", "LIMIT_REACHED")


class TaskController(Controller):
    path = "/tasks"
    tags = ["tasks"]
    security = BEARER

    @post(
        "/",
        status_code=201,
        scope=Scope.TASKS_WRITE,
        opt=documents_body(
            TaskCreate,
            errors=(
                "LIMIT_REACHED",
                "IDEMPOTENCY_KEY_IN_PROGRESS",
                "IDEMPOTENCY_KEY_REUSED",
                "CONFLICT",
            ),
            popups=("TASK_CREATED",),
        ),
    )
    async def create_task(
        self,
        request: Request[Any, Any, Any],
        tasks: Tasks,
        user_id: CurrentUserId,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Envelope[TaskOut]]:
        """Create a task. With Idempotency-Key, a retry replays the first answer."""
        body = await read_json(request, TaskCreate)
        new = NewTask(
            title=body.title,
            list_id=kept_id(body.list_id, "list_id"),
            parent_id=optional_id(body.parent_id, "parent_id"),
            due_date=body.due_date,
            due_at=body.due_at,
            priority=body.priority,
            labels=tuple(body.labels),
        )
        created = await tasks.create(
            user_id, body.title, body.description, idempotency_key, new=new
        )
        headers = {"ETag": etag(created.task), "Location": f"/api/v1/tasks/{created.task.id}"}
        if created.replayed:
            headers["Idempotent-Replayed"] = "true"
        return ok(TaskOut.of(created.task), popup="TASK_CREATED", status_code=201, headers=headers)

    @get(
        "/",
        scope=Scope.TASKS_READ,
        opt=list_items(
            label=Schema(
                type=OpenAPIType.STRING,
                min_length=1,
                max_length=LABEL_MAX_LENGTH,
                pattern=STORABLE_TEXT,
            )
        ),
    )
    async def list_tasks(
        self,
        tasks: Tasks,
        user_id: CurrentUserId,
        status: Status = TaskStatus.ALL,
        q: Search = None,
        list_id: ListFilter = None,
        parent_id: ParentFilter = None,
        label: LabelFilter = None,
        priority: PriorityFilter = None,
        due_from: DueFrom = None,
        due_to: DueTo = None,
        overdue: Overdue = None,
        has_due: HasDue = None,
        tz: Zone = "UTC",
        sort: Sort = "default",
        page: PageNumber = 1,
        limit: Limit = 20,
        offset: Offset = None,
    ) -> Response[Envelope[PageOut[TaskOut]]]:
        """The caller's tasks, filtered (all filters combine) and sorted; ties by id."""
        query = TaskQuery(
            status=status,
            search=q or None,
            list_id=None if list_id is None else list_id if list_id == INBOX else UUID(list_id),
            parent_id=(
                None
                if parent_id is None
                else parent_id
                if parent_id == TOP_LEVEL
                else UUID(parent_id)
            ),
            labels=tuple(label or ()),
            priorities=frozenset(priority or ()),
            due_from=due_from,
            due_to=due_to,
            overdue=bool(overdue),
            has_due=has_due,
            zone_name=checked_zone(tz),
            sort=TaskSort.parse(sort),
        )
        found = await tasks.list(user_id, query, PageRequest.of(page, limit, offset))
        return ok(PageOut.of(found, TaskOut.of))

    @get("/{task_id:str}", scope=Scope.TASKS_READ, opt=answers(errors=("TASK_NOT_FOUND",)))
    async def get_task(
        self, tasks: Tasks, user_id: CurrentUserId, task_id: TaskId
    ) -> Response[Envelope[TaskOut]]:
        """One task of the caller's."""
        return _task_response(await tasks.get(user_id, parse_id(task_id, "task_id")), None)

    @put(
        "/{task_id:str}",
        scope=Scope.TASKS_WRITE,
        opt=documents_body(TaskPatch, errors=_CHANGE_ERRORS, popups=("TASK_UPDATED",)),
    )
    async def replace_task(
        self,
        request: Request[Any, Any, Any],
        tasks: Tasks,
        user_id: CurrentUserId,
        task_id: TaskId,
        if_match: IfMatch = None,
    ) -> Response[Envelope[TaskOut]]:
        """Change any fields (same partial semantics as PATCH)."""
        return await _update(request, tasks, user_id, task_id, if_match)

    @patch(
        "/{task_id:str}",
        scope=Scope.TASKS_WRITE,
        opt=documents_body(TaskPatch, errors=_CHANGE_ERRORS, popups=("TASK_UPDATED",)),
    )
    async def update_task(
        self,
        request: Request[Any, Any, Any],
        tasks: Tasks,
        user_id: CurrentUserId,
        task_id: TaskId,
        if_match: IfMatch = None,
    ) -> Response[Envelope[TaskOut]]:
        """Change any fields; `null` clears one; a new list or parent moves the task."""
        return await _update(request, tasks, user_id, task_id, if_match)

    @post(
        "/{task_id:str}/move",
        status_code=200,
        scope=Scope.TASKS_WRITE,
        opt=documents_body(TaskMove, errors=_CHANGE_ERRORS, popups=("TASK_MOVED",)),
    )
    async def move_task(
        self,
        request: Request[Any, Any, Any],
        tasks: Tasks,
        user_id: CurrentUserId,
        task_id: TaskId,
        if_match: IfMatch = None,
    ) -> Response[Envelope[TaskOut]]:
        """Place the task (with its subtasks) in a list, under a parent, between siblings."""
        body = await read_json(request, TaskMove)
        destination = Destination(
            list_id=kept_id(body.list_id, "list_id"),
            parent_id=kept_id(body.parent_id, "parent_id"),
            after_id=optional_id(body.after_id, "after_id"),
            before_id=optional_id(body.before_id, "before_id"),
        )
        moved = await tasks.move(
            user_id, parse_id(task_id, "task_id"), destination, expected_versions(if_match)
        )
        return _task_response(moved, "TASK_MOVED")

    @patch(
        "/{task_id:str}/complete",
        scope=Scope.TASKS_WRITE,
        opt=answers("TASK_COMPLETED", errors=_CHANGE_ERRORS),
    )
    async def complete_task(
        self, tasks: Tasks, user_id: CurrentUserId, task_id: TaskId, if_match: IfMatch = None
    ) -> Response[Envelope[TaskOut]]:
        """Mark completed (idempotent)."""
        result = await tasks.complete(
            user_id, parse_id(task_id, "task_id"), expected_versions(if_match)
        )
        return _task_response(result, "TASK_COMPLETED")

    @patch(
        "/{task_id:str}/incomplete",
        scope=Scope.TASKS_WRITE,
        opt=answers("TASK_REOPENED", errors=_CHANGE_ERRORS),
    )
    async def reopen_task(
        self, tasks: Tasks, user_id: CurrentUserId, task_id: TaskId, if_match: IfMatch = None
    ) -> Response[Envelope[TaskOut]]:
        """Mark open again (idempotent)."""
        result = await tasks.reopen(
            user_id, parse_id(task_id, "task_id"), expected_versions(if_match)
        )
        return _task_response(result, "TASK_REOPENED")

    @patch(
        "/{task_id:str}/toggle",
        scope=Scope.TASKS_WRITE,
        opt=answers("TASK_COMPLETED", "TASK_REOPENED", errors=_CHANGE_ERRORS),
    )
    async def toggle_task(
        self, tasks: Tasks, user_id: CurrentUserId, task_id: TaskId, if_match: IfMatch = None
    ) -> Response[Envelope[TaskOut]]:
        """Flip between open and completed."""
        result = await tasks.toggle(
            user_id, parse_id(task_id, "task_id"), expected_versions(if_match)
        )
        popup = "TASK_COMPLETED" if result.is_completed else "TASK_REOPENED"
        return _task_response(result, popup)

    @delete(
        "/{task_id:str}",
        status_code=200,
        scope=Scope.TASKS_WRITE,
        opt=answers("TASK_DELETED", errors=_CHANGE_ERRORS),
    )
    async def delete_task(
        self, tasks: Tasks, user_id: CurrentUserId, task_id: TaskId, if_match: IfMatch = None
    ) -> Response[Envelope[DeletedOut]]:
        """Delete a task and its subtasks; their history stays."""
        deleted = await tasks.delete(
            user_id, parse_id(task_id, "task_id"), expected_versions(if_match)
        )
        return ok(DeletedOut(deleted.id), popup="TASK_DELETED")


async def _update(
    request: Request[Any, Any, Any],
    tasks: Tasks,
    user_id: UUID,
    task_id: str,
    if_match: str | None,
) -> Response[Envelope[TaskOut]]:
    body = await read_json(request, TaskPatch)
    edit = TaskEdit(
        title=_kept(body.title),
        description=_kept(body.description),
        list_id=kept_id(body.list_id, "list_id"),
        parent_id=kept_id(body.parent_id, "parent_id"),
        due_date=_kept(body.due_date),
        due_at=_kept(body.due_at),
        priority=_kept(body.priority),
        labels=KEEP if isinstance(body.labels, msgspec.UnsetType) else tuple(body.labels),
    )
    result = await tasks.update(
        user_id, parse_id(task_id, "task_id"), edit, expected_versions(if_match)
    )
    return _task_response(result, "TASK_UPDATED")
