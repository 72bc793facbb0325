"""Tasks in PostgreSQL: writes for the unit of work, reads in one round trip each.

Every statement filters by owner as well as by id: another user's task does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from taskapp.adapters.postgres.change_notices import ChangeNotifier
from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.history import PostgresHistoryLog
from taskapp.adapters.postgres.idempotency import PostgresIdempotencyRecords
from taskapp.adapters.postgres.listing import list_statement, listing_arguments
from taskapp.adapters.postgres.lists import PostgresListRepository
from taskapp.adapters.postgres.statements import column_list, insert_select, pg_type
from taskapp.adapters.postgres.tables import tasks
from taskapp.adapters.postgres.tasks_shape import (
    COLUMNS,
    STORED_COLUMNS,
    task_row,
    to_task,
)
from taskapp.adapters.postgres.unit_of_work import PostgresUnitOfWork, Session, Write
from taskapp.domain.model import (
    TASKS_PER_USER,
    DueMarks,
    DueWindow,
    Page,
    PageRequest,
    Task,
    TaskQuery,
    TaskStatus,
    WeekCounts,
)
from taskapp.domain.ports import TaskBatch

# Store a new task unless the user already has as many as there may be.
_INSERT = insert_select(tasks, STORED_COLUMNS).replace(
    " WHERE {go}",
    " WHERE {go} AND (SELECT coalesce(sum(open + completed), 0) FROM task_counts"
    f" WHERE user_id = $2) < {TASKS_PER_USER}",
)
# $1 id, $2 owner, $3 the version the change was decided on, then the changeable columns.
_CHANGEABLE = [name for name in STORED_COLUMNS if name not in ("id", "user_id", "created_at")]
_UPDATE = (
    "UPDATE tasks SET "
    + ", ".join(f"{name} = ${n}" for n, name in enumerate(_CHANGEABLE, start=4))
    + " WHERE id = $1 AND user_id = $2 AND version = $3 AND {go} RETURNING 1"
)
_DELETE = "DELETE FROM tasks WHERE id = $1 AND user_id = $2 AND version = $3 AND {go} RETURNING 1"

# Many tasks at once, each at its own expected version: columns travel as arrays. Label
# arrays are ragged, so each travels as the text of a JSON array (a list of lists would
# reach asyncpg as one two-dimensional array, which ragged rows cannot be).
_JSON_ARRAYS = {"labels", "label_keys"}


def _array_type(name: str) -> str:
    if name in _JSON_ARRAYS:
        return "text[]"
    # A collation is no part of the type: `$6::TEXT COLLATE "C"[]` does not parse.
    return f"{pg_type(tasks.c[name]).partition(' COLLATE ')[0]}[]"


def _from_array(name: str) -> str:
    if name in _JSON_ARRAYS:
        return f"ARRAY(SELECT jsonb_array_elements_text(v.{name}::jsonb))"
    return f"v.{name}"


_UPDATE_MANY = (
    "UPDATE tasks AS t SET "
    + ", ".join(f"{name} = {_from_array(name)}" for name in _CHANGEABLE)
    + " FROM unnest($2::uuid[], $3::integer[], "
    + ", ".join(f"${n}::{_array_type(name)}" for n, name in enumerate(_CHANGEABLE, start=4))
    + f") AS v(id, expected, {column_list(_CHANGEABLE)})"
    + " WHERE t.user_id = $1 AND t.id = v.id AND t.version = v.expected AND {go} RETURNING 1"
)
# New tasks of one user ($1), as many as $2, only if they keep the user within the limit.
_ADD_MANY = (
    f"INSERT INTO tasks ({column_list(STORED_COLUMNS)}) SELECT "
    + ", ".join("$1::uuid" if name == "user_id" else _from_array(name) for name in STORED_COLUMNS)
    + " FROM unnest("
    + ", ".join(
        f"${n}::{_array_type(name)}"
        for n, name in enumerate((c for c in STORED_COLUMNS if c != "user_id"), start=3)
    )
    + f") AS v({column_list([c for c in STORED_COLUMNS if c != 'user_id'])})"
    + " WHERE {go} AND (SELECT coalesce(sum(open + completed), 0) FROM task_counts"
    + f" WHERE user_id = $1) + $2::integer <= {TASKS_PER_USER} RETURNING 1"
)
_DELETE_MANY = (
    "DELETE FROM tasks WHERE user_id = $1 AND (id, version) IN "
    "(SELECT * FROM unnest($2::uuid[], $3::integer[])) AND {go} RETURNING 1"
)

_GET = f"SELECT {COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2"


def _batch_statement(status: TaskStatus, after: bool) -> str:
    where = ["user_id = $1"]
    if status is TaskStatus.OPEN:
        where.append("NOT is_completed")
    elif status is TaskStatus.COMPLETED:
        where.append("is_completed")
    if after:  # keyset: strictly older than the last task of the previous batch
        where.append("(created_at, id) < ($3, $4)")
    return (
        f"SELECT {COLUMNS} FROM tasks WHERE {' AND '.join(where)} "
        "ORDER BY created_at DESC, id DESC LIMIT $2"
    )


_BATCH = {(s, a): _batch_statement(s, a) for s in TaskStatus for a in (False, True)}

_COUNT_WEEK = """
SELECT
    (SELECT count(*) FROM tasks
      WHERE user_id = $1 AND created_at >= $2 AND created_at < $3),
    (SELECT count(*) FROM tasks
      WHERE user_id = $1 AND completed_at >= $2 AND completed_at < $3),
    (SELECT coalesce(sum(completed), 0)::bigint FROM task_counts WHERE user_id = $1),
    (SELECT coalesce(sum(open), 0)::bigint FROM task_counts WHERE user_id = $1),
    d.overdue,
    d.due_this_week
FROM (
    SELECT
        count(*) FILTER (WHERE due_date < $4 OR due_at < $5) AS overdue,
        count(*) FILTER (WHERE (due_date >= $6 AND due_date < $7)
                            OR (due_at >= $2 AND due_at < $3)) AS due_this_week
    FROM tasks
    WHERE user_id = $1 AND NOT is_completed AND $8
      AND (due_date IS NOT NULL OR due_at IS NOT NULL)
) AS d
"""


class PostgresTaskRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, task: Task) -> None:
        self._session.defer(Write(_INSERT, task_row(task), guarded=True))

    async def update(self, task: Task, *, expected_version: int) -> None:
        row = dict(zip(STORED_COLUMNS, task_row(task), strict=True))
        args = (task.id, task.user_id, expected_version, *(row[name] for name in _CHANGEABLE))
        self._session.defer(Write(_UPDATE, args, guarded=True))

    async def delete(self, task: Task, *, expected_version: int) -> None:
        args = (task.id, task.user_id, expected_version)
        self._session.defer(Write(_DELETE, args, guarded=True))

    async def update_many(self, changes: Sequence[tuple[Task, int]]) -> None:
        if not changes:
            return
        rows = [dict(zip(STORED_COLUMNS, task_row(task), strict=True)) for task, _ in changes]
        columns = [
            [msgspec.json.encode(row[name]).decode() for row in rows]
            if name in _JSON_ARRAYS
            else [row[name] for row in rows]
            for name in _CHANGEABLE
        ]
        args = (
            changes[0][0].user_id,
            [task.id for task, _ in changes],
            [version for _, version in changes],
            *columns,
        )
        self._session.defer(Write(_UPDATE_MANY, args, guarded=True, rows=len(changes)))

    async def add_many(self, new: Sequence[Task]) -> None:
        if not new:
            return
        rows = [dict(zip(STORED_COLUMNS, task_row(task), strict=True)) for task in new]
        columns = [
            [msgspec.json.encode(row[name]).decode() for row in rows]
            if name in _JSON_ARRAYS
            else [row[name] for row in rows]
            for name in STORED_COLUMNS
            if name != "user_id"
        ]
        args = (new[0].user_id, len(new), *columns)
        self._session.defer(Write(_ADD_MANY, args, guarded=True, rows=len(new)))

    async def delete_many(self, doomed: Sequence[Task]) -> None:
        if not doomed:
            return
        args = (doomed[0].user_id, [t.id for t in doomed], [t.version for t in doomed])
        self._session.defer(Write(_DELETE_MANY, args, guarded=True, rows=len(doomed)))


class PostgresTaskReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, user_id: UUID, task_id: UUID) -> Task | None:
        row = await self._db.fetchrow(_GET, task_id, user_id)
        return None if row is None else to_task(row)

    async def list(
        self, user_id: UUID, query: TaskQuery, window: DueWindow, page: PageRequest
    ) -> Page[Task]:
        statement = list_statement(query)
        args = listing_arguments(user_id, query, window)
        rows = await self._db.fetch(statement, *args, page.limit, page.offset)
        total = rows[0]["total"]
        items = [to_task(row) for row in rows if row[0] is not None]
        return Page(items, total, page.offset, page.limit)

    async def batch_after(
        self, user_id: UUID, query: TaskQuery, after: Task | None, limit: int
    ) -> TaskBatch:
        statement = _BATCH[query.status, after is not None]
        keyset = () if after is None else (after.created_at, after.id)
        rows = await self._db.fetch(statement, user_id, limit, *keyset)
        return [to_task(row) for row in rows]


class PostgresStatsReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def count_week(
        self, user_id: UUID, start: datetime, end: datetime, due: DueMarks | None = None
    ) -> WeekCounts:
        marks = due or DueMarks(start, start.date(), start.date(), start.date())
        row = await self._db.fetchrow(
            _COUNT_WEEK,
            user_id,
            start,
            end,
            marks.today,
            marks.now,
            marks.first_day,
            marks.end_day,
            due is not None,
        )
        assert row is not None
        return WeekCounts(
            created=row[0],
            completed=row[1],
            total_completed=row[2],
            total_incomplete=row[3],
            overdue=row[4],
            due_this_week=row[5],
        )


class PostgresTasksUnitOfWork(PostgresUnitOfWork):
    """Tasks, their history, idempotency records and lists: a change and its entries in one
    statement."""

    def __init__(self, database: Database, notifier: ChangeNotifier | None = None) -> None:
        super().__init__(database, notifier)
        self.tasks = PostgresTaskRepository(self._session)
        self.history = PostgresHistoryLog(self._session)
        self.idempotency_keys = PostgresIdempotencyRecords(self._session)
        self.lists = PostgresListRepository(self._session)
