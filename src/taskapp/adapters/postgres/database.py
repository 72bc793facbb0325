"""The one execution path to PostgreSQL: a fair pool of asyncpg connections per process.

Every adapter runs its statements through `Database`; nothing else opens connections for
requests. Connections open lazily on first use (no start-up hook needed), and every driver
error is translated here into a domain error, so nothing above sees asyncpg.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec

from taskapp.adapters.postgres.errors import translate
from taskapp.adapters.postgres.pool import FairPool

_ACCEPTED_SCHEMES = ("postgres", "postgresql", "postgresql+asyncpg")


@dataclass(frozen=True, slots=True)
class PoolSettings:
    pool_size: int = 20
    pool_timeout_seconds: float = 5.0
    connect_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 15.0
    statement_cache: bool = True  # off behind PgBouncer in transaction mode


def driver_dsn(url: str) -> str:
    """Accept postgres://, postgresql:// and postgresql+asyncpg://; asyncpg wants the plain
    postgresql:// form."""
    parts = urlsplit(url)
    if parts.scheme not in _ACCEPTED_SCHEMES:
        raise ValueError(f"unsupported database URL scheme {parts.scheme!r}; use postgresql://")
    return urlunsplit(parts._replace(scheme="postgresql"))


def sqlalchemy_url(url: str) -> str:
    """The same database for SQLAlchemy's asyncpg dialect (Alembic's env)."""
    return "postgresql+asyncpg" + driver_dsn(url).removeprefix("postgresql")


async def _init_connection(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda value: msgspec.json.encode(value).decode(),
        decoder=msgspec.json.decode,
        schema="pg_catalog",
    )


class Database:
    def __init__(self, url: str, settings: PoolSettings | None = None) -> None:
        self._dsn = driver_dsn(url)
        self.settings = settings or PoolSettings()
        self.pool = FairPool(
            self._connect, self.settings.pool_size, self.settings.pool_timeout_seconds
        )

    async def _connect(self) -> asyncpg.Connection:
        settings = self.settings
        statement_timeout_ms = int(settings.statement_timeout_seconds * 1000)
        connection: asyncpg.Connection = await asyncpg.connect(
            self._dsn,
            timeout=settings.connect_timeout_seconds,
            # A little above the server's own limit: a backstop when the server stops
            # answering altogether (a network partition).
            command_timeout=settings.statement_timeout_seconds + 1,
            statement_cache_size=100 if settings.statement_cache else 0,
            server_settings={
                "application_name": "taskapp",
                "statement_timeout": str(statement_timeout_ms),
                "idle_in_transaction_session_timeout": str(max(statement_timeout_ms * 2, 60_000)),
            },
        )
        try:
            await _init_connection(connection)
        except BaseException:
            connection.terminate()
            raise
        return connection

    def connection(self) -> PooledConnection:
        """A pooled connection for one unit of work, in arrival order:
        `async with database.connection() as conn:`."""
        return PooledConnection(self.pool)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        connection = await self._acquire()
        try:
            rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
        except Exception as error:
            raise translate(error) from error
        finally:
            self.pool.release(connection)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        connection = await self._acquire()
        try:
            row: asyncpg.Record | None = await connection.fetchrow(sql, *args)
        except Exception as error:
            raise translate(error) from error
        finally:
            self.pool.release(connection)
        return row

    async def execute(self, sql: str, *args: Any) -> str:
        connection = await self._acquire()
        try:
            status: str = await connection.execute(sql, *args)
        except Exception as error:
            raise translate(error) from error
        finally:
            self.pool.release(connection)
        return status

    async def _acquire(self) -> asyncpg.Connection:
        try:
            return await self.pool.acquire()
        except Exception as error:
            raise translate(error) from error

    async def probe(self, sql: str, timeout_seconds: float) -> Sequence[Any] | None:
        """One row of `sql` within `timeout_seconds`, on a fresh connection past the pool
        and the gate: readiness must answer quickly even when the pool is exhausted or the
        database hangs."""
        conn: asyncpg.Connection | None = None
        try:
            async with asyncio.timeout(timeout_seconds):
                conn = await asyncpg.connect(self._dsn, timeout=timeout_seconds)
                row = await conn.fetchrow(sql)
        except Exception as error:
            raise translate(error) from error
        finally:
            if conn is not None:
                conn.terminate()
        return None if row is None else tuple(row)

    async def dedicated_connection(self, timeout_seconds: float) -> asyncpg.Connection:
        """A connection of its own, past the pool and the gate, for a session that stays
        open (the API tokens' LISTEN). The caller closes it."""
        try:
            async with asyncio.timeout(timeout_seconds):
                connection: asyncpg.Connection = await asyncpg.connect(
                    self._dsn,
                    timeout=timeout_seconds,
                    server_settings={"application_name": "taskapp-listener"},
                )
                return connection
        except Exception as error:
            raise translate(error) from error

    def gauges(self) -> dict[str, int]:
        """Pool figures for the metrics endpoint."""
        pool = self.pool
        return {
            "size": pool.size,
            "open": pool.open,
            "in_use": pool.open - pool.idle,
            "idle": pool.idle,
            "waiting": pool.waiting,
        }

    async def close(self) -> None:
        await self.pool.close()


class PooledConnection:
    """`async with` a connection from the pool; driver errors leave as domain errors."""

    __slots__ = ("_connection", "_pool")

    def __init__(self, pool: FairPool) -> None:
        self._pool = pool
        self._connection: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        try:
            self._connection = await self._pool.acquire()
        except Exception as error:
            raise translate(error) from error
        return self._connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            if connection.is_in_transaction() and not connection.is_closed():
                # An error left a transaction open: undo it and keep the connection (a
                # broken one is dropped on release).
                with contextlib.suppress(Exception):
                    await connection.execute("ROLLBACK")
            self._pool.release(connection)
        if isinstance(exc, Exception):
            translated = translate(exc)
            if translated is not exc:
                raise translated from exc
