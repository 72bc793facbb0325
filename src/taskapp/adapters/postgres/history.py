"""The append-only task history in PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskapp.adapters.postgres.tables import task_history
from taskapp.domain.model import ActionType, FieldChange, HistoryEntry, Page, PageRequest


def changes_to_json(changes: dict[str, FieldChange] | None) -> dict[str, Any] | None:
    if changes is None:
        return None
    return {name: {"from": c.old, "to": c.new} for name, c in changes.items()}


def changes_from_json(data: dict[str, Any] | None) -> dict[str, FieldChange] | None:
    if data is None:
        return None
    return {name: FieldChange(c["from"], c["to"]) for name, c in data.items()}


def _to_entry(row: Any) -> HistoryEntry:
    return HistoryEntry(
        id=row.id,
        user_id=row.user_id,
        task_id=row.task_id,
        task_title=row.task_title,
        action_type=ActionType(row.action_type),
        description=row.description,
        changes=changes_from_json(row.changes),
        timestamp=row.created_at,
    )


class PostgresHistoryLog:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def append(self, entry: HistoryEntry) -> None:
        await self._connection.execute(
            task_history.insert().values(
                id=entry.id,
                user_id=entry.user_id,
                task_id=entry.task_id,
                task_title=entry.task_title,
                action_type=entry.action_type.value,
                description=entry.description,
                changes=changes_to_json(entry.changes),
                created_at=entry.timestamp,
            )
        )

    async def list(
        self,
        user_id: UUID,
        page: PageRequest,
        task_id: UUID | None = None,
        action_type: ActionType | None = None,
    ) -> Page[HistoryEntry]:
        conditions: list[sa.ColumnElement[bool]] = [task_history.c.user_id == user_id]
        if task_id is not None:
            conditions.append(task_history.c.task_id == task_id)
        if action_type is not None:
            conditions.append(task_history.c.action_type == action_type.value)
        statement = (
            sa.select(task_history)
            .where(*conditions)
            .order_by(task_history.c.seq.desc())
            .offset(page.offset)
            .limit(page.limit)
        )
        rows = (await self._connection.execute(statement)).all()
        count = sa.select(sa.func.count()).select_from(task_history).where(*conditions)
        total = int((await self._connection.execute(count)).scalar_one())
        return Page([_to_entry(row) for row in rows], total, page.offset, page.limit)
