"""Ports to the things around the use cases that are not storage: time, hashing, tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from taskapp.domain.model import AccessToken


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

    def new_refresh_token(self) -> str: ...

    def hash_refresh_token(self, token: str) -> str: ...


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int) -> int | None:
        """Count one attempt; None while within `limit`, else the seconds until it resets."""
        ...


class Positions(Protocol):
    """Ordering keys for manual order: strings that sort between any two others, so a move
    never renumbers other rows."""

    def between(self, low: str | None, high: str | None) -> str:
        """A fresh key strictly between `low` and `high` (None: unbounded)."""
        ...

    def for_new(self, now: datetime) -> str:
        """A key after every key handed out before `now`: where new things go (the end)."""
        ...
