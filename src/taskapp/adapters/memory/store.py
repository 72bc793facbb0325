"""What the in-memory adapters keep: one store, copied per unit of work."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from taskapp.domain.model import (
    DownloadEvent,
    HistoryEntry,
    RefreshToken,
    Review,
    Task,
    TaskList,
    User,
)

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class StoredKey:
    fingerprint: str
    task: Task | None
    created_at: datetime
    expires_at: datetime


@dataclass
class MemoryStore:
    users: dict[UUID, User] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    tasks: dict[UUID, Task] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    idempotency_keys: dict[tuple[UUID, str], StoredKey] = field(default_factory=dict)
    downloads: list[DownloadEvent] = field(default_factory=list)
    reviews: dict[UUID, Review] = field(default_factory=dict)
    lists: dict[UUID, TaskList] = field(default_factory=dict)
    # The change log sync reads, `seq` = position + 1: (kind, user, object, action).
    changes: list[tuple[str, UUID, UUID, str]] = field(default_factory=list)
    # Told of each user whose log grew, after the commit (the live events' feed).
    on_change: list[Callable[[UUID], None]] = field(default_factory=list)
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
            lists=dict(self.lists),
            changes=list(self.changes),
            on_change=self.on_change,
            lock=self.lock,
        )

    def take(self, other: MemoryStore) -> None:
        """Become a copy of `other`, in place (adapters hold these very containers)."""
        copied = other.copy()
        _refill(self.users, copied.users)
        _refill(self.refresh_tokens, copied.refresh_tokens)
        _refill(self.tasks, copied.tasks)
        _refill(self.idempotency_keys, copied.idempotency_keys)
        _refill(self.reviews, copied.reviews)
        _refill(self.lists, copied.lists)
        self.history[:] = copied.history
        grown = {user for _, user, _, _ in copied.changes[len(self.changes) :]}
        self.changes[:] = copied.changes
        for user in grown:
            for tell in self.on_change:
                tell(user)
        self.downloads[:] = copied.downloads


def _refill(target: dict[K, V], source: dict[K, V]) -> None:
    target.clear()
    target.update(source)
