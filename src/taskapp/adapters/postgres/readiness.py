"""Readiness: does the database answer, quickly, with the schema this code expects?"""

from __future__ import annotations

from taskapp.adapters.postgres.database import Database
from taskapp.domain.errors import DomainError

_REVISION = "SELECT version_num FROM alembic_version"


async def readiness_problem(
    database: Database, expected_revision: str | None, timeout_seconds: float
) -> str | None:
    """None when ready; otherwise what is wrong, in a few words."""
    try:
        row = await database.probe(_REVISION, timeout_seconds)
    except DomainError:
        return "database unreachable"
    except Exception:
        return "database schema is not initialised"
    revision = None if row is None else row[0]
    if revision != expected_revision:
        return f"database schema at {revision}, expected {expected_revision}"
    return None
