"""The append-only task history in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskapp.adapters.postgres.tables import history_counts, task_history
from taskapp.domain.model import ActionType, FieldChange, HistoryEntry, Page, PageRequest

_INSERT = task_history.insert()  # built once (see tasks.py)


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
            _INSERT,
            {
                "id": entry.id,
                "user_id": entry.user_id,
                "task_id": entry.task_id,
                "task_title": entry.task_title,
                "action_type": entry.action_type.value,
                "description": entry.description,
                "changes": changes_to_json(entry.changes),
                "created_at": entry.timestamp,
            },
        )

    async def list(
        self,
        user_id: UUID,
        page: PageRequest,
        task_id: UUID | None = None,
        action_type: ActionType | None = None,
        as_of: UUID | None = None,
    ) -> Page[HistoryEntry] | None:
        h = task_history
        conditions: list[sa.ColumnElement[bool]] = [h.c.user_id == user_id]
        if task_id is not None:
            conditions.append(h.c.task_id == task_id)
        if action_type is not None:
            conditions.append(h.c.action_type == action_type.value)
        anchor = None
        if as_of is not None:
            anchor = (
                sa.select(h.c.seq).where(h.c.user_id == user_id, h.c.id == as_of).scalar_subquery()
            )
        listed = conditions if anchor is None else [*conditions, h.c.seq <= anchor]
        window = (
            sa.select(h)
            .where(*listed)
            .order_by(h.c.seq.desc())
            .offset(page.offset)
            .limit(page.limit)
            .subquery()
            .lateral("page")
        )
        totals = sa.select(
            self._total(user_id, conditions, task_id, action_type, anchor).label("total"),
            (sa.literal(True) if anchor is None else anchor.isnot(None)).label("anchored"),
        ).subquery("totals")
        # One round trip: the total and the page, with one row even when the page is empty.
        statement = sa.select(totals, window).select_from(totals.outerjoin(window, sa.true()))
        rows = (await self._connection.execute(statement)).all()
        if not rows[0].anchored:
            return None
        entries = [_to_entry(row) for row in rows if row.id is not None]
        return Page(entries, int(rows[0].total), page.offset, page.limit)

    @staticmethod
    def _total(
        user_id: UUID,
        conditions: Sequence[sa.ColumnElement[bool]],
        task_id: UUID | None,
        action_type: ActionType | None,
        anchor: sa.ScalarSelect[Any] | None,
    ) -> sa.ColumnElement[Any]:
        """The exact count, without scanning a user's whole history.

        Without a task filter the per-user counters answer (minus the few entries newer
        than the anchor); a single task's history is short enough to count directly.
        """
        h = task_history
        if task_id is not None:
            where = conditions if anchor is None else [*conditions, h.c.seq <= anchor]
            return sa.select(sa.func.count()).select_from(h).where(*where).scalar_subquery()
        column = history_counts.c[action_type.value.lower() if action_type else "total"]
        counted = sa.func.coalesce(
            sa.select(column).where(history_counts.c.user_id == user_id).scalar_subquery(), 0
        )
        if anchor is None:
            return counted
        newer = (
            sa.select(sa.func.count())
            .select_from(h)
            .where(*conditions, h.c.seq > anchor)
            .scalar_subquery()
        )
        return counted - newer
