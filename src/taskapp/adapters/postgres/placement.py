"""Where tasks and lists sit: ancestry, subtrees and the gap a move goes into."""

from __future__ import annotations

from uuid import UUID

from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.statements import column_list
from taskapp.adapters.postgres.tables import NIL
from taskapp.adapters.postgres.tasks_shape import COLUMNS, TASK_COLUMNS, to_task
from taskapp.domain.model import Task
from taskapp.domain.ports import Gap, Siblings

_LINEAGE = (
    f"WITH RECURSIVE up AS (SELECT {COLUMNS}, 1 AS depth FROM tasks "
    "WHERE id = $1 AND user_id = $2 "
    f"UNION ALL SELECT {column_list(TASK_COLUMNS, 't.')}, up.depth + 1 FROM tasks t "
    "JOIN up ON t.id = up.parent_id WHERE t.user_id = $2 AND up.depth < 10) "
    f"SELECT {COLUMNS} FROM up ORDER BY depth"
)
_SUBTREE = (
    f"WITH RECURSIVE down AS (SELECT {COLUMNS}, 1 AS depth FROM tasks "
    "WHERE id = $1 AND user_id = $2 "
    f"UNION ALL SELECT {column_list(TASK_COLUMNS, 't.')}, down.depth + 1 FROM tasks t "
    "JOIN down ON t.parent_id = down.id WHERE t.user_id = $2 AND down.depth < 10) "
    f"SELECT {COLUMNS} FROM down ORDER BY depth"
)
_IN_LIST = (
    f"WITH RECURSIVE down AS (SELECT {COLUMNS}, 1 AS depth FROM tasks "
    "WHERE user_id = $1 AND list_id = $2 AND parent_id IS NULL "
    f"UNION ALL SELECT {column_list(TASK_COLUMNS, 't.')}, down.depth + 1 FROM tasks t "
    "JOIN down ON t.parent_id = down.id WHERE t.user_id = $1 AND down.depth < 10) "
    f"SELECT {COLUMNS} FROM down ORDER BY depth"
)


def _task_gap() -> str:
    """Right after $5 (its position, and the next sibling's, or $6's when it comes first);
    right before $6; or at the end; with both, $5 must come before $6. Siblings: same
    owner, list and parent, the moving task ($4) left out; compared as
    ix_tasks_user_siblings indexes them (NULL as the nil UUID), so the index gives the
    order and each bound is one index probe."""
    group = " AND ".join(
        [
            "user_id = $1",
            f"coalesce(list_id, {NIL}) = coalesce($2::uuid, {NIL})",
            f"coalesce(parent_id, {NIL}) = coalesce($3::uuid, {NIL})",
            "id IS DISTINCT FROM $4::uuid",
        ]
    )
    return f"""
WITH after_task AS (SELECT position FROM tasks WHERE id = $5 AND {group}),
     before_task AS (SELECT position FROM tasks WHERE id = $6 AND {group})
SELECT
    CASE WHEN $5::uuid IS NOT NULL THEN (SELECT position FROM after_task)
         WHEN $6::uuid IS NOT NULL THEN (SELECT position FROM tasks
              WHERE {group} AND position < (SELECT position FROM before_task)
              ORDER BY position DESC LIMIT 1)
         ELSE (SELECT position FROM tasks WHERE {group} ORDER BY position DESC LIMIT 1)
         END AS low,
    CASE WHEN $5::uuid IS NOT NULL THEN LEAST((SELECT position FROM tasks
              WHERE {group} AND position > (SELECT position FROM after_task)
              ORDER BY position LIMIT 1), (SELECT position FROM before_task))
         WHEN $6::uuid IS NOT NULL THEN (SELECT position FROM before_task)
         ELSE NULL END AS high,
    ($5::uuid IS NULL OR EXISTS (SELECT FROM after_task))
        AND ($6::uuid IS NULL OR EXISTS (SELECT FROM before_task))
        AND ($5::uuid IS NULL OR $6::uuid IS NULL
             OR (SELECT position FROM after_task) < (SELECT position FROM before_task))
        AS found
"""


_TASK_GAP = _task_gap()
_LIST_SIBLINGS = "user_id = $1 AND id IS DISTINCT FROM $2::uuid"
_LIST_GAP = f"""
WITH after_list AS (SELECT position FROM lists WHERE id = $3 AND {_LIST_SIBLINGS}),
     before_list AS (SELECT position FROM lists WHERE id = $4 AND {_LIST_SIBLINGS})
SELECT
    CASE WHEN $3::uuid IS NOT NULL THEN (SELECT position FROM after_list)
         WHEN $4::uuid IS NOT NULL THEN (SELECT max(position) FROM lists
              WHERE {_LIST_SIBLINGS} AND position < (SELECT position FROM before_list))
         ELSE (SELECT max(position) FROM lists WHERE {_LIST_SIBLINGS}) END AS low,
    CASE WHEN $3::uuid IS NOT NULL THEN (SELECT min(position) FROM lists
              WHERE {_LIST_SIBLINGS} AND position > (SELECT position FROM after_list)
              AND ($4::uuid IS NULL OR position <= (SELECT position FROM before_list)))
         WHEN $4::uuid IS NOT NULL THEN (SELECT position FROM before_list)
         ELSE NULL END AS high,
    ($3::uuid IS NULL OR EXISTS (SELECT FROM after_list))
        AND ($4::uuid IS NULL OR EXISTS (SELECT FROM before_list))
        AND ($3::uuid IS NULL OR $4::uuid IS NULL
             OR (SELECT position FROM after_list) < (SELECT position FROM before_list))
        AS found
"""


async def tasks_in_list(database: Database, user_id: UUID, list_id: UUID) -> list[Task]:
    """Every task of a list, parents before their children."""
    return [to_task(row) for row in await database.fetch(_IN_LIST, user_id, list_id)]


class PostgresPlacementReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def lineage(self, user_id: UUID, task_id: UUID) -> list[Task]:
        return [to_task(row) for row in await self._db.fetch(_LINEAGE, task_id, user_id)]

    async def subtree(self, user_id: UUID, task_id: UUID) -> list[Task]:
        return [to_task(row) for row in await self._db.fetch(_SUBTREE, task_id, user_id)]

    async def task_gap(
        self,
        user_id: UUID,
        siblings: Siblings,
        after: UUID | None,
        before: UUID | None,
        moving: UUID | None = None,
    ) -> Gap:
        row = await self._db.fetchrow(
            _TASK_GAP, user_id, siblings.list_id, siblings.parent_id, moving, after, before
        )
        assert row is not None
        return Gap(row["low"], row["high"], row["found"])

    async def list_gap(
        self, user_id: UUID, after: UUID | None, before: UUID | None, moving: UUID | None = None
    ) -> Gap:
        row = await self._db.fetchrow(_LIST_GAP, user_id, moving, after, before)
        assert row is not None
        return Gap(row["low"], row["high"], row["found"])
