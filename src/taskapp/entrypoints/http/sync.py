"""/api/v1/sync: the caller's changes after a cursor, and `X-Sync-Cursor` on mutations.

A client syncs with `GET /sync` (no cursor: everything), applies the page, and asks again
with the page's `cursor` while `has_more`. Pages come from the per-user change log, so
applying them in order converges on the server's state and never skips a change, also
while others write (decision 0015).

Every successful mutation's answer carries `X-Sync-Cursor` (a cursor at or after that
change), added in one place: EdgeMiddleware asks `sync_cursor_header` when a mutation's
answer starts with a 2xx, which reads the signed-in caller's head of the log (one indexed
round trip, after the write has committed), so no handler threads a position through.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter
from litestar.types import Scope

from taskapp.adapters.postgres.unit_of_work import committed_position
from taskapp.domain.model.lists import TaskList
from taskapp.domain.model.sync import (
    SYNC_LIMIT_DEFAULT,
    SYNC_LIMIT_MAX,
    ChangeEvent,
    SyncCursor,
    SyncPage,
)
from taskapp.entrypoints.http.dependencies import CurrentUserId, Sync
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.fields import described, whole
from taskapp.entrypoints.http.openapi import BEARER
from taskapp.entrypoints.http.scopes import Scope as ApiScope
from taskapp.entrypoints.http.tasks import DeletedOut, TaskOut

logger = logging.getLogger(__name__)

SYNC_CURSOR_HEADER = "X-Sync-Cursor"
# base64url, unpadded, of 15 bytes (a version byte, the seq, a tag of the user).
CURSOR_PATTERN = described(
    whole("[A-Za-z0-9_-]{20}"), "must be a cursor from GET /sync or X-Sync-Cursor"
)

Cursor = Annotated[
    str | None,
    QueryParameter(
        pattern=CURSOR_PATTERN,
        description="the `cursor` of the last page applied (or an `X-Sync-Cursor`); "
        "leave out for a full sync. Opaque; another user's or a malformed one → 422.",
    ),
]
SyncLimit = Annotated[
    int,
    QueryParameter(
        ge=1,
        le=SYNC_LIMIT_MAX,
        description="at most this many objects and deleted ids on the page, together",
    ),
]


def event_data(event: ChangeEvent) -> TaskOut | SyncListOut | DeletedOut:
    """An event's object in the API's shape (live events and webhooks alike); `{id}` once
    the object is gone."""
    if event.task is not None:
        return TaskOut.of(event.task)
    if event.task_list is not None:
        return SyncListOut.of(event.task_list)
    return DeletedOut(event.object_id)


class SyncListOut(msgspec.Struct):
    """A list as sync carries it: its own fields (its counts follow from the tasks)."""

    id: UUID
    name: str
    color: str | None
    position: str
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, found: TaskList) -> SyncListOut:
        return msgspec.convert(found, cls, from_attributes=True)


class SyncPageOut(msgspec.Struct):
    tasks: list[TaskOut]
    lists: list[SyncListOut]
    deleted_task_ids: list[UUID]
    deleted_list_ids: list[UUID]
    cursor: str
    has_more: bool

    @classmethod
    def of(cls, page: SyncPage) -> SyncPageOut:
        return cls(
            tasks=[TaskOut.of(task) for task in page.tasks],
            lists=[SyncListOut.of(found) for found in page.lists],
            deleted_task_ids=page.deleted_task_ids,
            deleted_list_ids=page.deleted_list_ids,
            cursor=page.cursor.encode(),
            has_more=page.has_more,
        )


class SyncController(Controller):
    path = "/sync"
    tags = ["sync"]
    security = BEARER

    @get("/", scope=ApiScope.EVENTS_READ, operation_id="syncChanges")
    async def sync(
        self,
        sync: Sync,
        user_id: CurrentUserId,
        cursor: Cursor = None,
        limit: SyncLimit = SYNC_LIMIT_DEFAULT,
    ) -> Response[Envelope[SyncPageOut]]:
        """Everything of the caller's that changed after `cursor`, each object as it is
        now, deletions as ids. Apply the pages in order; while `has_more`, ask again with
        the page's `cursor`. Keep the last `cursor` for the next sync."""
        return ok(SyncPageOut.of(await sync.sync(user_id, cursor, limit)))


async def sync_cursor_header(scope: Scope) -> list[tuple[bytes, bytes]]:
    """`X-Sync-Cursor` for a 2xx answer to a mutation (EdgeMiddleware asks for every
    method but GET, HEAD and OPTIONS): the signed-in caller's head of the log, read once
    the answer is ready; nothing for callers who are not signed in (register, login)."""
    user = (scope.get("state") or {}).get("user_id")
    if not isinstance(user, str):
        return []
    committed = committed_position.get()
    if committed is not None:  # the request's own write told its position: no query
        return [(b"x-sync-cursor", SyncCursor(UUID(user), committed).encode().encode())]
    container: Any = scope["litestar_app"].state.container
    try:
        head = await container.sync.head(UUID(user))
    except Exception:  # the write has committed; its answer goes out without the header
        logger.warning("could not read the sync head for X-Sync-Cursor", exc_info=True)
        return []
    cursor: str = head.encode()
    return [(b"x-sync-cursor", cursor.encode())]
