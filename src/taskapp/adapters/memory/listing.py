"""GET /tasks in memory: the same filters and sorts as the PostgreSQL statement."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from taskapp.domain.model import (
    INBOX,
    TOP_LEVEL,
    DueWindow,
    SortKey,
    Task,
    TaskQuery,
    TaskStatus,
    label_key,
)


def matches(task: Task, query: TaskQuery, window: DueWindow) -> bool:
    if query.status is TaskStatus.OPEN and task.is_completed:
        return False
    if query.status is TaskStatus.COMPLETED and not task.is_completed:
        return False
    if query.search:
        # PostgreSQL's ILIKE folds case with lower(); so does this.
        needle = query.search.lower()
        if not any(needle in text.lower() for text in (task.title, task.description or "")):
            return False
    if query.list_id is not None:
        wanted = None if query.list_id == INBOX else query.list_id
        if task.list_id != wanted:
            return False
    if query.parent_id is not None:
        wanted = None if query.parent_id == TOP_LEVEL else query.parent_id
        if task.parent_id != wanted:
            return False
    if query.labels:
        carried = {label_key(label) for label in task.labels}
        if not set(query.label_keys) <= carried:
            return False
    if query.priorities and task.priority not in query.priorities:
        return False
    due_date, due_at = task.due_date, task.due_at
    if query.due_from is not None and not (
        (due_date is not None and window.from_date is not None and due_date >= window.from_date)
        or (
            due_at is not None and window.from_instant is not None and due_at >= window.from_instant
        )
    ):
        return False
    if query.due_to is not None and not (
        (due_date is not None and window.to_date is not None and due_date <= window.to_date)
        or (
            due_at is not None
            and window.until_instant is not None
            and due_at < window.until_instant
        )
    ):
        return False
    if query.overdue and (
        task.is_completed
        or not (
            (
                due_date is not None
                and window.overdue_before_date is not None
                and due_date < window.overdue_before_date
            )
            or (
                due_at is not None
                and window.overdue_before_instant is not None
                and due_at < window.overdue_before_instant
            )
        )
    ):
        return False
    has_due = due_date is not None or due_at is not None
    return query.has_due is None or query.has_due == has_due


def sorted_tasks(tasks: list[Task], query: TaskQuery) -> list[Task]:
    """Natural order per key, reversed by `descending`; ties by id in the same direction
    (NULLS LAST for the due key either way), as the SQL says."""
    key, reverse = query.sort.key, query.sort.descending
    if key is SortKey.DEFAULT:
        ordered = sorted(
            tasks, key=lambda t: (t.is_completed, -t.created_at.timestamp(), -t.id.int)
        )
        return ordered[::-1] if reverse else ordered
    if key is SortKey.DUE:
        zone = ZoneInfo(query.zone_name)
        dated = [t for t in tasks if t.due_at is not None or t.due_date is not None]
        undated = [t for t in tasks if t.due_at is None and t.due_date is None]

        def moment(t: Task) -> datetime:
            if t.due_at is not None:
                return t.due_at
            assert t.due_date is not None
            return datetime.combine(t.due_date, time.min, tzinfo=zone)

        dated.sort(key=lambda t: (moment(t), t.id.int), reverse=reverse)
        undated.sort(key=lambda t: t.id.int, reverse=reverse)
        return dated + undated
    if key is SortKey.PRIORITY:
        ordered = sorted(tasks, key=lambda t: (-t.priority.rank, t.id.int))
        return sorted(tasks, key=lambda t: (t.priority.rank, -t.id.int)) if reverse else ordered
    sort_keys = {
        SortKey.MANUAL: lambda t: (t.position.encode(), t.id.int),
        SortKey.CREATED: lambda t: (t.created_at, t.id.int),
        SortKey.UPDATED: lambda t: (t.updated_at, t.id.int),
        SortKey.TITLE: lambda t: (t.title.lower(), t.id.int),
    }
    return sorted(tasks, key=sort_keys[key], reverse=reverse)
