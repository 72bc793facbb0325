"""Lists in PostgreSQL: writes for the tasks unit of work, and reads with their counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any
from uuid import UUID

from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.placement import tasks_in_list
from taskapp.adapters.postgres.statements import column_list, insert_select
from taskapp.adapters.postgres.sync import lock_change_log
from taskapp.adapters.postgres.tables import lists
from taskapp.adapters.postgres.unit_of_work import Session, Write
from taskapp.domain.model import (
    LISTS_PER_USER,
    ListSummary,
    Page,
    PageRequest,
    TaskList,
    list_name_key,
)
from taskapp.domain.ports import TaskBatch

LIST_COLUMNS = tuple(field.name for field in fields(TaskList))
_COLUMNS = column_list(LIST_COLUMNS)
_ADD = insert_select(lists, (*LIST_COLUMNS, "name_key")).replace(
    " WHERE {go}",
    f" WHERE {{go}} AND (SELECT count(*) FROM lists WHERE user_id = $2) < {LISTS_PER_USER}",
)
_UPDATE = (
    "UPDATE lists SET name = $4, name_key = $5, color = $6, position = $7, updated_at = $8, "
    "version = $9 WHERE id = $1 AND user_id = $2 AND version = $3 AND {go} RETURNING 1"
)
# No task may be in the list but those deleted with it ($4). A task that arrives while the
# delete waits for the row (the count trigger of its insert holds it) fails the recheck of
# the counts against the statement's own count: StaleWrite, never an orphan or a 500.
_DELETE = (
    "DELETE FROM lists WHERE id = $1 AND user_id = $2 AND version = $3 "
    "AND NOT EXISTS (SELECT FROM tasks WHERE list_id = $1 AND id <> ALL($4::uuid[])) "
    "AND open_count + completed_count = (SELECT count(*) FROM tasks WHERE list_id = $1) "
    "AND {go} RETURNING 1"
)
_GET = f"SELECT {_COLUMNS}, open_count, completed_count FROM lists WHERE id = $1 AND user_id = $2"
_PAGE = (
    f"SELECT {column_list(LIST_COLUMNS, 'page.')}, page.open_count, page.completed_count, "
    "counted.total FROM (SELECT count(*) AS total FROM lists WHERE user_id = $1) AS counted "
    f"LEFT JOIN LATERAL (SELECT {_COLUMNS}, open_count, completed_count FROM lists "
    "WHERE user_id = $1 ORDER BY position, id LIMIT $2 OFFSET $3) AS page ON TRUE"
)


def _summary(row: Any) -> ListSummary:
    width = len(LIST_COLUMNS)
    return ListSummary(TaskList(*row[:width]), row[width], row[width + 1])


class PostgresListRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, task_list: TaskList) -> None:
        args = (
            *(getattr(task_list, name) for name in LIST_COLUMNS),
            list_name_key(task_list.name),
        )
        self._session.defer(Write(_ADD, args, guarded=True, logs_for=(task_list.user_id,)))

    async def update(self, task_list: TaskList, *, expected_version: int) -> None:
        args = (
            task_list.id,
            task_list.user_id,
            expected_version,
            task_list.name,
            list_name_key(task_list.name),
            task_list.color,
            task_list.position,
            task_list.updated_at,
            task_list.version,
        )
        self._session.defer(lock_change_log(task_list.user_id))  # sync.py: lock order
        self._session.defer(Write(_UPDATE, args, guarded=True, logs_for=(task_list.user_id,)))

    async def delete(
        self, task_list: TaskList, *, expected_version: int, holding: Sequence[UUID] = ()
    ) -> None:
        args = (task_list.id, task_list.user_id, expected_version, list(holding))
        self._session.defer(lock_change_log(task_list.user_id))  # sync.py: lock order
        self._session.defer(Write(_DELETE, args, guarded=True, logs_for=(task_list.user_id,)))


class PostgresListReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, user_id: UUID, list_id: UUID) -> ListSummary | None:
        row = await self._db.fetchrow(_GET, list_id, user_id)
        return None if row is None else _summary(row)

    async def list(self, user_id: UUID, page: PageRequest) -> Page[ListSummary]:
        rows = await self._db.fetch(_PAGE, user_id, page.limit, page.offset)
        items = [_summary(row) for row in rows if row[0] is not None]
        return Page(items, rows[0]["total"], page.offset, page.limit)

    async def tasks_in(self, user_id: UUID, list_id: UUID) -> TaskBatch:
        return await tasks_in_list(self._db, user_id, list_id)
