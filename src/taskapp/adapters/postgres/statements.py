"""SQL text built once, at import, from the one MetaData (tables.py).

Statements are plain strings for asyncpg (`$1`, `$2`, ...); helpers here derive the column
lists and parameter types from the tables, so no statement spells a shape out by hand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]
_PARAMETER = re.compile(r"\$(\d+)")


def pg_type(column: sa.Column[object]) -> str:
    return str(column.type.compile(dialect=_DIALECT))


def column_list(columns: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{name}" for name in columns)


def insert_select(table: sa.Table, columns: Sequence[str]) -> str:
    """`INSERT INTO t (...) SELECT $1::type, ... WHERE {go} RETURNING 1`: an insert that a
    unit of work can make conditional on the writes before it (see unit_of_work.py).
    The casts are needed: in INSERT ... SELECT, PostgreSQL does not infer parameter types
    from the target columns."""
    values = ", ".join(f"${n}::{pg_type(table.c[name])}" for n, name in enumerate(columns, start=1))
    return (
        f"INSERT INTO {table.name} ({column_list(columns)}) "
        f"SELECT {values} WHERE {{go}} RETURNING 1"
    )


def shift_parameters(sql: str, offset: int) -> str:
    """Renumber `$n` to `$(n + offset)`, to put several statements' parameters in one."""
    if not offset:
        return sql
    return _PARAMETER.sub(lambda match: f"${int(match[1]) + offset}", sql)


def returns_position(sql: str) -> bool:
    """Does this write return the log position (`seq`) of what it appended (history)?"""
    return sql.endswith("RETURNING seq")


@lru_cache(maxsize=1024)
def combined(statements: tuple[tuple[str, int, int | None], ...]) -> str:
    """One data-modifying CTE for several writes, built once per combination.

    Each entry is (sql with `{go}`, number of parameters, rows a guarded write must hit or
    None). Every write runs only if every guarded write before it hit its rows (`{go}`);
    the result row counts each write's rows, so the caller can tell a lost race from a
    success.
    """
    parts: list[str] = []
    guards: list[str] = []
    offset = 0
    for index, (sql, arity, rows) in enumerate(statements):
        go = " AND ".join(guards) or "TRUE"
        parts.append(f"w{index} AS ({shift_parameters(sql, offset).format(go=go)})")
        if rows is not None:
            guards.append(f"(SELECT count(*) FROM w{index}) = {int(rows)}")
        offset += arity
    counts = ", ".join(f"(SELECT count(*) FROM w{i})" for i in range(len(statements)))
    # Writes that return `seq` (history appends): the highest one, last in the result row.
    logged = [
        f"(SELECT max(seq) FROM w{i})"
        for i, (sql, _, _) in enumerate(statements)
        if returns_position(sql)
    ]
    position = f"greatest({', '.join(logged)})" if logged else "NULL::bigint"
    return f"WITH {', '.join(parts)} SELECT {counts}, {position}"
