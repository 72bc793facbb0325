"""Lists: named groups of tasks in the user's own order. The Inbox is no list (null)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.text import KEEP, Keep, normalized_identity, required_text, trim

LIST_NAME_MAX_LENGTH = 100
LISTS_PER_USER = 1_000
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


def normalize_list_name(raw: str) -> str:
    return required_text(raw, "name", LIST_NAME_MAX_LENGTH)


def list_name_key(name: str) -> str:
    """Names are unique per user case-insensitively (NFKC + case folding)."""
    return normalized_identity(trim(name))


def check_color(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not _COLOR.fullmatch(raw):
        raise ValidationFailed.of("color", "must be #RRGGBB or null")
    return raw


@dataclass(frozen=True, slots=True)
class TaskList:
    id: UUID
    user_id: UUID
    name: str
    color: str | None
    position: str
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @classmethod
    def create(
        cls, user_id: UUID, name: str, color: str | None, position: str, now: datetime
    ) -> TaskList:
        return cls(
            uuid.uuid4(),
            user_id,
            normalize_list_name(name),
            check_color(color),
            position,
            now,
            now,
        )

    def edit(
        self,
        now: datetime,
        *,
        name: str | Keep = KEEP,
        color: str | Keep | None = KEEP,
        position: str | Keep = KEEP,
    ) -> TaskList | None:
        new_name = self.name if isinstance(name, Keep) else normalize_list_name(name)
        new_color = self.color if isinstance(color, Keep) else check_color(color)
        new_position = self.position if isinstance(position, Keep) else position
        if (new_name, new_color, new_position) == (self.name, self.color, self.position):
            return None
        return replace(
            self,
            name=new_name,
            color=new_color,
            position=new_position,
            updated_at=now,
            version=self.version + 1,
        )


@dataclass(frozen=True, slots=True)
class ListSummary:
    """A list as a client sees it: with its task counts."""

    list: TaskList
    open_count: int
    completed_count: int


@dataclass(frozen=True, slots=True)
class LabelUsage:
    name: str
    open_count: int
    task_count: int
