"""The one execution path to PostgreSQL: an asyncpg pool per process, behind a fair gate.

Every adapter runs its statements through `Database`; nothing else opens connections for
requests. The pool opens lazily on first use (no start-up hook needed), and every driver
error is translated here into a domain error, so nothing above sees asyncpg.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec

from taskapp.adapters.postgres.errors import translate
from taskapp.domain.errors import ServiceUnavailable

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


class FairGate:
    """First come, first served access to the pool, with a bounded wait.

    asyncpg's pool (like SQLAlchemy's) does not serve waiters in arrival order: under a burst
    a woken waiter loses to newcomers, and the unlucky ones starve past any timeout. Here a
    freed slot is handed straight to the oldest waiter; a newcomer waits behind it.
    """

    def __init__(self, capacity: int, timeout_seconds: float) -> None:
        self._free = capacity
        self._timeout = timeout_seconds
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def __aenter__(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._timeout):
                await waiter
        except TimeoutError:
            self._give_up(waiter)
            raise ServiceUnavailable("The database is busy; try again shortly") from None
        except BaseException:
            self._give_up(waiter)
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes to the oldest waiter directly
                return
        self._free += 1

    def _give_up(self, waiter: asyncio.Future[None]) -> None:
        if waiter.done() and not waiter.cancelled():
            self.release()  # the slot arrived just as we gave up: pass it on
        else:
            waiter.cancel()
            # Cancelled waiters are skipped by release(); drop them from the front now.
            while self._waiters and self._waiters[0].done():
                self._waiters.popleft()


async def _init_connection(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec(
        "jsonb",
        encoder=lambda value: msgspec.json.encode(value).decode(),
        decoder=msgspec.json.decode,
        schema="pg_catalog",
    )


async def _reset_connection(connection: asyncpg.Connection) -> None:
    """Instead of asyncpg's default reset query (a round trip on every release): requests
    leave no session state behind (no LISTEN, advisory locks, SET or cursors), so only an
    open transaction, left by an error, needs undoing."""
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


class Database:
    def __init__(self, url: str, settings: PoolSettings | None = None) -> None:
        self._dsn = driver_dsn(url)
        self.settings = settings or PoolSettings()
        self.gate = FairGate(self.settings.pool_size, self.settings.pool_timeout_seconds)
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                settings = self.settings
                statement_timeout_ms = int(settings.statement_timeout_seconds * 1000)
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=0,
                    max_size=settings.pool_size,
                    max_inactive_connection_lifetime=300,
                    init=_init_connection,
                    reset=_reset_connection,
                    timeout=settings.connect_timeout_seconds,
                    # A little above the server's own limit: a backstop when the server
                    # stops answering altogether (a network partition).
                    command_timeout=settings.statement_timeout_seconds + 1,
                    statement_cache_size=100 if settings.statement_cache else 0,
                    server_settings={
                        "application_name": "taskapp",
                        "statement_timeout": str(statement_timeout_ms),
                        "idle_in_transaction_session_timeout": str(
                            max(statement_timeout_ms * 2, 60_000)
                        ),
                    },
                )
            return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection for one unit of work, in arrival order."""
        async with self.gate:
            try:
                pool = self._pool or await self._open()
                async with pool.acquire(timeout=self.settings.pool_timeout_seconds) as conn:
                    yield conn
            except Exception as error:
                raise translate(error) from error

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self.connection() as conn:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
            return rows

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        async with self.connection() as conn:
            row: asyncpg.Record | None = await conn.fetchrow(sql, *args)
            return row

    async def execute(self, sql: str, *args: Any) -> str:
        async with self.connection() as conn:
            status: str = await conn.execute(sql, *args)
            return status

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
        pool = self._pool
        size = 0 if pool is None else pool.get_size()
        idle = 0 if pool is None else pool.get_idle_size()
        return {
            "size": self.settings.pool_size,
            "open": size,
            "in_use": size - idle,
            "idle": idle,
            "waiting": self.gate.waiting,
        }

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), 10)
            except (TimeoutError, Exception):
                pool.terminate()
