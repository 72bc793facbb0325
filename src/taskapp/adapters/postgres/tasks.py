"""Tasks in PostgreSQL: writes for the unit of work, reads in one round trip each.

Every statement filters by owner as well as by id: another user's task does not exist.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from uuid import UUID

from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.history import PostgresHistoryLog
from taskapp.adapters.postgres.idempotency import PostgresIdempotencyRecords
from taskapp.adapters.postgres.statements import column_list, insert_select
from taskapp.adapters.postgres.tables import tasks
from taskapp.adapters.postgres.unit_of_work import PostgresUnitOfWork, Session, Write
from taskapp.domain.model import Page, PageRequest, Task, TaskQuery, TaskStatus, WeekCounts
from taskapp.domain.ports import TaskBatch

# The entity declares the shape; the table must have exactly these columns (tested).
TASK_COLUMNS = tuple(field.name for field in fields(Task))
_COLUMNS = column_list(TASK_COLUMNS)
_CHANGEABLE = [name for name in TASK_COLUMNS if name not in ("id", "user_id", "created_at")]


def task_row(task: Task) -> tuple[object, ...]:
    return tuple(getattr(task, name) for name in TASK_COLUMNS)


_INSERT = insert_select(tasks, TASK_COLUMNS)
# $1 id, $2 owner, $3 the version the change was decided on, then the changeable columns.
_UPDATE = (
    "UPDATE tasks SET "
    + ", ".join(f"{name} = ${n}" for n, name in enumerate(_CHANGEABLE, start=4))
    + " WHERE id = $1 AND user_id = $2 AND version = $3 AND {go} RETURNING 1"
)
_DELETE = "DELETE FROM tasks WHERE id = $1 AND user_id = $2 AND version = $3 AND {go} RETURNING 1"

_GET = f"SELECT {_COLUMNS} FROM tasks WHERE id = $1 AND user_id = $2"


def _filters(status: TaskStatus, searching: bool) -> str:
    """$1 is the owner; $2 the LIKE pattern when searching."""
    where = ["user_id = $1"]
    if status is TaskStatus.OPEN:
        where.append("NOT is_completed")
    elif status is TaskStatus.COMPLETED:
        where.append("is_completed")
    if searching:
        where.append("(title ILIKE $2 ESCAPE '\\' OR description ILIKE $2 ESCAPE '\\')")
    return " AND ".join(where)


def _list_statement(status: TaskStatus, searching: bool) -> str:
    """Page and total in one round trip; the total row comes even for an empty page."""
    where = _filters(status, searching)
    n = 3 if searching else 2
    return (
        f"SELECT {column_list(TASK_COLUMNS, 'page.')}, counted.total "
        f"FROM (SELECT count(*) AS total FROM tasks WHERE {where}) AS counted "
        f"LEFT JOIN LATERAL (SELECT {_COLUMNS} FROM tasks WHERE {where} "
        "ORDER BY is_completed, created_at DESC, id DESC "
        f"LIMIT ${n} OFFSET ${n + 1}) AS page ON TRUE"
    )


def _batch_statement(status: TaskStatus, after: bool) -> str:
    where = _filters(status, searching=False)
    if after:  # keyset: strictly older than the last task of the previous batch
        where += " AND (created_at, id) < ($3, $4)"
    return f"SELECT {_COLUMNS} FROM tasks WHERE {where} ORDER BY created_at DESC, id DESC LIMIT $2"


_LIST = {(s, q): _list_statement(s, q) for s in TaskStatus for q in (False, True)}
_BATCH = {(s, a): _batch_statement(s, a) for s in TaskStatus for a in (False, True)}

_COUNT_WEEK = """
SELECT
    (SELECT count(*) FROM tasks
      WHERE user_id = $1 AND created_at >= $2 AND created_at < $3),
    (SELECT count(*) FROM tasks
      WHERE user_id = $1 AND completed_at >= $2 AND completed_at < $3),
    (SELECT coalesce(sum(completed), 0)::bigint FROM task_counts WHERE user_id = $1),
    (SELECT coalesce(sum(open), 0)::bigint FROM task_counts WHERE user_id = $1)
"""


def escape_like(text: str) -> str:
    """Make `%`, `_` and the escape character itself literal in a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PostgresTaskRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, task: Task) -> None:
        self._session.defer(Write(_INSERT, task_row(task)))

    async def update(self, task: Task, *, expected_version: int) -> None:
        changed = tuple(getattr(task, name) for name in _CHANGEABLE)
        args = (task.id, task.user_id, expected_version, *changed)
        self._session.defer(Write(_UPDATE, args, guarded=True))

    async def delete(self, task: Task, *, expected_version: int) -> None:
        args = (task.id, task.user_id, expected_version)
        self._session.defer(Write(_DELETE, args, guarded=True))


class PostgresTaskReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, user_id: UUID, task_id: UUID) -> Task | None:
        row = await self._db.fetchrow(_GET, task_id, user_id)
        return None if row is None else Task(*row)

    async def list(self, user_id: UUID, query: TaskQuery, page: PageRequest) -> Page[Task]:
        searching = bool(query.search)
        args: list[object] = [user_id]
        if query.search:
            args.append(f"%{escape_like(query.search)}%")
        statement = _LIST[query.status, searching]
        rows = await self._db.fetch(statement, *args, page.limit, page.offset)
        total = rows[0]["total"]
        items = [Task(*row[:-1]) for row in rows if row[0] is not None]
        return Page(items, total, page.offset, page.limit)

    async def batch_after(
        self, user_id: UUID, query: TaskQuery, after: Task | None, limit: int
    ) -> TaskBatch:
        statement = _BATCH[query.status, after is not None]
        keyset = () if after is None else (after.created_at, after.id)
        rows = await self._db.fetch(statement, user_id, limit, *keyset)
        return [Task(*row) for row in rows]


class PostgresStatsReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def count_week(self, user_id: UUID, start: datetime, end: datetime) -> WeekCounts:
        row = await self._db.fetchrow(_COUNT_WEEK, user_id, start, end)
        assert row is not None
        return WeekCounts(
            created=row[0], completed=row[1], total_completed=row[2], total_incomplete=row[3]
        )


class PostgresTasksUnitOfWork(PostgresUnitOfWork):
    """Tasks, their history and idempotency records: a change and its entry in one
    statement."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.tasks = PostgresTaskRepository(self._session)
        self.history = PostgresHistoryLog(self._session)
        self.idempotency_keys = PostgresIdempotencyRecords(self._session)
