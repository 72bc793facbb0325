"""The unit of work: one transaction on one pooled connection, rolled back unless committed."""

from __future__ import annotations

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


class PostgresUnitOfWork:
    users: PostgresUserRepository
    refresh_tokens: PostgresRefreshTokenRepository
    tasks: PostgresTaskRepository
    history: PostgresHistoryLog
    idempotency_keys: PostgresIdempotencyKeys
    downloads: PostgresDownloadLog
    reviews: PostgresReviewRepository

    def __init__(self, engine: AsyncEngine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> Self:
        try:
            connection = await self._engine.connect()
            if not self._read_only:
                await connection.begin()
        except Exception as error:
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
        with suppress(Exception):
            if connection.in_transaction():
                await connection.rollback()
        with suppress(Exception):
            await connection.close()
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


class PostgresUnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # Same pool; connections checked out through it run without a transaction.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    def __call__(self, *, read_only: bool = False) -> PostgresUnitOfWork:
        if read_only:
            return PostgresUnitOfWork(self._autocommit, read_only=True)
        return PostgresUnitOfWork(self._engine)
