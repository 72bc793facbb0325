"""Label use cases: which labels a user has, and renaming or removing one on every task."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from taskapp.domain.errors import Contended, LabelNotFound, StaleWrite
from taskapp.domain.model import (
    LABEL_MAX_LENGTH,
    ActionType,
    HistoryEntry,
    LabelUsage,
    Task,
    TaskEdit,
    label_key,
    normalize_labels,
)
from taskapp.domain.model.text import required_text
from taskapp.domain.ports import Clock, LabelReads, TasksUnitOfWorkFactory
from taskapp.domain.services.tasks import MAX_ATTEMPTS, back_off


class LabelService:
    def __init__(self, uow: TasksUnitOfWorkFactory, reads: LabelReads, clock: Clock) -> None:
        self._uow = uow
        self._reads = reads
        self._clock = clock

    async def usage(self, user_id: UUID) -> list[LabelUsage]:
        return await self._reads.usage(user_id)

    async def rename(self, user_id: UUID, name: str, new_name: str) -> int:
        """Rename the label on every task carrying it (merging into an existing label of
        the new name); the number of tasks changed."""
        replacement = required_text(new_name, "name", LABEL_MAX_LENGTH)
        key = label_key(name)

        def relabel(labels: tuple[str, ...]) -> tuple[str, ...]:
            return normalize_labels(replacement if label_key(x) == key else x for x in labels)

        return await self._relabel(user_id, key, relabel)

    async def delete(self, user_id: UUID, name: str) -> int:
        """Remove the label from every task carrying it; the number of tasks changed."""
        key = label_key(name)
        return await self._relabel(
            user_id, key, lambda labels: tuple(x for x in labels if label_key(x) != key)
        )

    async def _relabel(
        self, user_id: UUID, key: str, relabel: Callable[[tuple[str, ...]], tuple[str, ...]]
    ) -> int:
        for attempt in range(MAX_ATTEMPTS):
            tasks: list[Task] = await self._reads.tasks_with(user_id, key)
            if not tasks:
                raise LabelNotFound
            now = self._clock.now()
            changes: list[tuple[Task, int]] = []
            entries: list[HistoryEntry] = []
            for task in tasks:
                edited = task.edit(now, TaskEdit(labels=relabel(task.labels)))
                if edited is not None:
                    changes.append((edited[0], task.version))
                    entries.append(
                        HistoryEntry.record(edited[0], ActionType.UPDATED, now, edited[1])
                    )
            if not changes:
                return 0
            try:
                async with self._uow() as uow:
                    await uow.tasks.update_many(changes)
                    await uow.history.append_many(entries)
                    await uow.commit()
            except StaleWrite:
                await back_off(attempt)
                continue
            return len(changes)
        raise Contended
