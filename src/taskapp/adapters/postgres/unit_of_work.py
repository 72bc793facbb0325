"""The unit of work: one transaction on one pooled connection, rolled back unless committed."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from taskapp.adapters.postgres.downloads import PostgresDownloadLog
from taskapp.adapters.postgres.errors import translate
from taskapp.adapters.postgres.history import PostgresHistoryLog
from taskapp.adapters.postgres.idempotency import PostgresIdempotencyKeys
from taskapp.adapters.postgres.refresh_tokens import PostgresRefreshTokenRepository
from taskapp.adapters.postgres.reviews import PostgresReviewRepository
from taskapp.adapters.postgres.tasks import PostgresTaskRepository
from taskapp.adapters.postgres.users import PostgresUserRepository
from taskapp.domain.errors import ServiceUnavailable


class PostgresUnitOfWork:
    users: PostgresUserRepository
    refresh_tokens: PostgresRefreshTokenRepository
    tasks: PostgresTaskRepository
    history: PostgresHistoryLog
    idempotency_keys: PostgresIdempotencyKeys
    downloads: PostgresDownloadLog
    reviews: PostgresReviewRepository

    def __init__(
        self, engine: AsyncEngine, gate: ConnectionGate, *, read_only: bool = False
    ) -> None:
        self._engine = engine
        self._gate = gate
        self._read_only = read_only
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        await self._gate.enter()
        try:
            connection = await self._engine.connect()
            if not self._read_only:
                await connection.begin()
        except BaseException as error:
            self._gate.leave()
            raise translate(error) from error
        self._connection = connection
        self.users = PostgresUserRepository(connection)
        self.refresh_tokens = PostgresRefreshTokenRepository(connection)
        self.tasks = PostgresTaskRepository(connection)
        self.history = PostgresHistoryLog(connection)
        self.idempotency_keys = PostgresIdempotencyKeys(connection)
        self.downloads = PostgresDownloadLog(connection)
        self.reviews = PostgresReviewRepository(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        # A broken connection may fail both; close() still returns it to (or drops it from)
        # the pool, and the original error is what matters.
        try:
            with suppress(Exception):
                if connection.in_transaction():
                    await connection.rollback()
            with suppress(Exception):
                await connection.close()
        finally:
            self._gate.leave()
        if isinstance(exc, Exception):
            translated = translate(exc)
            if translated is not exc:
                raise translated from exc

    async def commit(self) -> None:
        if self._connection is None or self._read_only:
            raise RuntimeError("commit() outside a writing unit of work")
        try:
            await self._connection.commit()
        except Exception as error:
            raise translate(error) from error

    async def rollback(self) -> None:
        if self._connection is not None and self._connection.in_transaction():
            await self._connection.rollback()


class ConnectionGate:
    """First come, first served access to the pool.

    SQLAlchemy's pool does not hand connections to waiters in arrival order; under a burst
    (256 connections on a pool of 20) some requests starved past the pool timeout while
    later ones got through. An asyncio.Semaphore queues fairly, and its wait is bounded by
    the same timeout, after which the answer is a 503.
    """

    def __init__(self, capacity: int, timeout_seconds: float) -> None:
        self._slots = asyncio.Semaphore(capacity)
        self._timeout = timeout_seconds

    async def enter(self) -> None:
        try:
            await asyncio.wait_for(self._slots.acquire(), self._timeout)
        except TimeoutError:
            raise ServiceUnavailable("The database is busy; try again shortly") from None

    def leave(self) -> None:
        self._slots.release()


class PostgresUnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine, gate: ConnectionGate | None = None) -> None:
        self._engine = engine
        pool = engine.sync_engine.pool
        capacity = pool.size() + max(pool._max_overflow, 0)  # type: ignore[attr-defined]
        self._gate = gate or ConnectionGate(capacity, pool._timeout)  # type: ignore[attr-defined]
        # Same pool; connections checked out through it run without a transaction.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    def __call__(self, *, read_only: bool = False) -> PostgresUnitOfWork:
        if read_only:
            return PostgresUnitOfWork(self._autocommit, self._gate, read_only=True)
        return PostgresUnitOfWork(self._engine, self._gate)
