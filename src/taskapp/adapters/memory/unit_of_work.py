"""An in-memory unit of work: changes go to a copy and replace the store on commit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from taskapp.domain.errors import EmailAlreadyRegistered
from taskapp.domain.model import RefreshToken, User, email_key


@dataclass
class MemoryStore:
    users: dict[UUID, User] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class MemoryUserRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def add(self, user: User) -> None:
        key = email_key(user.email)
        if any(email_key(other.email) == key for other in self._store.users.values()):
            raise EmailAlreadyRegistered
        self._store.users[user.id] = user

    async def get(self, user_id: UUID) -> User | None:
        return self._store.users.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        key = email_key(email)
        return next((u for u in self._store.users.values() if email_key(u.email) == key), None)

    async def set_password_hash(self, user_id: UUID, password_hash: str, now: datetime) -> None:
        user = self._store.users[user_id]
        self._store.users[user_id] = replace(user, password_hash=password_hash, updated_at=now)


class MemoryRefreshTokenRepository:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def add(self, token: RefreshToken) -> None:
        self._store.refresh_tokens[token.token_hash] = token

    async def spend(self, token_hash: str, now: datetime) -> RefreshToken | None:
        token = self._store.refresh_tokens.get(token_hash)
        if token is None or token.used_at or token.revoked_at or token.expires_at <= now:
            return None
        spent = replace(token, used_at=now)
        self._store.refresh_tokens[token_hash] = spent
        return spent

    async def find(self, token_hash: str) -> RefreshToken | None:
        return self._store.refresh_tokens.get(token_hash)

    async def revoke_family(self, family_id: UUID, now: datetime) -> None:
        self._revoke(lambda t: t.family_id == family_id, now)

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None:
        self._revoke(lambda t: t.user_id == user_id, now)

    def _revoke(self, matches: Callable[[RefreshToken], bool], now: datetime) -> None:
        tokens = self._store.refresh_tokens
        for key, token in tokens.items():
            if matches(token) and token.revoked_at is None:
                tokens[key] = replace(token, revoked_at=now)


class MemoryUnitOfWork:
    """Serializes units of work with one lock: simple, and enough for tests."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._working: MemoryStore | None = None

    async def __aenter__(self) -> Self:
        await self._store.lock.acquire()
        self._working = MemoryStore(
            users=dict(self._store.users),
            refresh_tokens=dict(self._store.refresh_tokens),
        )
        self.users = MemoryUserRepository(self._working)
        self.refresh_tokens = MemoryRefreshTokenRepository(self._working)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None
        self._store.lock.release()

    async def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("commit() outside the unit of work")
        self._store.users = dict(self._working.users)
        self._store.refresh_tokens = dict(self._working.refresh_tokens)

    async def rollback(self) -> None:
        if self._working is not None:
            self._working.users = dict(self._store.users)
            self._working.refresh_tokens = dict(self._store.refresh_tokens)


class MemoryUnitOfWorkFactory:
    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()

    def __call__(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store)
