"""Download events in PostgreSQL."""

from __future__ import annotations

from uuid import UUID

from taskapp.adapters.postgres.database import Database
from taskapp.domain.model import DownloadEvent, ExportFormat, Page, PageRequest

_RECORD = (
    "INSERT INTO downloads (id, user_id, format, item_count, created_at) "
    "VALUES ($1, $2, $3, $4, $5)"
)
_PAGE = (
    "SELECT counted.total, page.id, page.format, page.item_count, page.created_at "
    "FROM (SELECT count(*) AS total FROM downloads WHERE user_id = $1) AS counted "
    "LEFT JOIN LATERAL (SELECT id, format, item_count, created_at FROM downloads "
    "WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3) AS page ON TRUE"
)


class PostgresDownloadLog:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def record(self, event: DownloadEvent) -> None:
        await self._db.execute(
            _RECORD,
            event.id,
            event.user_id,
            event.format.value,
            event.item_count,
            event.created_at,
        )

    async def list(self, user_id: UUID, page: PageRequest) -> Page[DownloadEvent]:
        rows = await self._db.fetch(_PAGE, user_id, page.limit, page.offset)
        events = [
            DownloadEvent(
                row["id"],
                user_id,
                ExportFormat(row["format"]),
                row["item_count"],
                row["created_at"],
            )
            for row in rows
            if row["id"] is not None
        ]
        return Page(events, rows[0]["total"], page.offset, page.limit)
