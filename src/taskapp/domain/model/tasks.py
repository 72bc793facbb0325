"""Tasks: the entity that decides every change to itself."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from uuid import UUID

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.text import (
    KEEP,
    Keep,
    normalized_identity,
    optional_text,
    required_text,
    trim,
)

TITLE_MAX_LENGTH = 255
DESCRIPTION_MAX_LENGTH = 5000
LABEL_MAX_LENGTH = 50
LABELS_PER_TASK = 20
MAX_DEPTH = 4  # a top-level task is at depth 1; its subtasks at 2, ...
TASKS_PER_USER = 100_000


def normalize_title(raw: str) -> str:
    return required_text(raw, "title", TITLE_MAX_LENGTH)


def normalize_description(raw: str | None) -> str | None:
    """An empty (or blank) description is no description: stored as null."""
    return optional_text(raw, "description", DESCRIPTION_MAX_LENGTH)


def label_key(label: str) -> str:
    """How labels compare: trimmed, NFKC, case-folded."""
    return normalized_identity(trim(label))


def normalize_labels(raw: Iterable[str]) -> tuple[str, ...]:
    """Each trimmed, 1-50 characters; duplicates (case-insensitive) collapse to the first
    spelling; at most 20."""
    labels: list[str] = []
    seen: set[str] = set()
    for item in raw:
        label = required_text(item, "labels", LABEL_MAX_LENGTH)
        key = label_key(label)
        if key not in seen:
            seen.add(key)
            labels.append(label)
    if len(labels) > LABELS_PER_TASK:
        raise ValidationFailed.of("labels", f"must hold at most {LABELS_PER_TASK} labels")
    return tuple(labels)


def normalize_due_at(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed.of("due_at", "must carry a time zone offset")
    return value.astimezone(UTC)


class Priority(StrEnum):
    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.NONE: 0, Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3}


class TaskStatus(StrEnum):
    ALL = "all"
    OPEN = "open"
    COMPLETED = "completed"


ChangeValue = str | list[str] | None


@dataclass(frozen=True, slots=True)
class FieldChange:
    old: ChangeValue
    new: ChangeValue


# Fields whose change makes an edit a move (history action MOVED).
PLACEMENT_FIELDS = ("list_id", "parent_id", "position")


@dataclass(frozen=True, slots=True)
class TaskEdit:
    """What a request asks to change; KEEP leaves a field as it is, None clears it."""

    title: str | Keep = KEEP
    description: str | Keep | None = KEEP
    list_id: UUID | Keep | None = KEEP
    parent_id: UUID | Keep | None = KEEP
    position: str | Keep = KEEP
    due_date: date | Keep | None = KEEP
    due_at: datetime | Keep | None = KEEP
    priority: Priority | Keep = KEEP
    labels: tuple[str, ...] | Keep = KEEP

    @property
    def is_empty(self) -> bool:
        return all(isinstance(getattr(self, name), Keep) for name in self.__slots__)

    @property
    def places(self) -> bool:
        """Does it ask for another list or parent?"""
        return not (isinstance(self.list_id, Keep) and isinstance(self.parent_id, Keep))


@dataclass(frozen=True, slots=True)
class Task:
    """A user's task. Every change returns a new Task with `version` one higher.

    The one declaration of a task's shape: the table, the statements, the idempotency
    snapshot and the response struct are derived from these fields or checked against them.
    """

    id: UUID
    user_id: UUID
    list_id: UUID | None
    parent_id: UUID | None
    position: str
    title: str
    description: str | None
    is_completed: bool
    completed_at: datetime | None
    due_date: date | None
    due_at: datetime | None
    priority: Priority
    labels: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def create(
        cls,
        user_id: UUID,
        title: str,
        description: str | None,
        now: datetime,
        *,
        position: str = "a0",
        list_id: UUID | None = None,
        parent_id: UUID | None = None,
        due_date: date | None = None,
        due_at: datetime | None = None,
        priority: Priority = Priority.NONE,
        labels: Iterable[str] = (),
    ) -> Task:
        task = cls(
            id=uuid.uuid4(),
            user_id=user_id,
            list_id=list_id,
            parent_id=parent_id,
            position=position,
            title=normalize_title(title),
            description=normalize_description(description),
            is_completed=False,
            completed_at=None,
            due_date=due_date,
            due_at=normalize_due_at(due_at),
            priority=priority,
            labels=normalize_labels(labels),
            created_at=now,
            updated_at=now,
        )
        task.check()
        return task

    def check(self) -> None:
        """Rules across fields."""
        if self.due_date is not None and self.due_at is not None:
            raise ValidationFailed.of("due_at", "must not be set together with due_date")
        if self.parent_id is not None and self.parent_id == self.id:
            raise ValidationFailed.of("parent_id", "must not be the task itself")

    def complete(self, now: datetime) -> Task | None:
        """The completed task, or None when it already was (no change, no new version)."""
        if self.is_completed:
            return None
        return replace(
            self, is_completed=True, completed_at=now, updated_at=now, version=self.version + 1
        )

    def reopen(self, now: datetime) -> Task | None:
        if not self.is_completed:
            return None
        return replace(
            self, is_completed=False, completed_at=None, updated_at=now, version=self.version + 1
        )

    def toggle(self, now: datetime) -> Task:
        changed = self.reopen(now) if self.is_completed else self.complete(now)
        assert changed is not None  # one of the two always applies
        return changed

    def edit(self, now: datetime, edit: TaskEdit) -> tuple[Task, dict[str, FieldChange]] | None:
        """Apply the given fields; None when nothing actually changes."""
        values: dict[str, object] = {}
        if not isinstance(edit.title, Keep):
            values["title"] = normalize_title(edit.title)
        if not isinstance(edit.description, Keep):
            values["description"] = normalize_description(edit.description)
        if not isinstance(edit.due_at, Keep):
            values["due_at"] = normalize_due_at(edit.due_at)
        if not isinstance(edit.labels, Keep):
            values["labels"] = normalize_labels(edit.labels)
        for name in ("list_id", "parent_id", "position", "due_date", "priority"):
            value = getattr(edit, name)
            if not isinstance(value, Keep):
                values[name] = value
        changes = {
            name: FieldChange(_as_change(getattr(self, name)), _as_change(value))
            for name, value in values.items()
            if value != getattr(self, name)
        }
        if not changes:
            return None
        changed_values = {name: values[name] for name in changes}
        edited = replace(self, **changed_values, updated_at=now, version=self.version + 1)  # type: ignore[arg-type]
        edited.check()
        return edited, changes


def is_move(changes: dict[str, FieldChange]) -> bool:
    return any(name in changes for name in PLACEMENT_FIELDS)


def _as_change(value: object) -> ChangeValue:
    """A field's value as history records it (JSON-friendly)."""
    if isinstance(value, Priority):
        return value.value
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
