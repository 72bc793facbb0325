"""An in-memory unit of work: changes go to a copy and replace the store on commit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self, TypeVar
from uuid import UUID

from taskapp.adapters.memory.tasks import (
    MemoryDownloadLog,
    MemoryHistoryLog,
    MemoryIdempotencyKeys,
    MemoryReviewRepository,
    MemoryTaskRepository,
    StoredKey,
)
from taskapp.domain.errors import EmailAlreadyRegistered
from taskapp.domain.model import (
    DownloadEvent,
    HistoryEntry,
    RefreshToken,
    Review,
    Task,
    User,
    email_key,
)

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class MemoryStore:
    users: dict[UUID, User] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    tasks: dict[UUID, Task] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    idempotency_keys: dict[tuple[UUID, str], StoredKey] = field(default_factory=dict)
    downloads: list[DownloadEvent] = field(default_factory=list)
    reviews: dict[UUID, Review] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def copy(self) -> MemoryStore:
        return MemoryStore(
            users=dict(self.users),
            refresh_tokens=dict(self.refresh_tokens),
            tasks=dict(self.tasks),
            history=list(self.history),
            idempotency_keys={k: replace(v) for k, v in self.idempotency_keys.items()},
            downloads=list(self.downloads),
            reviews=dict(self.reviews),
            lock=self.lock,
        )

    def take(self, other: MemoryStore) -> None:
        """Become a copy of `other`, in place (repositories hold these very containers)."""
        copied = other.copy()
        _refill(self.users, copied.users)
        _refill(self.refresh_tokens, copied.refresh_tokens)
        _refill(self.tasks, copied.tasks)
        _refill(self.idempotency_keys, copied.idempotency_keys)
        _refill(self.reviews, copied.reviews)
        self.history[:] = copied.history
        self.downloads[:] = copied.downloads


def _refill(target: dict[K, V], source: dict[K, V]) -> None:
    target.clear()
    target.update(source)


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

    async def lock(self, user_id: UUID, *, exclusive: bool) -> None:
        """Units of work already run one at a time here."""

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
        self._working = self._store.copy()
        self.users = MemoryUserRepository(self._working)
        self.refresh_tokens = MemoryRefreshTokenRepository(self._working)
        self.tasks = MemoryTaskRepository(self._working.tasks)
        self.history = MemoryHistoryLog(self._working.history)
        self.idempotency_keys = MemoryIdempotencyKeys(self._working.idempotency_keys)
        self.downloads = MemoryDownloadLog(self._working.downloads)
        self.reviews = MemoryReviewRepository(self._working.reviews)
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
        self._store.take(self._working)

    async def rollback(self) -> None:
        """Discard what this unit of work changed since its last commit."""
        if self._working is not None:
            self._working.take(self._store)


class MemoryUnitOfWorkFactory:
    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()

    def __call__(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store)
