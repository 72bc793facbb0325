"""The history of task changes: one entry per change, never updated, never deleted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from taskapp.domain.model.tasks import FieldChange, Task


class ActionType(StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    COMPLETED = "COMPLETED"
    REOPENED = "REOPENED"
    DELETED = "DELETED"
    MOVED = "MOVED"


_VERBS = {
    ActionType.CREATED: "Created",
    ActionType.UPDATED: "Updated",
    ActionType.COMPLETED: "Completed",
    ActionType.REOPENED: "Reopened",
    ActionType.DELETED: "Deleted",
    ActionType.MOVED: "Moved",
}


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of one task, as it was at that moment."""

    id: UUID
    user_id: UUID
    task_id: UUID
    task_title: str
    action_type: ActionType
    description: str
    changes: dict[str, FieldChange] | None
    timestamp: datetime

    @classmethod
    def record(
        cls,
        task: Task,
        action: ActionType,
        now: datetime,
        changes: dict[str, FieldChange] | None = None,
    ) -> HistoryEntry:
        return cls(
            id=uuid.uuid4(),
            user_id=task.user_id,
            task_id=task.id,
            task_title=task.title,
            action_type=action,
            description=_describe(action, task.title, changes),
            changes=changes,
            timestamp=now,
        )


def _describe(action: ActionType, title: str, changes: dict[str, FieldChange] | None) -> str:
    if action in (ActionType.UPDATED, ActionType.MOVED) and changes:
        if action is ActionType.MOVED:
            return f"Moved task '{title}'"
        return f"Updated {' and '.join(sorted(changes))} of task '{title}'"
    return f"{_VERBS[action]} task '{title}'"


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Which entries to list: all of a user's, or one task's, or one kind, and optionally
    only those at or before an anchor entry (stable pages while entries arrive)."""

    task_id: UUID | None = None
    action_type: ActionType | None = None
    as_of: UUID | None = None
