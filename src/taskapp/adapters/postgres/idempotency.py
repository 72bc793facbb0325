"""Idempotency keys for POST /tasks in PostgreSQL.

A claim is one atomic statement on its own; the created task is recorded by the unit of
work that creates it (same statement as the task and its history entry). `task` is SQL NULL
while the request runs, never JSON null, so release and takeover can find the claim.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.unit_of_work import Session, Write
from taskapp.domain.model import ClaimStatus, IdempotencyClaim, Task

# A claim whose request has not finished after this long is taken to have died with its
# process, and the key may be claimed again.
ABANDONED_AFTER = timedelta(seconds=60)

# Take the key if it is new, expired, or held by a request that died; otherwise report the
# holder as it was (same snapshot).
_CLAIM = """
WITH taken AS (
    INSERT INTO idempotency_keys AS k (user_id, key, fingerprint, task, created_at, expires_at)
    VALUES ($1, $2, $3, NULL, $4, $5)
    ON CONFLICT (user_id, key) DO UPDATE SET
        fingerprint = EXCLUDED.fingerprint, task = NULL,
        created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
    WHERE k.expires_at <= $4 OR (k.task IS NULL AND k.created_at < $6)
    RETURNING 1
)
SELECT TRUE AS claimed, NULL AS fingerprint, NULL::jsonb AS task FROM taken
UNION ALL
SELECT FALSE, fingerprint, task FROM idempotency_keys
 WHERE user_id = $1 AND key = $2 AND NOT EXISTS (SELECT FROM taken)
"""
_COMPLETE = (
    "UPDATE idempotency_keys SET task = $3::jsonb "
    "WHERE user_id = $1 AND key = $2 AND {go} RETURNING 1"
)
_RELEASE = "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND task IS NULL"


def task_snapshot(task: Task) -> dict[str, Any]:
    """The task as JSON, derived from the entity's own declaration (msgspec reads the
    dataclass: UUIDs, dates and times as strings, the priority as its value)."""
    snapshot: dict[str, Any] = msgspec.to_builtins(task)
    return snapshot


def task_from_snapshot(data: dict[str, Any]) -> Task:
    return msgspec.convert(data, Task)


class PostgresIdempotencyKeys:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim(
        self, user_id: UUID, key: str, fingerprint: str, now: datetime, ttl_seconds: int
    ) -> IdempotencyClaim:
        expires_at = now + timedelta(seconds=ttl_seconds)
        # Twice at most: a failed request may release the key while we look.
        for _ in range(2):
            rows = await self._db.fetch(
                _CLAIM, user_id, key, fingerprint, now, expires_at, now - ABANDONED_AFTER
            )
            if not rows:
                continue
            row = rows[0]
            if row["claimed"]:
                return IdempotencyClaim(ClaimStatus.CLAIMED)
            if row["fingerprint"] != fingerprint:
                return IdempotencyClaim(ClaimStatus.MISMATCH)
            if row["task"] is None:
                return IdempotencyClaim(ClaimStatus.IN_PROGRESS)
            return IdempotencyClaim(ClaimStatus.REPLAY, task_from_snapshot(row["task"]))
        return IdempotencyClaim(ClaimStatus.IN_PROGRESS)

    async def release(self, user_id: UUID, key: str) -> None:
        await self._db.execute(_RELEASE, user_id, key)


class PostgresIdempotencyRecords:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def complete(self, user_id: UUID, key: str, task: Task) -> None:
        self._session.defer(Write(_COMPLETE, (user_id, key, task_snapshot(task))))
