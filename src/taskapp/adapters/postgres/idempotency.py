"""Idempotency keys for POST /tasks in PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from taskapp.adapters.postgres.tables import idempotency_keys as keys
from taskapp.domain.model import ClaimStatus, IdempotencyClaim, Task

# A claim whose request has not finished after this long is taken to have died with its
# process, and the key may be claimed again.
ABANDONED_AFTER = timedelta(seconds=60)


def _snapshot(task: Task) -> dict[str, Any]:
    def stamp(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": str(task.id),
        "user_id": str(task.user_id),
        "title": task.title,
        "description": task.description,
        "is_completed": task.is_completed,
        "completed_at": stamp(task.completed_at),
        "created_at": stamp(task.created_at),
        "updated_at": stamp(task.updated_at),
        "version": task.version,
    }


def _from_snapshot(data: dict[str, Any]) -> Task:
    def stamp(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    created_at = stamp(data["created_at"])
    updated_at = stamp(data["updated_at"])
    assert created_at is not None
    assert updated_at is not None
    return Task(
        id=UUID(data["id"]),
        user_id=UUID(data["user_id"]),
        title=data["title"],
        description=data["description"],
        is_completed=data["is_completed"],
        completed_at=stamp(data["completed_at"]),
        created_at=created_at,
        updated_at=updated_at,
        version=data["version"],
    )


class PostgresIdempotencyKeys:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def claim(
        self, user_id: UUID, key: str, fingerprint: str, now: datetime, ttl_seconds: int
    ) -> IdempotencyClaim:
        # Twice at most: a failed request may release the key between our two statements.
        for _ in range(2):
            outcome = await self._try_claim(user_id, key, fingerprint, now, ttl_seconds)
            if outcome is not None:
                return outcome
        return IdempotencyClaim(ClaimStatus.IN_PROGRESS)

    async def _try_claim(
        self, user_id: UUID, key: str, fingerprint: str, now: datetime, ttl_seconds: int
    ) -> IdempotencyClaim | None:
        row = insert(keys).values(
            user_id=user_id,
            key=key,
            fingerprint=fingerprint,
            task=None,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
        # Take the key if it is new, expired, or held by a request that died.
        take = row.on_conflict_do_update(
            index_elements=[keys.c.user_id, keys.c.key],
            set_={
                "fingerprint": row.excluded.fingerprint,
                "task": None,
                "created_at": row.excluded.created_at,
                "expires_at": row.excluded.expires_at,
            },
            where=sa.or_(
                keys.c.expires_at <= now,
                sa.and_(keys.c.task.is_(None), keys.c.created_at < now - ABANDONED_AFTER),
            ),
        ).returning(keys.c.key)
        if (await self._connection.execute(take)).first() is not None:
            return IdempotencyClaim(ClaimStatus.CLAIMED)
        existing = (
            await self._connection.execute(
                sa.select(keys.c.fingerprint, keys.c.task).where(
                    keys.c.user_id == user_id, keys.c.key == key
                )
            )
        ).first()
        if existing is None:
            return None
        if existing.fingerprint != fingerprint:
            return IdempotencyClaim(ClaimStatus.MISMATCH)
        if existing.task is None:
            return IdempotencyClaim(ClaimStatus.IN_PROGRESS)
        return IdempotencyClaim(ClaimStatus.REPLAY, _from_snapshot(existing.task))

    async def complete(self, user_id: UUID, key: str, task: Task) -> None:
        await self._connection.execute(
            keys.update()
            .where(keys.c.user_id == user_id, keys.c.key == key)
            .values(task=_snapshot(task))
        )

    async def release(self, user_id: UUID, key: str) -> None:
        await self._connection.execute(
            keys.delete().where(keys.c.user_id == user_id, keys.c.key == key, keys.c.task.is_(None))
        )
