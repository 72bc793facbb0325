"""Tasks in PostgreSQL. Every statement filters by owner as well as by id."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskapp.adapters.postgres.tables import task_counts, tasks
from taskapp.domain.model import Page, PageRequest, Task, TaskQuery, TaskStatus, WeekCounts
from taskapp.domain.ports import TaskBatch


def to_task(row: Any) -> Task:
    return Task(
        id=row.id,
        user_id=row.user_id,
        title=row.title,
        description=row.description,
        is_completed=row.is_completed,
        completed_at=row.completed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def task_values(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "user_id": task.user_id,
        "title": task.title,
        "description": task.description,
        "is_completed": task.is_completed,
        "completed_at": task.completed_at,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "version": task.version,
    }


def escape_like(text: str) -> str:
    """Make `%`, `_` and the escape character itself literal in a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_GET_TASK = (
    "SELECT id, user_id, title, description, is_completed, completed_at, created_at,"
    " updated_at, version FROM tasks WHERE id = $1 AND user_id = $2"
)


class _Record:
    """Attribute access over an asyncpg record, as SQLAlchemy rows offer."""

    __slots__ = ("_record",)

    def __init__(self, record: Any) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        return self._record[name]


# The hot statements are built once: SQLAlchemy then skips construction and cache-key work
# on every call (they were a third of a toggle's CPU time).
_MINE = sa.and_(tasks.c.id == sa.bindparam("task_id"), tasks.c.user_id == sa.bindparam("owner"))
_SELECT_ONE = sa.select(tasks).where(_MINE)
_SELECT_ONE_FOR_UPDATE = _SELECT_ONE.with_for_update()
_INSERT = tasks.insert()
_UPDATE = (
    tasks.update()
    .where(_MINE)
    .values(
        {
            column: sa.bindparam(column)
            for column in (
                "title",
                "description",
                "is_completed",
                "completed_at",
                "updated_at",
                "version",
            )
        }
    )
)
_DELETE = tasks.delete().where(_MINE)

LISTING_ORDER = (tasks.c.is_completed.asc(), tasks.c.created_at.desc(), tasks.c.id.desc())


def task_filters(user_id: UUID, query: TaskQuery) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = [tasks.c.user_id == user_id]
    if query.status is TaskStatus.OPEN:
        conditions.append(tasks.c.is_completed.is_(False))
    elif query.status is TaskStatus.COMPLETED:
        conditions.append(tasks.c.is_completed.is_(True))
    if query.search:
        pattern = f"%{escape_like(query.search)}%"
        conditions.append(
            sa.or_(
                tasks.c.title.ilike(pattern, escape="\\"),
                tasks.c.description.ilike(pattern, escape="\\"),
            )
        )
    return conditions


class PostgresTaskRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, user_id: UUID, task_id: UUID) -> Task | None:
        if not self._connection.in_transaction():
            # The hottest read: straight to the driver (its prepared statement cache), past
            # SQLAlchemy's statement and result layers. Only outside a transaction, since
            # SQLAlchemy begins transactions lazily on its own first statement.
            driver = (await self._connection.get_raw_connection()).driver_connection
            assert driver is not None
            record = await driver.fetchrow(_GET_TASK, task_id, user_id)
            return None if record is None else to_task(_Record(record))
        keys = {"task_id": task_id, "owner": user_id}
        row = (await self._connection.execute(_SELECT_ONE, keys)).first()
        return None if row is None else to_task(row)

    async def get_for_update(self, user_id: UUID, task_id: UUID) -> Task | None:
        keys = {"task_id": task_id, "owner": user_id}
        row = (await self._connection.execute(_SELECT_ONE_FOR_UPDATE, keys)).first()
        return None if row is None else to_task(row)

    async def list(self, user_id: UUID, query: TaskQuery, page: PageRequest) -> Page[Task]:
        conditions = task_filters(user_id, query)
        # The total rides along as a window function: one round trip for page and count.
        statement = (
            sa.select(tasks, sa.func.count().over().label("total"))
            .where(*conditions)
            .order_by(*LISTING_ORDER)
            .offset(page.offset)
            .limit(page.limit)
        )
        rows = (await self._connection.execute(statement)).all()
        if rows:
            total = int(rows[0].total)
        elif page.offset == 0:
            total = 0
        else:  # past the last page: the window saw no rows, so count separately
            count = sa.select(sa.func.count()).select_from(tasks).where(*conditions)
            total = int((await self._connection.execute(count)).scalar_one())
        return Page([to_task(row) for row in rows], total, page.offset, page.limit)

    async def add(self, task: Task) -> None:
        await self._connection.execute(_INSERT, task_values(task))

    async def update(self, task: Task) -> None:
        await self._connection.execute(
            _UPDATE, {**task_values(task), "task_id": task.id, "owner": task.user_id}
        )

    async def delete(self, task: Task) -> None:
        await self._connection.execute(_DELETE, {"task_id": task.id, "owner": task.user_id})

    async def batch_after(
        self, user_id: UUID, query: TaskQuery, after: Task | None, limit: int
    ) -> TaskBatch:
        statement = sa.select(tasks).where(*task_filters(user_id, query))
        if after is not None:
            key = sa.tuple_(tasks.c.created_at, tasks.c.id)
            bound = sa.tuple_(sa.literal(after.created_at), sa.literal(after.id))
            statement = statement.where(key < bound)
        statement = statement.order_by(tasks.c.created_at.desc(), tasks.c.id.desc()).limit(limit)
        rows = (await self._connection.execute(statement)).all()
        return [to_task(row) for row in rows]

    async def count_week(self, user_id: UUID, start: datetime, end: datetime) -> WeekCounts:
        def in_week(column: sa.Column[Any]) -> sa.ScalarSelect[Any]:
            return (
                sa.select(sa.func.count())
                .select_from(tasks)
                .where(tasks.c.user_id == user_id, column >= start, column < end)
                .scalar_subquery()
            )

        def total(column: sa.Column[Any]) -> sa.ColumnElement[Any]:
            counter = sa.select(sa.func.sum(column)).where(task_counts.c.user_id == user_id)
            return sa.func.coalesce(counter.scalar_subquery(), 0)

        row = (
            await self._connection.execute(
                sa.select(
                    in_week(tasks.c.created_at).label("created"),
                    in_week(tasks.c.completed_at).label("completed"),
                    total(task_counts.c.completed).label("total_completed"),
                    total(task_counts.c.open).label("total_incomplete"),
                )
            )
        ).one()
        return WeekCounts(
            created=int(row.created),
            completed=int(row.completed),
            total_completed=int(row.total_completed),
            total_incomplete=int(row.total_incomplete),
        )
