"""Tasks: the entity that decides every change to itself, and how a listing is asked for."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.text import (
    KEEP,
    Keep,
    contains_unstorable_text,
    optional_text,
    required_text,
)

TITLE_MAX_LENGTH = 255
DESCRIPTION_MAX_LENGTH = 5000
SEARCH_MAX_LENGTH = TITLE_MAX_LENGTH


def normalize_title(raw: str) -> str:
    return required_text(raw, "title", TITLE_MAX_LENGTH)


def normalize_description(raw: str | None) -> str | None:
    """An empty (or blank) description is no description: stored as null."""
    return optional_text(raw, "description", DESCRIPTION_MAX_LENGTH)


class TaskStatus(StrEnum):
    ALL = "all"
    OPEN = "open"
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class FieldChange:
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class Task:
    """A user's task. Every change returns a new Task with `version` one higher.

    The one declaration of a task's shape: the table, the statements, the idempotency
    snapshot and the response struct are derived from these fields or checked against them.
    """

    id: UUID
    user_id: UUID
    title: str
    description: str | None
    is_completed: bool
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def create(cls, user_id: UUID, title: str, description: str | None, now: datetime) -> Task:
        return cls(
            id=uuid.uuid4(),
            user_id=user_id,
            title=normalize_title(title),
            description=normalize_description(description),
            is_completed=False,
            completed_at=None,
            created_at=now,
            updated_at=now,
        )

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

    def edit(
        self, now: datetime, *, title: str | None = None, description: str | Keep | None = KEEP
    ) -> tuple[Task, dict[str, FieldChange]] | None:
        """Apply the given fields; None when nothing actually changes."""
        changes: dict[str, FieldChange] = {}
        new_title = self.title if title is None else normalize_title(title)
        if new_title != self.title:
            changes["title"] = FieldChange(self.title, new_title)
        new_description = (
            self.description
            if isinstance(description, Keep)
            else normalize_description(description)
        )
        if new_description != self.description:
            changes["description"] = FieldChange(self.description, new_description)
        if not changes:
            return None
        edited = replace(
            self,
            title=new_title,
            description=new_description,
            updated_at=now,
            version=self.version + 1,
        )
        return edited, changes


@dataclass(frozen=True, slots=True)
class TaskQuery:
    status: TaskStatus = TaskStatus.ALL
    search: str | None = None

    def __post_init__(self) -> None:
        if self.search is None:
            return
        if len(self.search) > SEARCH_MAX_LENGTH:
            raise ValidationFailed.of("search", f"must be at most {SEARCH_MAX_LENGTH} characters")
        if contains_unstorable_text(self.search):
            raise ValidationFailed.of("search", "must not contain NUL or invalid characters")
