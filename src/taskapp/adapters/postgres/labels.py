"""Labels in PostgreSQL: which ones a user's tasks carry, and the tasks carrying one."""

from __future__ import annotations

from uuid import UUID

from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.tasks_shape import COLUMNS, to_task
from taskapp.domain.model import LabelUsage, Task

# The spelling shown is the one on the oldest task carrying the label.
_USAGE = """
SELECT (array_agg(l.label ORDER BY t.created_at, t.id))[1] AS name,
       count(*) FILTER (WHERE NOT t.is_completed) AS open_count,
       count(*) AS task_count
FROM tasks t, unnest(t.labels, t.label_keys) AS l(label, key)
WHERE t.user_id = $1
GROUP BY l.key
ORDER BY l.key
"""
_CARRYING = f"SELECT {COLUMNS} FROM tasks WHERE user_id = $1 AND label_keys @> ARRAY[$2::text]"


class PostgresLabelReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def usage(self, user_id: UUID) -> list[LabelUsage]:
        rows = await self._db.fetch(_USAGE, user_id)
        return [LabelUsage(row["name"], row["open_count"], row["task_count"]) for row in rows]

    async def tasks_with(self, user_id: UUID, key: str) -> list[Task]:
        return [to_task(row) for row in await self._db.fetch(_CARRYING, user_id, key)]
