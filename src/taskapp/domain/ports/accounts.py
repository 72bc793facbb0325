"""Ports of the account use cases: their unit of work and their reads."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from taskapp.domain.model import RefreshToken, User
from taskapp.domain.ports.unit_of_work import UnitOfWork


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Raises EmailAlreadyRegistered (at the latest on commit) for a taken address."""
        ...

    async def lock(self, user_id: UUID, *, exclusive: bool) -> None:
        """Lock the user until the unit ends: exclusive for credential changes, shared for
        work that must not interleave with one (issuing tokens)."""
        ...

    async def set_password_hash(self, user_id: UUID, password_hash: str, now: datetime) -> None: ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken, *, password_hash: str | None = None) -> None:
        """Store a new token. With `password_hash`, only while the user's password is still
        that one: a login that raced a password change fails on commit with StaleWrite."""
        ...

    async def spend(self, token_hash: str, now: datetime) -> RefreshToken | None:
        """Atomically mark a live token used and return it; None if it was not live.

        Of two concurrent calls for one token, exactly one gets the token.
        """
        ...

    async def find(self, token_hash: str) -> RefreshToken | None: ...

    async def revoke_family(self, family_id: UUID, now: datetime) -> None: ...

    async def revoke_all_for_user(self, user_id: UUID, now: datetime) -> None: ...


class AccountsUnitOfWork(UnitOfWork, Protocol):
    @property
    def users(self) -> UserRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...


AccountsUnitOfWorkFactory = Callable[[], AccountsUnitOfWork]


class AccountReads(Protocol):
    """One round trip each, outside any transaction."""

    async def user(self, user_id: UUID) -> User | None: ...

    async def user_by_email(self, email: str) -> User | None:
        """Compared as the domain compares addresses (`email_key`)."""
        ...
