"""Task use cases. Each change and its history entries land together, or none of them.

A change reads the task (one round trip), lets the entity decide, and writes the change and
its history entry guarded by the version it read (one more round trip). When another change
won the race in between, the write does nothing and the decision is made again on the
fresh task: optimistic concurrency, so no transaction stays open across round trips.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from taskapp.domain.errors import (
    Contended,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    LimitReached,
    StaleWrite,
    TaskNotFound,
    ValidationFailed,
    VersionConflict,
)
from taskapp.domain.model import (
    IDEMPOTENCY_TTL_SECONDS,
    KEEP,
    MAX_DEPTH,
    TASKS_PER_USER,
    ActionType,
    ClaimStatus,
    FieldChange,
    HistoryEntry,
    Keep,
    Page,
    PageRequest,
    Priority,
    Task,
    TaskEdit,
    TaskQuery,
    check_idempotency_key,
    is_move,
    normalize_description,
    normalize_labels,
    normalize_title,
)
from taskapp.domain.ports import (
    Clock,
    IdempotencyKeys,
    ListReads,
    PlacementReads,
    Positions,
    Siblings,
    TaskBatch,
    TaskReads,
    TasksUnitOfWorkFactory,
)
from taskapp.domain.services.stats import parse_zone

# Enough for every one of 64 concurrent changes of one task to get its turn.
MAX_ATTEMPTS = 64


@dataclass(frozen=True, slots=True)
class Created:
    task: Task
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class NewTask:
    """What a create asks for (title and description are checked by the entity)."""

    title: str
    description: str | None = None
    list_id: UUID | Keep | None = KEEP  # KEEP (not given): the parent's list, or the Inbox
    parent_id: UUID | None = None
    due_date: date | None = None
    due_at: datetime | None = None
    priority: Priority = Priority.NONE
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a move puts a task: KEEP leaves list or parent as they are."""

    list_id: UUID | Keep | None = KEEP
    parent_id: UUID | Keep | None = KEEP
    after_id: UUID | None = None
    before_id: UUID | None = None


# A unit of changes decided on fresh reads: the tasks to store (each with the version it
# was decided on) and their history entries. None: the request changes nothing.
Plan = tuple[list[tuple[Task, int]], list[HistoryEntry], Task] | None


class TaskService:
    def __init__(
        self,
        uow: TasksUnitOfWorkFactory,
        reads: TaskReads,
        idempotency_keys: IdempotencyKeys,
        clock: Clock,
        placement: PlacementReads,
        lists: ListReads,
        positions: Positions,
    ) -> None:
        self._uow = uow
        self._reads = reads
        self._keys = idempotency_keys
        self._clock = clock
        self._placement = placement
        self._lists = lists
        self._positions = positions

    async def create(
        self,
        user_id: UUID,
        title: str,
        description: str | None = None,
        idempotency_key: str | None = None,
        *,
        new: NewTask | None = None,
    ) -> Created:
        new = replace(
            new or NewTask(title),
            title=normalize_title(title),
            description=normalize_description(description),
        )
        new = replace(new, labels=normalize_labels(new.labels))
        if idempotency_key is None:
            return Created(await self._insert(user_id, new))
        key = check_idempotency_key(idempotency_key)
        claim = await self._keys.claim(
            user_id, key, _fingerprint(new), self._clock.now(), IDEMPOTENCY_TTL_SECONDS
        )
        if claim.status is ClaimStatus.REPLAY and claim.task is not None:
            return Created(claim.task, replayed=True)
        if claim.status is ClaimStatus.IN_PROGRESS:
            raise IdempotencyKeyInProgress
        if claim.status is ClaimStatus.MISMATCH:
            raise IdempotencyKeyReused
        try:
            return Created(await self._insert(user_id, new, key))
        except BaseException:
            await self._keys.release(user_id, key)
            raise

    async def _insert(self, user_id: UUID, new: NewTask, key: str | None = None) -> Task:
        given = not isinstance(new.list_id, Keep)
        list_id = await self._checked_list(
            user_id, None if isinstance(new.list_id, Keep) else new.list_id
        )
        if new.parent_id is not None:
            parent = await self._parent(user_id, new.parent_id, height=1)
            if given and list_id != parent.list_id:  # null (the Inbox) included
                raise ValidationFailed.of("list_id", "must be the parent's list")
            list_id = parent.list_id
        now = self._clock.now()
        task = Task.create(
            user_id,
            new.title,
            new.description,
            now,
            position=self._positions.for_new(now),
            list_id=list_id,
            parent_id=new.parent_id,
            due_date=new.due_date,
            due_at=new.due_at,
            priority=new.priority,
            labels=new.labels,
        )
        try:
            async with self._uow() as uow:
                await uow.tasks.add(task)
                await uow.history.append(HistoryEntry.record(task, ActionType.CREATED, now))
                if key is not None:
                    await uow.idempotency_keys.complete(user_id, key, task)
                await uow.commit()
        except StaleWrite:
            raise LimitReached(
                f"You have {TASKS_PER_USER:,} tasks, the most there can be"
            ) from None
        return task

    async def get(self, user_id: UUID, task_id: UUID) -> Task:
        task = await self._reads.get(user_id, task_id)
        if task is None:
            raise TaskNotFound
        return task

    async def list(self, user_id: UUID, query: TaskQuery, page: PageRequest) -> Page[Task]:
        zone = parse_zone(query.zone_name)
        window = query.due_window(zone, self._clock.now())
        return await self._reads.list(user_id, query, window, page)

    async def update(
        self,
        user_id: UUID,
        task_id: UUID,
        edit: TaskEdit,
        expected_versions: Collection[int] | None = None,
    ) -> Task:
        """Change any fields; a new list or parent moves the task (with its subtasks) to
        the end of its new siblings."""
        if edit.is_empty:
            raise ValidationFailed.of("task", "give at least one field to change")

        async def plan(task: Task, now: datetime) -> Plan:
            if not edit.places:
                return _single(task, task.edit(now, edit), now)
            destination = Destination(list_id=edit.list_id, parent_id=edit.parent_id)
            return await self._plan_move(task, now, destination, edit)

        return await self._change(user_id, task_id, expected_versions, plan)

    async def move(
        self,
        user_id: UUID,
        task_id: UUID,
        destination: Destination,
        expected_versions: Collection[int] | None = None,
    ) -> Task:
        """Place the task (with its subtasks) in a list, under a parent, between two
        siblings; other tasks keep their positions and versions."""

        async def plan(task: Task, now: datetime) -> Plan:
            return await self._plan_move(task, now, destination, TaskEdit())

        return await self._change(user_id, task_id, expected_versions, plan)

    async def complete(
        self, user_id: UUID, task_id: UUID, expected_versions: Collection[int] | None = None
    ) -> Task:
        return await self._change(user_id, task_id, expected_versions, _transition(Task.complete))

    async def reopen(
        self, user_id: UUID, task_id: UUID, expected_versions: Collection[int] | None = None
    ) -> Task:
        return await self._change(user_id, task_id, expected_versions, _transition(Task.reopen))

    async def toggle(
        self, user_id: UUID, task_id: UUID, expected_versions: Collection[int] | None = None
    ) -> Task:
        return await self._change(user_id, task_id, expected_versions, _transition(Task.toggle))

    async def delete(
        self, user_id: UUID, task_id: UUID, expected_versions: Collection[int] | None = None
    ) -> Task:
        """Delete the task and its subtasks, each with its own DELETED entry."""
        for attempt in range(MAX_ATTEMPTS):
            # One read: the subtree starts with the task itself (parents come first).
            doomed = await self._placement.subtree(user_id, task_id)
            if not doomed:
                raise TaskNotFound
            task = doomed[0]
            if expected_versions is not None and task.version not in expected_versions:
                raise VersionConflict
            now = self._clock.now()
            try:
                async with self._uow() as uow:
                    if len(doomed) == 1:
                        await uow.tasks.delete(task, expected_version=task.version)
                        await uow.history.append(HistoryEntry.record(task, ActionType.DELETED, now))
                    else:
                        await uow.tasks.delete_many(doomed)
                        await uow.history.append_many(
                            [HistoryEntry.record(t, ActionType.DELETED, now) for t in doomed]
                        )
                    await uow.commit()
            except StaleWrite:
                await back_off(attempt)
                continue
            return task
        raise Contended

    async def _change(
        self,
        user_id: UUID,
        task_id: UUID,
        expected_versions: Collection[int] | None,
        plan: Callable[[Task, datetime], Awaitable[Plan]],
    ) -> Task:
        """Read, decide, write guarded by the versions read; on a lost race, again.

        `expected_versions` (from If-Match): the change applies only while the task is at
        one of them; None accepts any."""
        for attempt in range(MAX_ATTEMPTS):
            task = await self._current(user_id, task_id, expected_versions)
            decided = await plan(task, self._clock.now())
            if decided is None:  # already so: idempotent, no new version, no entry
                return task
            changes, entries, result = decided
            try:
                async with self._uow() as uow:
                    if len(changes) == 1:
                        changed, version = changes[0]
                        await uow.tasks.update(changed, expected_version=version)
                        await uow.history.append(entries[0])
                    else:
                        await uow.tasks.update_many(changes)
                        await uow.history.append_many(entries)
                    await uow.commit()
            except StaleWrite:
                await back_off(attempt)
                continue
            return result
        raise Contended

    async def _current(
        self, user_id: UUID, task_id: UUID, expected_versions: Collection[int] | None
    ) -> Task:
        task = await self._reads.get(user_id, task_id)
        if task is None:
            raise TaskNotFound
        if expected_versions is not None and task.version not in expected_versions:
            raise VersionConflict
        return task

    async def _checked_list(self, user_id: UUID, list_id: UUID | None) -> UUID | None:
        if list_id is not None and await self._lists.get(user_id, list_id) is None:
            raise ValidationFailed.of("list_id", "must be one of your lists")
        return list_id

    async def _parent(
        self, user_id: UUID, parent_id: UUID, *, height: int, moving: UUID | None = None
    ) -> Task:
        """The parent a task (whose subtree is `height` levels) may go under."""
        lineage = await self._placement.lineage(user_id, parent_id)
        if not lineage:
            raise ValidationFailed.of("parent_id", "must be one of your tasks")
        if moving is not None and any(t.id == moving for t in lineage):
            raise ValidationFailed.of("parent_id", "must not be the task itself or its subtask")
        if len(lineage) + height > MAX_DEPTH:
            raise ValidationFailed.of("parent_id", f"subtasks nest at most {MAX_DEPTH} levels deep")
        return lineage[0]

    async def _plan_move(
        self, task: Task, now: datetime, destination: Destination, edit: TaskEdit
    ) -> Plan:
        subtree = await self._placement.subtree(task.user_id, task.id)
        list_id, parent_id = await self._destination(task, destination, subtree)
        placed = destination.after_id is not None or destination.before_id is not None
        same_place = (list_id, parent_id) == (task.list_id, task.parent_id)
        position: str | Keep = KEEP
        if placed or not same_place:
            gap = await self._placement.task_gap(
                task.user_id,
                Siblings(list_id, parent_id),
                destination.after_id,
                destination.before_id,
                moving=task.id,
            )
            if not gap.found:
                raise ValidationFailed.of(
                    "after_id" if destination.after_id else "before_id",
                    "must be a sibling at the destination",
                )
            inside = (
                same_place
                and (gap.low is None or gap.low < task.position)
                and (gap.high is None or task.position < gap.high)
            )
            if not inside:  # already there: no change, no new version
                position = self._positions.between(gap.low, gap.high)
        placed_edit = replace(edit, list_id=list_id, parent_id=parent_id, position=position)
        edited = task.edit(now, placed_edit)
        if edited is None:
            return None
        changed, changes = edited
        action = ActionType.MOVED if is_move(changes) else ActionType.UPDATED
        plan_changes = [(changed, task.version)]
        entries = [HistoryEntry.record(changed, action, now, changes)]
        if changed.list_id != task.list_id:  # subtasks follow their parent to its list
            for child in subtree:
                if child.id == task.id:
                    continue
                moved = child.edit(now, TaskEdit(list_id=changed.list_id))
                if moved is not None:
                    plan_changes.append((moved[0], child.version))
                    entries.append(HistoryEntry.record(moved[0], ActionType.MOVED, now, moved[1]))
        return plan_changes, entries, changed

    async def _destination(
        self, task: Task, destination: Destination, subtree: TaskBatch
    ) -> tuple[UUID | None, UUID | None]:
        list_id = task.list_id if isinstance(destination.list_id, Keep) else destination.list_id
        if isinstance(destination.parent_id, Keep):
            # A new list takes the task out from under its parent (which stays behind).
            parent_id = task.parent_id if list_id == task.list_id else None
        else:
            parent_id = destination.parent_id
        if parent_id is not None:
            height = _height(task.id, subtree)
            parent = await self._parent(task.user_id, parent_id, height=height, moving=task.id)
            if not isinstance(destination.list_id, Keep) and destination.list_id != parent.list_id:
                raise ValidationFailed.of("list_id", "must be the parent's list")
            return parent.list_id, parent_id
        if list_id != task.list_id:
            await self._checked_list(task.user_id, list_id)
        return list_id, None


def _height(root: UUID, subtree: list[Task]) -> int:
    """Levels in the subtree under (and including) `root`."""
    depth = {root: 1}
    for task in subtree:  # parents come before their children
        if task.parent_id in depth and task.id != root:
            depth[task.id] = depth[task.parent_id] + 1
    return max(depth.values())


def _single(task: Task, edited: tuple[Task, dict[str, FieldChange]] | None, now: datetime) -> Plan:
    if edited is None:
        return None
    changed, changes = edited
    action = ActionType.MOVED if is_move(changes) else ActionType.UPDATED
    return [(changed, task.version)], [HistoryEntry.record(changed, action, now, changes)], changed


def _transition(rule: Callable[[Task, datetime], Task | None]) -> Callable[..., Awaitable[Plan]]:
    async def decide(task: Task, now: datetime) -> Plan:
        changed = rule(task, now)
        if changed is None:
            return None
        action = ActionType.COMPLETED if changed.is_completed else ActionType.REOPENED
        return [(changed, task.version)], [HistoryEntry.record(changed, action, now)], changed

    return decide


async def back_off(attempt: int) -> None:
    """Let the winner's commit land before re-reading: a short, jittered pause that grows
    with each lost race (at most a few milliseconds)."""
    if attempt:
        await asyncio.sleep(random.uniform(0, min(0.004, 0.0005 * attempt)))  # noqa: S311


def _fingerprint(new: NewTask) -> str:
    canonical = json.dumps(
        {
            "title": new.title,
            "description": new.description,
            "list_id": None if isinstance(new.list_id, Keep) else _text(new.list_id),
            "parent_id": _text(new.parent_id),
            "due_date": _text(new.due_date),
            "due_at": _text(new.due_at),
            "priority": new.priority.value,
            "labels": list(new.labels),
        },
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _text(value: object) -> str | None:
    return None if value is None else str(value)
