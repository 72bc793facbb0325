"""/api/v1/lists: named groups of tasks in the user's own order."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import PathParameter, QueryParameter

from taskapp.domain.model import ListSummary, PageRequest
from taskapp.entrypoints.http.body import read_json
from taskapp.entrypoints.http.dependencies import CurrentUserId, Lists
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.fields import (
    UUID_PATTERN,
    Color,
    ListName,
    Uuid,
    optional_id,
    parse_id,
)
from taskapp.entrypoints.http.openapi import BEARER, answers, documents_body
from taskapp.entrypoints.http.pagination import Limit, Offset, PageNumber, PageOut
from taskapp.entrypoints.http.preconditions import expected_versions
from taskapp.entrypoints.http.scopes import Scope
from taskapp.entrypoints.http.tasks import DeletedOut, IfMatch, _kept

ListId = Annotated[str, PathParameter(pattern=UUID_PATTERN, description="the list's UUID")]
WithTasks = Annotated[
    bool, QueryParameter(description="true: delete the list's tasks too (else 409 if any)")
]


class ListCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: ListName
    color: Color | None = None


class ListPatch(msgspec.Struct, forbid_unknown_fields=True):
    __schema_patch__: ClassVar[dict[str, Any]] = {"minProperties": 1}

    name: ListName | msgspec.UnsetType = msgspec.UNSET
    color: Color | msgspec.UnsetType | None = msgspec.UNSET


class ListMove(msgspec.Struct, forbid_unknown_fields=True):
    """Right after `after_id`, else right before `before_id`, else last."""

    after_id: Uuid | None = None
    before_id: Uuid | None = None


class ListOut(msgspec.Struct):
    id: UUID
    name: str
    color: str | None
    position: str
    open_count: int
    completed_count: int
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, summary: ListSummary) -> ListOut:
        found = summary.list
        return cls(
            id=found.id,
            name=found.name,
            color=found.color,
            position=found.position,
            open_count=summary.open_count,
            completed_count=summary.completed_count,
            created_at=found.created_at,
            updated_at=found.updated_at,
            version=found.version,
        )


def _list_response(
    summary: ListSummary, popup: str | None, status_code: int = 200
) -> Response[Envelope[ListOut]]:
    headers = {"ETag": f'"{summary.list.version}"'}
    if status_code == 201:
        headers["Location"] = f"/api/v1/lists/{summary.list.id}"
    return ok(ListOut.of(summary), popup=popup, status_code=status_code, headers=headers)


# What a change of one list can answer beyond the usual errors.
_CHANGE_ERRORS = ("LIST_NOT_FOUND", "VERSION_CONFLICT", "CONFLICT")


class ListController(Controller):
    path = "/lists"
    tags = ["lists"]
    security = BEARER

    @post(
        "/",
        status_code=201,
        scope=Scope.TASKS_WRITE,
        opt=documents_body(
            ListCreate, errors=("LIST_NAME_TAKEN", "LIMIT_REACHED"), popups=("LIST_CREATED",)
        ),
    )
    async def create_list(
        self, request: Request[Any, Any, Any], lists: Lists, user_id: CurrentUserId
    ) -> Response[Envelope[ListOut]]:
        """Create a list, last in the manual order."""
        body = await read_json(request, ListCreate)
        return _list_response(
            await lists.create(user_id, body.name, body.color), "LIST_CREATED", 201
        )

    @get("/", scope=Scope.TASKS_READ)
    async def list_lists(
        self,
        lists: Lists,
        user_id: CurrentUserId,
        page: PageNumber = 1,
        limit: Limit = 20,
        offset: Offset = None,
    ) -> Response[Envelope[PageOut[ListOut]]]:
        """The caller's lists in manual order, with their task counts."""
        found = await lists.list(user_id, PageRequest.of(page, limit, offset))
        return ok(PageOut.of(found, ListOut.of))

    @get("/{list_id:str}", scope=Scope.TASKS_READ, opt=answers(errors=("LIST_NOT_FOUND",)))
    async def get_list(
        self, lists: Lists, user_id: CurrentUserId, list_id: ListId
    ) -> Response[Envelope[ListOut]]:
        return _list_response(await lists.get(user_id, parse_id(list_id, "list_id")), None)

    @patch(
        "/{list_id:str}",
        scope=Scope.TASKS_WRITE,
        opt=documents_body(
            ListPatch, errors=(*_CHANGE_ERRORS, "LIST_NAME_TAKEN"), popups=("LIST_UPDATED",)
        ),
    )
    async def update_list(
        self,
        request: Request[Any, Any, Any],
        lists: Lists,
        user_id: CurrentUserId,
        list_id: ListId,
        if_match: IfMatch = None,
    ) -> Response[Envelope[ListOut]]:
        """Rename or recolor (`color: null` clears it)."""
        body = await read_json(request, ListPatch)
        updated = await lists.update(
            user_id,
            parse_id(list_id, "list_id"),
            name=_kept(body.name),
            color=_kept(body.color),
            expected_versions=expected_versions(if_match),
        )
        return _list_response(updated, "LIST_UPDATED")

    @post(
        "/{list_id:str}/move",
        status_code=200,
        scope=Scope.TASKS_WRITE,
        opt=documents_body(ListMove, errors=_CHANGE_ERRORS, popups=("LIST_MOVED",)),
    )
    async def move_list(
        self,
        request: Request[Any, Any, Any],
        lists: Lists,
        user_id: CurrentUserId,
        list_id: ListId,
        if_match: IfMatch = None,
    ) -> Response[Envelope[ListOut]]:
        """Reorder: other lists keep their positions and versions."""
        body = await read_json(request, ListMove)
        moved = await lists.move(
            user_id,
            parse_id(list_id, "list_id"),
            after_id=optional_id(body.after_id, "after_id"),
            before_id=optional_id(body.before_id, "before_id"),
            expected_versions=expected_versions(if_match),
        )
        return _list_response(moved, "LIST_MOVED")

    @delete(
        "/{list_id:str}",
        status_code=200,
        scope=Scope.TASKS_WRITE,
        opt=answers("LIST_DELETED", errors=(*_CHANGE_ERRORS, "LIST_NOT_EMPTY")),
    )
    async def delete_list(
        self,
        lists: Lists,
        user_id: CurrentUserId,
        list_id: ListId,
        with_tasks: WithTasks = False,
        if_match: IfMatch = None,
    ) -> Response[Envelope[DeletedOut]]:
        """Delete an empty list; with `with_tasks=true` its tasks go too (each with its
        DELETED history entry, in the same transaction)."""
        deleted = await lists.delete(
            user_id,
            parse_id(list_id, "list_id"),
            with_tasks=with_tasks,
            expected_versions=expected_versions(if_match),
        )
        return ok(DeletedOut(deleted.id), popup="LIST_DELETED")
