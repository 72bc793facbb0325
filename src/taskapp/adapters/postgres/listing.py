"""GET /tasks as one statement: every filter and sort of the contract, page and total.

The statement text depends only on which filters are present and on the sort, so it is
built once per such shape (cached) and runs with its values as parameters. Parameters are
numbered in a fixed order: $1 owner, then each present filter's values (see
`listing_arguments`), then limit and offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from uuid import UUID

from taskapp.adapters.postgres.statements import column_list
from taskapp.adapters.postgres.tables import NIL
from taskapp.domain.model import (
    INBOX,
    TOP_LEVEL,
    DueWindow,
    Priority,
    SortKey,
    Task,
    TaskQuery,
    TaskStatus,
)

_COLUMNS = tuple(f for f in Task.__dataclass_fields__)
_RANK = "CASE priority " + " ".join(f"WHEN '{p.value}' THEN {p.rank}" for p in Priority) + " END"


def escape_like(text: str) -> str:
    """Make `%`, `_` and the escape character itself literal in a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class Shape:
    """Which filters a query uses: what the statement text depends on."""

    status: TaskStatus
    search: bool
    list_kind: str  # "", "inbox" or "id"
    parent_kind: str  # "", "none" or "id"
    labels: bool
    priorities: bool
    due_from: bool
    due_to: bool
    overdue: bool
    has_due: bool | None
    sort: SortKey
    descending: bool


def _kind(value: UUID | str | None, special: str) -> str:
    if value is None:
        return ""
    return special if value == special else "id"


def shape_of(query: TaskQuery) -> Shape:
    return Shape(
        status=query.status,
        search=bool(query.search),
        list_kind=_kind(query.list_id, INBOX),
        parent_kind=_kind(query.parent_id, TOP_LEVEL),
        labels=bool(query.labels),
        priorities=bool(query.priorities),
        due_from=query.due_from is not None,
        due_to=query.due_to is not None,
        overdue=query.overdue,
        has_due=query.has_due,
        sort=query.sort.key,
        descending=query.sort.descending,
    )


def listing_arguments(user_id: UUID, query: TaskQuery, window: DueWindow) -> list[object]:
    """The values for `list_statement(query)`, in the order it numbers them."""
    args: list[object] = [user_id]
    if query.search:
        args.append(f"%{escape_like(query.search)}%")
    if query.list_id is not None and query.list_id != INBOX:
        args.append(query.list_id)
    if query.parent_id is not None and query.parent_id != TOP_LEVEL:
        args.append(query.parent_id)
    if query.labels:
        args.append(list(query.label_keys))
    if query.priorities:
        args.append(sorted(p.value for p in query.priorities))
    if query.due_from is not None:
        args += [window.from_date, window.from_instant]
    if query.due_to is not None:
        args += [window.to_date, window.until_instant]
    if query.overdue:
        args += [window.overdue_before_date, window.overdue_before_instant]
    if query.sort.key is SortKey.DUE:
        args.append(query.zone_name)
    return args


def list_statement(query: TaskQuery) -> str:
    return _build(shape_of(query))


@lru_cache(maxsize=512)
def _build(shape: Shape) -> str:
    where = ["user_id = $1"]
    n = 1

    def param() -> str:
        nonlocal n
        n += 1
        return f"${n}"

    if shape.status is TaskStatus.OPEN:
        where.append("NOT is_completed")
    elif shape.status is TaskStatus.COMPLETED:
        where.append("is_completed")
    if shape.search:
        p = param()
        where.append(f"(title ILIKE {p} ESCAPE '\\' OR description ILIKE {p} ESCAPE '\\')")
    # As ix_tasks_user_siblings indexes them (NULL as the nil UUID): a manual-order page of
    # one sibling group is then an index range in order.
    if shape.list_kind == "inbox":
        where.append(f"coalesce(list_id, {NIL}) = {NIL}")
    elif shape.list_kind == "id":
        where.append(f"coalesce(list_id, {NIL}) = {param()}")
    if shape.parent_kind == "none":
        where.append(f"coalesce(parent_id, {NIL}) = {NIL}")
    elif shape.parent_kind == "id":
        where.append(f"coalesce(parent_id, {NIL}) = {param()}")
    if shape.labels:
        where.append(f"label_keys @> {param()}::text[]")
    if shape.priorities:
        where.append(f"priority = ANY({param()}::text[])")
    if shape.due_from:
        day, moment = param(), param()
        where.append(f"(due_date >= {day}::date OR due_at >= {moment}::timestamptz)")
    if shape.due_to:
        day, moment = param(), param()
        where.append(f"(due_date <= {day}::date OR due_at < {moment}::timestamptz)")
    if shape.overdue:
        day, moment = param(), param()
        where.append(
            f"NOT is_completed AND (due_date < {day}::date OR due_at < {moment}::timestamptz)"
        )
    if shape.has_due is True:
        where.append("(due_date IS NOT NULL OR due_at IS NOT NULL)")
    elif shape.has_due is False:
        where.append("due_date IS NULL AND due_at IS NULL")
    order = _order(shape, param() if shape.sort is SortKey.DUE else "")
    limit, offset = param(), param()
    filters = " AND ".join(where)
    return (
        f"SELECT {column_list(_COLUMNS, 'page.')}, counted.total "
        f"FROM (SELECT count(*) AS total FROM tasks WHERE {filters}) AS counted "
        f"LEFT JOIN LATERAL (SELECT {column_list(_COLUMNS)} FROM tasks WHERE {filters} "
        f"ORDER BY {order} LIMIT {limit} OFFSET {offset}) AS page ON TRUE"
    )


def _order(shape: Shape, zone_param: str) -> str:
    """Each key in its natural direction; `descending` reverses it; ties by id, so pages
    never overlap or skip."""
    up, down = ("DESC", "ASC") if shape.descending else ("ASC", "DESC")
    match shape.sort:
        case SortKey.DEFAULT:
            return f"is_completed {up}, created_at {down}, id {down}"
        case SortKey.DUE:  # soonest first; an all-day date counts from its start in `tz`
            due = f"coalesce(due_at, (due_date::timestamp AT TIME ZONE {zone_param}::text))"
            return f"{due} {up} NULLS LAST, id {up}"
        case SortKey.PRIORITY:  # highest first
            return f"{_RANK} {down}, id {up}"
        case SortKey.MANUAL:
            return f"position {up}, id {up}"
        case SortKey.CREATED:
            return f"created_at {up}, id {up}"
        case SortKey.UPDATED:
            return f"updated_at {up}, id {up}"
        case SortKey.TITLE:
            return f"lower(title) {up}, id {up}"
