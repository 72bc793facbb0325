"""Import: the tasks of an exported file, into the caller's account, all or nothing.

Lists are matched by name (case-insensitively, as list names are unique) or created;
subtasks keep their parents and every task keeps its position, so manual order survives.
Every task gets its CREATED history entry, and the tasks, new lists and entries are written
by one unit of work: one transaction.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from uuid import UUID

from taskapp.domain.errors import FieldError, LimitReached, StaleWrite, ValidationFailed
from taskapp.domain.model import (
    IMPORT_MAX_REPORTED,
    IMPORT_MAX_TASKS,
    LISTS_PER_USER,
    MAX_DEPTH,
    POSITION_MAX_LENGTH,
    TASKS_PER_USER,
    ActionType,
    HistoryEntry,
    ImportResult,
    ImportRow,
    PageRequest,
    Task,
    TaskList,
    list_name_key,
    normalize_list_name,
    row_field,
)
from taskapp.domain.ports import Clock, ListReads, Positions, TasksUnitOfWorkFactory

_POSITION = re.compile(rf"[0-9A-Za-z]{{1,{POSITION_MAX_LENGTH}}}")


class _Report:
    """Row errors, the first IMPORT_MAX_REPORTED of them."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, row: int, name: str, message: str) -> None:
        if len(self.errors) < IMPORT_MAX_REPORTED:
            self.errors.append(FieldError(row_field(row, name), message))

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


@dataclass(frozen=True, slots=True)
class _Lists:
    by_key: dict[str, UUID]
    ids: frozenset[UUID]
    created: list[TaskList]


class ImportService:
    def __init__(
        self,
        uow: TasksUnitOfWorkFactory,
        lists: ListReads,
        positions: Positions,
        clock: Clock,
    ) -> None:
        self._uow = uow
        self._lists = lists
        self._positions = positions
        self._clock = clock

    async def run(self, user_id: UUID, rows: list[ImportRow]) -> ImportResult:
        if not rows:
            raise ValidationFailed.of("file", "holds no tasks")
        if len(rows) > IMPORT_MAX_TASKS:
            raise ValidationFailed.of("file", f"must hold at most {IMPORT_MAX_TASKS:,} tasks")
        now = self._clock.now()
        report = _Report()
        lists = await self._match_lists(user_id, rows, report)
        new_ids = self._new_ids(rows, report)
        tasks: list[Task] = []
        by_row: dict[int, Task] = {}
        last_position: str | None = None
        for row in rows:
            list_id = self._list_of(row, lists, report)
            position = row.position
            if position is None or not position:
                position = (
                    self._positions.for_new(now)
                    if last_position is None
                    else self._positions.between(last_position, None)
                )
                last_position = position
            elif not _POSITION.fullmatch(position):
                report.add(row.row, "position", "must be 1-200 letters and digits (a sort key)")
                continue
            try:
                task = Task.create(
                    user_id,
                    row.title,
                    row.description,
                    now,
                    position=position,
                    list_id=list_id,
                    due_date=row.due_date,
                    due_at=row.due_at,
                    priority=row.priority,
                    labels=row.labels,
                )
            except ValidationFailed as error:
                for item in error.details:
                    report.add(row.row, item.field, item.message)
                continue
            task = replace(task, id=new_ids.get(row.row, task.id))
            if row.is_completed:
                task = replace(task, is_completed=True, completed_at=row.completed_at or now)
            tasks.append(task)
            by_row[row.row] = task
        self._link_parents(rows, new_ids, by_row, report)
        report.raise_any()
        linked = [by_row[row.row] for row in rows]
        entries = [HistoryEntry.record(task, ActionType.CREATED, now) for task in linked]
        try:
            async with self._uow() as uow:
                for task_list in lists.created:
                    await uow.lists.add(task_list)
                await uow.tasks.add_many(linked)
                await uow.history.append_many(entries)
                await uow.commit()
        except StaleWrite:
            raise LimitReached(
                f"The import would pass {TASKS_PER_USER:,} tasks or {LISTS_PER_USER:,} lists"
            ) from None
        return ImportResult(len(linked), len(lists.created))

    async def _match_lists(self, user_id: UUID, rows: list[ImportRow], report: _Report) -> _Lists:
        page = await self._lists.list(user_id, PageRequest(0, LISTS_PER_USER))
        by_key = {list_name_key(s.list.name): s.list.id for s in page.items}
        ids = frozenset(s.list.id for s in page.items)
        created: list[TaskList] = []
        now = self._clock.now()
        for row in rows:
            if row.list_name is None or not row.list_name.strip():
                continue
            try:
                name = normalize_list_name(row.list_name)
            except ValidationFailed as error:
                report.add(row.row, "list_name", error.details[0].message)
                continue
            key = list_name_key(name)
            if key in by_key:
                continue
            position = (
                self._positions.for_new(now)
                if not created
                else self._positions.between(created[-1].position, None)
            )
            task_list = TaskList.create(user_id, name, None, position, now)
            created.append(task_list)
            by_key[key] = task_list.id
        if len(ids) + len(created) > LISTS_PER_USER:
            raise LimitReached(f"The import would pass {LISTS_PER_USER:,} lists")
        return _Lists(by_key, ids, created)

    def _list_of(self, row: ImportRow, lists: _Lists, report: _Report) -> UUID | None:
        if row.list_name is not None and row.list_name.strip():
            try:
                return lists.by_key[list_name_key(normalize_list_name(row.list_name))]
            except (ValidationFailed, KeyError):
                return None  # reported by _match_lists
        if row.list_id is None:
            return None
        if row.list_id not in lists.ids:
            report.add(row.row, "list_id", "is not one of your lists; give list_name instead")
            return None
        return row.list_id

    @staticmethod
    def _new_ids(rows: list[ImportRow], report: _Report) -> dict[int, UUID]:
        """A fresh id per task; the file's ids only say who is whose parent."""
        seen: set[UUID] = set()
        new_ids: dict[int, UUID] = {}
        for row in rows:
            new_ids[row.row] = uuid.uuid4()
            if row.source_id is not None:
                if row.source_id in seen:
                    report.add(row.row, "id", "appears twice in the file")
                seen.add(row.source_id)
        return new_ids

    @staticmethod
    def _link_parents(
        rows: list[ImportRow],
        new_ids: dict[int, UUID],
        by_row: dict[int, Task],
        report: _Report,
    ) -> None:
        row_of = {row.source_id: row.row for row in rows if row.source_id is not None}
        parent_row: dict[int, int] = {}
        for row in rows:
            if row.parent_id is None:
                continue
            found = row_of.get(row.parent_id)
            if found is None:
                report.add(row.row, "parent_id", "must be the id of another task in the file")
            elif found == row.row:
                report.add(row.row, "parent_id", "must not be the task itself")
            else:
                parent_row[row.row] = found
        for row in rows:
            depth, current, seen = 1, row.row, {row.row}
            while current in parent_row:
                current = parent_row[current]
                depth += 1
                if current in seen:
                    report.add(row.row, "parent_id", "makes a cycle")
                    break
                seen.add(current)
            else:
                if depth > MAX_DEPTH:
                    report.add(row.row, "parent_id", f"nests deeper than {MAX_DEPTH} levels")
            child = by_row.get(row.row)
            if row.row in parent_row and child is not None:
                parent = by_row.get(parent_row[row.row])
                if parent is not None and parent.list_id != child.list_id:
                    report.add(row.row, "list_name", "must be the parent's list")
                by_row[row.row] = replace(child, parent_id=new_ids[parent_row[row.row]])
