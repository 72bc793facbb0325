"""A task's shape in PostgreSQL, derived from the entity: columns, row in, row out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from taskapp.adapters.postgres.statements import column_list
from taskapp.domain.model import Priority, Task, label_key

# The entity declares the shape; the table has exactly these columns plus the derived
# `label_keys` (tested).
TASK_COLUMNS = tuple(field.name for field in fields(Task))
STORED_COLUMNS = (*TASK_COLUMNS, "label_keys")
COLUMNS = column_list(TASK_COLUMNS)
_LABELS = TASK_COLUMNS.index("labels")
_PRIORITY = TASK_COLUMNS.index("priority")


def task_row(task: Task) -> tuple[object, ...]:
    """The stored columns' values, in STORED_COLUMNS order."""
    values: list[object] = [getattr(task, name) for name in TASK_COLUMNS]
    values[_LABELS] = list(task.labels)
    values[_PRIORITY] = task.priority.value
    return (*values, [label_key(label) for label in task.labels])


def to_task(row: Sequence[Any]) -> Task:
    """A task from a row whose first columns are TASK_COLUMNS."""
    values = list(row[: len(TASK_COLUMNS)])
    values[_LABELS] = tuple(values[_LABELS])
    values[_PRIORITY] = Priority(values[_PRIORITY])
    return Task(*values)
