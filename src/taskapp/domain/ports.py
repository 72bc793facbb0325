"""Ports: the small interfaces the use cases need from the outside world.

Adapters implement them structurally (no base classes). A unit of work is the transaction
boundary: it rolls back unless `commit()` was called.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from taskapp.domain.model import (
    AccessToken,
    ActionType,
    DownloadEvent,
    HistoryEntry,
    IdempotencyClaim,
    Page,
    PageRequest,
    RefreshToken,
    Review,
    ReviewSummary,
    Task,
    TaskQuery,
    User,
    WeekCounts,
)

TaskBatch = list[Task]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """False for a wrong password; never raises for one."""
        ...

    def needs_rehash(self, password_hash: str) -> bool: ...

    def has_capacity(self) -> bool:
        """False while so many hashes are queued that a new one would be refused."""
        ...


class TokenService(Protocol):
    def issue_access_token(self, user_id: UUID, now: datetime) -> AccessToken: ...

    def verify_access_token(self, token: str) -> UUID:
        """The user id the token was issued to; raises Unauthorized for any bad token."""
        ...

    def new_refresh_token(self) -> str:
        """An opaque, unguessable token (at least 256 bits of randomness)."""
        ...

    def hash_refresh_token(self, token: str) -> str: ...


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int) -> int | None:
        """Count one attempt; None while under the limit, else seconds until it resets."""
        ...


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Raises EmailAlreadyRegistered when the address (in any letter case) is taken."""
        ...

    async def get(self, user_id: UUID) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None:
        """Case-insensitive lookup."""
        ...

    async def set_password_hash(self, user_id: UUID, password_hash: str, now: datetime) -> None: ...

    async def lock(self, user_id: UUID, *, exclusive: bool) -> None:
        """Lock the user until the unit of work ends. Refreshes take it shared; logout and
        password changes exclusively, so no refresh can slip a new token past a revocation."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def spend(self, token_hash: str, now: datetime) -> RefreshToken | None:
        """Atomically mark a live token used and return it; None if it was not live.

        Of two concurrent calls for one token, exactly one gets the token.
        """
        ...

    async def find(self, token_hash: str) -> RefreshToken | None: ...

    async def revoke_family(self, family_id: UUID, now: datetime) -> None: ...

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None: ...


class TaskRepository(Protocol):
    """Tasks, always addressed through their owner: another user's task does not exist."""

    async def get(self, user_id: UUID, task_id: UUID) -> Task | None: ...

    async def get_for_update(self, user_id: UUID, task_id: UUID) -> Task | None:
        """Load and lock the task until the unit of work ends, so changes serialize."""
        ...

    async def list(self, user_id: UUID, query: TaskQuery, page: PageRequest) -> Page[Task]: ...

    async def add(self, task: Task) -> None: ...

    async def update(self, task: Task) -> None: ...

    async def delete(self, task: Task) -> None: ...

    async def batch_after(
        self, user_id: UUID, query: TaskQuery, after: Task | None, limit: int
    ) -> TaskBatch:
        """Up to `limit` tasks older than `after` (newest first by created_at, then id).

        The key never changes for a task, so walking batches visits each task once even
        while others are completed or edited, and no connection is held between batches.
        """
        ...

    async def count_week(self, user_id: UUID, start: datetime, end: datetime) -> WeekCounts:
        """Tasks created and completed in [start, end), and current totals (one round trip)."""
        ...


class DownloadLog(Protocol):
    async def record(self, event: DownloadEvent) -> None: ...

    async def list(self, user_id: UUID, page: PageRequest) -> Page[DownloadEvent]:
        """Newest first."""
        ...


class ReviewRepository(Protocol):
    async def upsert(self, review: Review) -> tuple[Review, bool]:
        """Create the user's review or update it (one per user, safe under concurrency).
        The stored review, and True when it was created."""
        ...

    async def get(self, user_id: UUID) -> Review | None: ...

    async def summary(self) -> ReviewSummary: ...


class HistoryLog(Protocol):
    """The append-only record of task changes."""

    async def append(self, entry: HistoryEntry) -> None: ...

    async def list(
        self,
        user_id: UUID,
        page: PageRequest,
        task_id: UUID | None = None,
        action_type: ActionType | None = None,
        as_of: UUID | None = None,
    ) -> Page[HistoryEntry] | None:
        """Entries newest first. With `as_of` (an entry id), only that entry and older ones:
        pages anchored that way neither overlap nor leave gaps while new entries arrive.
        None when `as_of` names no entry of this user."""
        ...


class IdempotencyKeys(Protocol):
    """Remembers the outcome of POST /tasks per (user, key) for a while."""

    async def claim(
        self, user_id: UUID, key: str, fingerprint: str, now: datetime, ttl_seconds: int
    ) -> IdempotencyClaim:
        """Take the key for this request, or say why not (replay, in progress, mismatch)."""
        ...

    async def complete(self, user_id: UUID, key: str, task: Task) -> None: ...

    async def release(self, user_id: UUID, key: str) -> None:
        """Forget a claim whose request failed, so the client can retry with the key."""
        ...


class UnitOfWork(Protocol):
    @property
    def users(self) -> UserRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def tasks(self) -> TaskRepository: ...

    @property
    def history(self) -> HistoryLog: ...

    @property
    def idempotency_keys(self) -> IdempotencyKeys: ...

    @property
    def downloads(self) -> DownloadLog: ...

    @property
    def reviews(self) -> ReviewRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A read-only unit runs each statement on its own, without a transaction (no BEGIN
        and COMMIT round trips); it must not be used to write."""
        ...
