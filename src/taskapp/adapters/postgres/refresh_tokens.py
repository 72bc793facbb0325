"""Refresh tokens in PostgreSQL: stored as hashes, spent atomically."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from uuid import UUID

from taskapp.adapters.postgres.statements import column_list, insert_select
from taskapp.adapters.postgres.tables import refresh_tokens
from taskapp.adapters.postgres.unit_of_work import Session, Write
from taskapp.domain.model import RefreshToken

TOKEN_COLUMNS = tuple(field.name for field in fields(RefreshToken))
_COLUMNS = column_list(TOKEN_COLUMNS)
_ADD = insert_select(refresh_tokens, TOKEN_COLUMNS)
_n = len(TOKEN_COLUMNS)
# Only while the user's password is still the one verified. FOR SHARE: a password change
# holding the user's row makes this wait and then see the new hash (no row, no token); a
# change that comes later waits for this token and revokes it.
_ADD_WHILE_PASSWORD = _ADD.replace(
    " WHERE {go} RETURNING 1",
    f" FROM users WHERE users.id = ${_n + 1} AND users.password_hash = ${_n + 2} AND {{go}}"
    " FOR SHARE OF users RETURNING 1",
)
_SPEND = (
    f"UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 "
    f"AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2 RETURNING {_COLUMNS}"
)
_FIND = f"SELECT {_COLUMNS} FROM refresh_tokens WHERE token_hash = $1"
_REVOKE_FAMILY = (
    "UPDATE refresh_tokens SET revoked_at = $2 "
    "WHERE family_id = $1 AND revoked_at IS NULL AND {go} RETURNING 1"
)
_REVOKE_ALL = (
    "UPDATE refresh_tokens SET revoked_at = $2 "
    "WHERE user_id = $1 AND revoked_at IS NULL AND {go} RETURNING 1"
)


class PostgresRefreshTokenRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, token: RefreshToken, *, password_hash: str | None = None) -> None:
        row = tuple(getattr(token, name) for name in TOKEN_COLUMNS)
        if password_hash is None:
            self._session.defer(Write(_ADD, row))
        else:
            args = (*row, token.user_id, password_hash)
            self._session.defer(Write(_ADD_WHILE_PASSWORD, args, guarded=True))

    async def spend(self, token_hash: str, now: datetime) -> RefreshToken | None:
        # One conditional UPDATE: the row lock makes a concurrent second spend see used_at
        # already set and match nothing.
        connection = await self._session.in_transaction()
        row = await connection.fetchrow(_SPEND, token_hash, now)
        return None if row is None else RefreshToken(*row)

    async def find(self, token_hash: str) -> RefreshToken | None:
        connection = await self._session.in_transaction()
        row = await connection.fetchrow(_FIND, token_hash)
        return None if row is None else RefreshToken(*row)

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        self._session.defer(Write(_REVOKE_FAMILY, (family_id, now)))

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None:
        self._session.defer(Write(_REVOKE_ALL, (user_id, now)))
