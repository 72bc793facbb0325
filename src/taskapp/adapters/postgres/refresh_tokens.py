"""Refresh tokens in PostgreSQL: stored as hashes, spent atomically."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskapp.adapters.postgres.tables import refresh_tokens
from taskapp.domain.model import RefreshToken


def _to_token(row: sa.Row[Any]) -> RefreshToken:
    return RefreshToken(
        id=row.id,
        user_id=row.user_id,
        family_id=row.family_id,
        token_hash=row.token_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
    )


class PostgresRefreshTokenRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, token: RefreshToken) -> None:
        await self._connection.execute(
            refresh_tokens.insert().values(
                id=token.id,
                user_id=token.user_id,
                family_id=token.family_id,
                token_hash=token.token_hash,
                created_at=token.created_at,
                expires_at=token.expires_at,
            )
        )

    async def spend(self, token_hash: str, now: datetime) -> RefreshToken | None:
        # One conditional UPDATE: the row lock makes a concurrent second spend see used_at
        # already set and match nothing.
        result = await self._connection.execute(
            refresh_tokens.update()
            .where(
                refresh_tokens.c.token_hash == token_hash,
                refresh_tokens.c.used_at.is_(None),
                refresh_tokens.c.revoked_at.is_(None),
                refresh_tokens.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(*refresh_tokens.c)
        )
        row = result.first()
        return None if row is None else _to_token(row)

    async def find(self, token_hash: str) -> RefreshToken | None:
        result = await self._connection.execute(
            sa.select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
        )
        row = result.first()
        return None if row is None else _to_token(row)

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        await self._connection.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None:
        await self._connection.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
