"""Download events in PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskapp.adapters.postgres.tables import downloads
from taskapp.domain.model import DownloadEvent, ExportFormat, Page, PageRequest


def _to_event(row: Any) -> DownloadEvent:
    return DownloadEvent(
        id=row.id,
        user_id=row.user_id,
        format=ExportFormat(row.format),
        item_count=row.item_count,
        created_at=row.created_at,
    )


class PostgresDownloadLog:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def record(self, event: DownloadEvent) -> None:
        await self._connection.execute(
            downloads.insert().values(
                id=event.id,
                user_id=event.user_id,
                format=event.format.value,
                item_count=event.item_count,
                created_at=event.created_at,
            )
        )

    async def list(self, user_id: UUID, page: PageRequest) -> Page[DownloadEvent]:
        mine = downloads.c.user_id == user_id
        statement = (
            sa.select(downloads)
            .where(mine)
            .order_by(downloads.c.created_at.desc(), downloads.c.id.desc())
            .offset(page.offset)
            .limit(page.limit)
        )
        rows = (await self._connection.execute(statement)).all()
        count = sa.select(sa.func.count()).select_from(downloads).where(mine)
        total = int((await self._connection.execute(count)).scalar_one())
        return Page([_to_event(row) for row in rows], total, page.offset, page.limit)
