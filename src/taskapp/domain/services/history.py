"""Reading the history of task changes (the writes happen with each change)."""

from __future__ import annotations

from uuid import UUID

from taskapp.domain.errors import NotFound
from taskapp.domain.model import HistoryEntry, HistoryQuery, Page, PageRequest
from taskapp.domain.ports import HistoryReads


class HistoryService:
    def __init__(self, reads: HistoryReads) -> None:
        self._reads = reads

    async def list(
        self, user_id: UUID, query: HistoryQuery, page: PageRequest
    ) -> Page[HistoryEntry]:
        """The caller's entries, newest first (commit order)."""
        found = await self._reads.list(user_id, query, page)
        if found is None:
            raise NotFound("`as_of` names no history entry of yours")
        return found
