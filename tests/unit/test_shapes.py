"""One source for a task's shape: the entity. Every other spelling is checked against it."""

from __future__ import annotations

from dataclasses import fields

import msgspec

from taskapp.adapters.postgres.idempotency import task_from_snapshot, task_snapshot
from taskapp.adapters.postgres.tasks_shape import TASK_COLUMNS
from taskapp.domain.model import Task
from taskapp.entrypoints.http.exports import CSV_COLUMNS
from taskapp.entrypoints.http.tasks import TaskOut

# What a client sees of a task: everything but the owner (always the caller).
PUBLIC = [f.name for f in fields(Task) if f.name != "user_id"]


def test_the_response_struct_has_the_entitys_public_fields_in_order() -> None:
    assert [f.name for f in msgspec.structs.fields(TaskOut)] == PUBLIC


def test_csv_columns_are_public_fields() -> None:
    """Every public field (issue 16), and the list's name, which an import matches."""
    assert set(CSV_COLUMNS) == {*PUBLIC, "list_name"}


def test_statements_use_the_entitys_fields() -> None:
    assert list(TASK_COLUMNS) == [f.name for f in fields(Task)]


def test_the_idempotency_snapshot_round_trips_every_field() -> None:
    from datetime import UTC, datetime
    from uuid import uuid4

    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    task = Task.create(uuid4(), "t", "d", now).complete(now)
    assert task is not None
    snapshot = task_snapshot(task)
    assert set(snapshot) == {f.name for f in fields(Task)}
    assert task_from_snapshot(msgspec.json.decode(msgspec.json.encode(snapshot))) == task
