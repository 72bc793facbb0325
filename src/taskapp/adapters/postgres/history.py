"""The append-only task history in PostgreSQL: appends for the unit of work, and pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.statements import insert_select
from taskapp.adapters.postgres.tables import task_history
from taskapp.adapters.postgres.unit_of_work import Session, Write
from taskapp.domain.model import (
    ActionType,
    FieldChange,
    HistoryEntry,
    HistoryQuery,
    Page,
    PageRequest,
)

_STORED = (
    "id",
    "user_id",
    "task_id",
    "task_title",
    "action_type",
    "description",
    "changes",
    "created_at",
)
# Appends return the `seq` the history trigger gave them: the unit of work reports the
# highest as the change's position in the log (X-Sync-Cursor) without another query.
_APPEND = insert_select(task_history, _STORED).replace("RETURNING 1", "RETURNING seq")
_ACTIONS = {action.value: action for action in ActionType}
_APPEND_MANY = (
    f"INSERT INTO task_history ({', '.join(_STORED)}) "
    "SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], "
    "$6::text[], $7::jsonb[], $8::timestamptz[]) WHERE {go} RETURNING seq"
)


def changes_to_json(changes: dict[str, FieldChange] | None) -> dict[str, Any] | None:
    if changes is None:
        return None
    return {name: {"from": c.old, "to": c.new} for name, c in changes.items()}


def changes_from_json(data: dict[str, Any] | None) -> dict[str, FieldChange] | None:
    if data is None:
        return None
    return {name: FieldChange(c["from"], c["to"]) for name, c in data.items()}


def _page_statement(by_task: bool, by_action: bool, anchored: bool) -> str:
    """Entries and their exact total in one round trip.

    $1 owner, $2 limit, $3 offset, then the task id, the action and the anchor id as given.
    Without a task filter the per-user counters give the total (minus the entries newer
    than the anchor); a single task's history is short enough to count directly.
    """
    n = 3
    where = ["h.user_id = $1"]
    task_param = action_param = anchor_param = ""
    if by_task:
        n += 1
        task_param = f"${n}"
        where.append(f"h.task_id = {task_param}")
    if by_action:
        n += 1
        action_param = f"${n}"
        where.append(f"h.action_type = {action_param}")
    anchor = "NULL::bigint"
    if anchored:
        n += 1
        anchor_param = f"${n}"
        anchor = f"(SELECT seq FROM task_history WHERE user_id = $1 AND id = {anchor_param})"
    filters = " AND ".join(where)
    up_to_anchor = f"{filters} AND h.seq <= {anchor}" if anchored else filters
    if by_task:
        total = f"(SELECT count(*) FROM task_history h WHERE {up_to_anchor})"
    else:
        column = (
            "c.total"
            if not by_action
            else (
                "CASE "
                + " ".join(
                    f"WHEN {action_param} = '{a.value}' THEN c.{a.value.lower()}"
                    for a in ActionType
                )
                + " END"
            )
        )
        counted = f"coalesce((SELECT {column} FROM history_counts c WHERE c.user_id = $1), 0)"
        total = counted
        if anchored:
            total += (
                f" - (SELECT count(*) FROM task_history h WHERE {filters} AND h.seq > {anchor})"
            )
    return (
        f"WITH anchor AS (SELECT {anchor} AS seq) "
        f"SELECT totals.total, anchor.seq IS NOT NULL OR NOT {str(anchored).upper()} AS found, "
        "page.id, page.task_id, page.task_title, page.action_type, page.description, "
        "page.changes, page.created_at "
        f"FROM anchor, (SELECT ({total})::bigint AS total) AS totals "
        "LEFT JOIN LATERAL (SELECT h.id, h.task_id, h.task_title, h.action_type, "
        f"h.description, h.changes, h.created_at FROM task_history h WHERE {up_to_anchor} "
        "ORDER BY h.seq DESC LIMIT $2 OFFSET $3) AS page ON TRUE"
    )


_PAGES = {
    (t, a, s): _page_statement(t, a, s)
    for t in (False, True)
    for a in (False, True)
    for s in (False, True)
}


class PostgresHistoryLog:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def append(self, entry: HistoryEntry) -> None:
        args = (
            entry.id,
            entry.user_id,
            entry.task_id,
            entry.task_title,
            entry.action_type.value,
            entry.description,
            changes_to_json(entry.changes),
            entry.timestamp,
        )
        self._session.defer(Write(_APPEND, args, logs_for=(entry.user_id,)))

    async def append_many(self, entries: Sequence[HistoryEntry]) -> None:
        if not entries:
            return
        columns = (
            [e.id for e in entries],
            [e.user_id for e in entries],
            [e.task_id for e in entries],
            [e.task_title for e in entries],
            [e.action_type.value for e in entries],
            [e.description for e in entries],
            [changes_to_json(e.changes) for e in entries],
            [e.timestamp for e in entries],
        )
        users = tuple(dict.fromkeys(e.user_id for e in entries))
        self._session.defer(Write(_APPEND_MANY, columns, logs_for=users))


class PostgresHistoryReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def list(
        self, user_id: UUID, query: HistoryQuery, page: PageRequest
    ) -> Page[HistoryEntry] | None:
        statement = _PAGES[
            query.task_id is not None, query.action_type is not None, query.as_of is not None
        ]
        filters = [
            value
            for value in (
                query.task_id,
                None if query.action_type is None else query.action_type.value,
                query.as_of,
            )
            if value is not None
        ]
        rows = await self._db.fetch(statement, user_id, page.limit, page.offset, *filters)
        if not rows[0]["found"]:
            return None
        entries = [
            HistoryEntry(
                id=row["id"],
                user_id=user_id,
                task_id=row["task_id"],
                task_title=row["task_title"],
                action_type=_ACTIONS[row["action_type"]],
                description=row["description"],
                changes=changes_from_json(row["changes"]),
                timestamp=row["created_at"],
            )
            for row in rows
            if row["id"] is not None
        ]
        return Page(entries, rows[0]["total"], page.offset, page.limit)
