"""Users in PostgreSQL: writes for the accounts unit of work, and reads."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from uuid import UUID

from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.statements import column_list, insert_select
from taskapp.adapters.postgres.tables import users
from taskapp.adapters.postgres.unit_of_work import Session, Write
from taskapp.domain.model import User, email_key

USER_COLUMNS = tuple(field.name for field in fields(User))
_COLUMNS = column_list(USER_COLUMNS)
_ADD = insert_select(users, (*USER_COLUMNS, "email_key"))
_SET_HASH = (
    "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1 AND {go} RETURNING 1"
)
_GET = f"SELECT {_COLUMNS} FROM users WHERE id = $1"
_BY_EMAIL = f"SELECT {_COLUMNS} FROM users WHERE email_key = $1"
_LOCK_SHARED = "SELECT 1 FROM users WHERE id = $1 FOR SHARE"
_LOCK_EXCLUSIVE = "SELECT 1 FROM users WHERE id = $1 FOR UPDATE"


class PostgresUserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, user: User) -> None:
        args = (*(getattr(user, name) for name in USER_COLUMNS), email_key(user.email))
        self._session.defer(Write(_ADD, args))

    async def lock(self, user_id: UUID, *, exclusive: bool) -> None:
        connection = await self._session.in_transaction()
        await connection.execute(_LOCK_EXCLUSIVE if exclusive else _LOCK_SHARED, user_id)

    async def set_password_hash(self, user_id: UUID, password_hash: str, now: datetime) -> None:
        self._session.defer(Write(_SET_HASH, (user_id, password_hash, now)))


class PostgresAccountReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def user(self, user_id: UUID) -> User | None:
        row = await self._db.fetchrow(_GET, user_id)
        return None if row is None else User(*row)

    async def user_by_email(self, email: str) -> User | None:
        row = await self._db.fetchrow(_BY_EMAIL, email_key(email))
        return None if row is None else User(*row)
