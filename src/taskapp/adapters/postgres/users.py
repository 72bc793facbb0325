"""Users in PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from taskapp.adapters.postgres.errors import translate
from taskapp.adapters.postgres.tables import users
from taskapp.domain.errors import EmailAlreadyRegistered
from taskapp.domain.model import TRIMMED, User

_ON_UNIQUE = {"uq_users_email_lower": EmailAlreadyRegistered}


def _to_user(row: sa.Row[Any]) -> User:
    return User(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        password_hash=row.password_hash,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class PostgresUserRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, user: User) -> None:
        statement = users.insert().values(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            password_hash=user.password_hash,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )
        try:
            await self._connection.execute(statement)
        except sa_exc.IntegrityError as error:
            raise translate(error, _ON_UNIQUE) from error

    async def get(self, user_id: UUID) -> User | None:
        result = await self._connection.execute(sa.select(users).where(users.c.id == user_id))
        row = result.first()
        return None if row is None else _to_user(row)

    async def get_by_email(self, email: str) -> User | None:
        result = await self._connection.execute(
            # lower() on both sides: the same folding as the unique index uses.
            sa.select(users).where(
                sa.func.lower(users.c.email) == sa.func.lower(email.strip(TRIMMED))
            )
        )
        row = result.first()
        return None if row is None else _to_user(row)

    async def lock(self, user_id: UUID, *, exclusive: bool) -> None:
        statement = sa.select(users.c.id).where(users.c.id == user_id)
        locked = statement.with_for_update(read=not exclusive)
        await self._connection.execute(locked)

    async def set_password_hash(self, user_id: UUID, password_hash: str, now: datetime) -> None:
        await self._connection.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(password_hash=password_hash, updated_at=now)
        )
