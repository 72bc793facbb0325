"""Imports: tasks read from a file in the export's own format, before they are checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from taskapp.domain.model.tasks import Priority

IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_TASKS = 10_000
# A bad file gets this many row errors back, not thousands.
IMPORT_MAX_REPORTED = 20
POSITION_MAX_LENGTH = 200


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One task of the file (`row`: its place in the file, 1-based, header not counted).

    `source_id` and `parent_id` are ids of the file, not of the account: they only say
    which task is whose subtask. The list is matched by `list_name` (or, without a name,
    by `list_id` among the caller's lists)."""

    row: int
    title: str
    source_id: UUID | None = None
    description: str | None = None
    is_completed: bool = False
    completed_at: datetime | None = None
    list_id: UUID | None = None
    list_name: str | None = None
    parent_id: UUID | None = None
    position: str | None = None
    due_date: date | None = None
    due_at: datetime | None = None
    priority: Priority = Priority.NONE
    labels: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    lists_created: int


def row_field(row: int, name: str) -> str:
    """How an error names a row's field: `rows[3].title` (the file's third task)."""
    return f"rows[{row}].{name}"
