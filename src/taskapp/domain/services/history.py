"""Reading the history of task changes (the writes happen with each change)."""

from __future__ import annotations

from uuid import UUID

from taskapp.domain.errors import NotFound
from taskapp.domain.model import ActionType, HistoryEntry, Page, PageRequest
from taskapp.domain.ports import UnitOfWorkFactory


class HistoryService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def list(
        self,
        user_id: UUID,
        page: PageRequest,
        task_id: UUID | None = None,
        action_type: ActionType | None = None,
        as_of: UUID | None = None,
    ) -> Page[HistoryEntry]:
        """The caller's entries, newest first (insertion order breaks ties)."""
        async with self._uow(read_only=True) as uow:
            found = await uow.history.list(user_id, page, task_id, action_type, as_of)
        if found is None:
            raise NotFound("`as_of` names no history entry of yours")
        return found
