"""/api/v1/history: the caller's audit log of task changes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter

from taskapp.domain.model import ActionType, HistoryEntry, HistoryQuery, PageRequest
from taskapp.entrypoints.http.dependencies import CurrentUserId, History
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.fields import UUID_PATTERN, parse_id
from taskapp.entrypoints.http.openapi import BEARER, answers
from taskapp.entrypoints.http.pagination import Limit, Offset, PageNumber, PageOut
from taskapp.entrypoints.http.scopes import Scope

TaskFilter = Annotated[
    str | None, QueryParameter(pattern=UUID_PATTERN, description="only this task's entries")
]
ActionFilter = Annotated[ActionType | None, QueryParameter(description="only this action")]
AsOf = Annotated[
    str | None,
    QueryParameter(
        pattern=UUID_PATTERN,
        description="an entry id: list that entry and older ones only. Pass the first "
        "item's id of page 1 when asking for later pages, and pages neither overlap nor "
        "leave gaps while new entries arrive.",
    ),
]


class ChangeOut(msgspec.Struct, rename={"old": "from", "new": "to"}):
    old: str | list[str] | None
    new: str | list[str] | None


class HistoryEntryOut(msgspec.Struct):
    id: UUID
    task_id: UUID
    task_title: str
    action_type: ActionType
    description: str
    changes: dict[str, ChangeOut] | None
    timestamp: datetime

    @classmethod
    def of(cls, entry: HistoryEntry) -> HistoryEntryOut:
        changes = None
        if entry.changes is not None:
            changes = {name: ChangeOut(c.old, c.new) for name, c in entry.changes.items()}
        return cls(
            id=entry.id,
            task_id=entry.task_id,
            task_title=entry.task_title,
            action_type=entry.action_type,
            description=entry.description,
            changes=changes,
            timestamp=entry.timestamp,
        )


class HistoryController(Controller):
    path = "/history"
    tags = ["history"]
    security = BEARER

    @get("/", scope=Scope.HISTORY_READ, opt=answers(errors=("NOT_FOUND",)))
    async def list_history(
        self,
        history: History,
        user_id: CurrentUserId,
        task_id: TaskFilter = None,
        action_type: ActionFilter = None,
        page: PageNumber = 1,
        limit: Limit = 20,
        offset: Offset = None,
        as_of: AsOf = None,
    ) -> Response[Envelope[PageOut[HistoryEntryOut]]]:
        """The caller's history entries, newest first."""
        query = HistoryQuery(
            task_id=None if task_id is None else parse_id(task_id, "task_id"),
            action_type=action_type,
            as_of=None if as_of is None else parse_id(as_of, "as_of"),
        )
        found = await history.list(user_id, query, PageRequest.of(page, limit, offset))
        return ok(PageOut.of(found, HistoryEntryOut.of))
