"""List use cases: create, read, rename or recolor, reorder, delete (with its tasks)."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from taskapp.domain.errors import (
    Contended,
    LimitReached,
    ListNotEmpty,
    ListNotFound,
    StaleWrite,
    ValidationFailed,
    VersionConflict,
)
from taskapp.domain.model import (
    KEEP,
    LISTS_PER_USER,
    ActionType,
    HistoryEntry,
    Keep,
    ListSummary,
    Page,
    PageRequest,
    TaskList,
)
from taskapp.domain.ports import Clock, ListReads, PlacementReads, Positions, TasksUnitOfWorkFactory
from taskapp.domain.services.tasks import MAX_ATTEMPTS, back_off


class ListService:
    def __init__(
        self,
        uow: TasksUnitOfWorkFactory,
        reads: ListReads,
        placement: PlacementReads,
        positions: Positions,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._reads = reads
        self._placement = placement
        self._positions = positions
        self._clock = clock

    async def create(self, user_id: UUID, name: str, color: str | None = None) -> ListSummary:
        now = self._clock.now()
        created = TaskList.create(user_id, name, color, self._positions.for_new(now), now)
        try:
            async with self._uow() as uow:
                await uow.lists.add(created)
                await uow.commit()
        except StaleWrite:
            raise LimitReached(
                f"You have {LISTS_PER_USER:,} lists, the most there can be"
            ) from None
        return ListSummary(created, 0, 0)

    async def get(self, user_id: UUID, list_id: UUID) -> ListSummary:
        found = await self._reads.get(user_id, list_id)
        if found is None:
            raise ListNotFound
        return found

    async def list(self, user_id: UUID, page: PageRequest) -> Page[ListSummary]:
        return await self._reads.list(user_id, page)

    async def update(
        self,
        user_id: UUID,
        list_id: UUID,
        *,
        name: str | Keep = KEEP,
        color: str | Keep | None = KEEP,
        expected_versions: Collection[int] | None = None,
    ) -> ListSummary:
        if isinstance(name, Keep) and isinstance(color, Keep):
            raise ValidationFailed.of("list", "give at least one of name, color")
        for attempt in range(MAX_ATTEMPTS):
            current = await self._current(user_id, list_id, expected_versions)
            edited = current.list.edit(self._clock.now(), name=name, color=color)
            if edited is None:
                return current
            if await self._save(edited, current.list.version):
                return ListSummary(edited, current.open_count, current.completed_count)
            await back_off(attempt)
        raise Contended

    async def move(
        self,
        user_id: UUID,
        list_id: UUID,
        *,
        after_id: UUID | None = None,
        before_id: UUID | None = None,
        expected_versions: Collection[int] | None = None,
    ) -> ListSummary:
        for attempt in range(MAX_ATTEMPTS):
            current = await self._current(user_id, list_id, expected_versions)
            gap = await self._placement.list_gap(user_id, after_id, before_id, moving=list_id)
            if not gap.found:
                raise ValidationFailed.of(
                    "after_id" if after_id else "before_id", "must be another of your lists"
                )
            position = current.list.position
            inside = (gap.low is None or gap.low < position) and (
                gap.high is None or position < gap.high
            )
            if inside:
                return current
            edited = current.list.edit(
                self._clock.now(), position=self._positions.between(gap.low, gap.high)
            )
            assert edited is not None
            if await self._save(edited, current.list.version):
                return ListSummary(edited, current.open_count, current.completed_count)
            await back_off(attempt)
        raise Contended

    async def delete(
        self,
        user_id: UUID,
        list_id: UUID,
        *,
        with_tasks: bool = False,
        expected_versions: Collection[int] | None = None,
    ) -> TaskList:
        """Refused while the list holds tasks, unless `with_tasks`: then they go too, each
        with its DELETED entry, in the same transaction as the list."""
        for attempt in range(MAX_ATTEMPTS):
            current = await self._current(user_id, list_id, expected_versions)
            tasks = await self._reads.tasks_in(user_id, list_id)
            if tasks and not with_tasks:
                raise ListNotEmpty
            now = self._clock.now()
            try:
                async with self._uow() as uow:
                    if tasks:
                        await uow.tasks.delete_many(tasks)
                        await uow.history.append_many(
                            [HistoryEntry.record(t, ActionType.DELETED, now) for t in tasks]
                        )
                    await uow.lists.delete(
                        current.list,
                        expected_version=current.list.version,
                        holding=[t.id for t in tasks],
                    )
                    await uow.commit()
            except StaleWrite:
                await back_off(attempt)
                continue
            return current.list
        raise Contended

    async def _current(
        self, user_id: UUID, list_id: UUID, expected_versions: Collection[int] | None
    ) -> ListSummary:
        found = await self._reads.get(user_id, list_id)
        if found is None:
            raise ListNotFound
        if expected_versions is not None and found.list.version not in expected_versions:
            raise VersionConflict
        return found

    async def _save(self, edited: TaskList, version: int) -> bool:
        try:
            async with self._uow() as uow:
                await uow.lists.update(edited, expected_version=version)
                await uow.commit()
        except StaleWrite:
            return False
        return True
