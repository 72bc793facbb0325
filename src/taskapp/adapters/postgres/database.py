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
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import msgspec

from taskapp.adapters.postgres.errors import translate
from taskapp.adapters.postgres.pool import FairPool
from taskapp.domain.errors import ServiceUnavailable

_ACCEPTED_SCHEMES = ("postgres", "postgresql", "postgresql+asyncpg")
_LIBPQ_ONLY_OPTIONS = frozenset({"channel_binding"})


@dataclass(frozen=True, slots=True)
class PoolSettings:
    pool_size: int = 20
    pool_timeout_seconds: float = 5.0
    connect_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 15.0
    statement_cache: bool = True  # off behind PgBouncer in transaction mode
    # Behind a pooler in transaction mode (PgBouncer, Neon's pooled endpoint): no statement
    # cache (asyncpg then sends each statement unnamed, parsed again with its Bind, so both
    # reach the same server connection) and no session settings at connect (PgBouncer
    # refuses startup parameters it does not know, and a SET would leak to other clients).
    transaction_pooler: bool = False


def driver_dsn(url: str) -> str:
    """Accept postgres://, postgresql:// and postgresql+asyncpg://; asyncpg wants the plain
    postgresql:// form. libpq-only options asyncpg does not know are dropped: asyncpg would
    send them to the server as settings, which refuses them (Neon's connection strings
    carry `channel_binding=require`; the connection is still TLS with `sslmode`)."""
    parts = urlsplit(url)
    if parts.scheme not in _ACCEPTED_SCHEMES:
        raise ValueError(f"unsupported database URL scheme {parts.scheme!r}; use postgresql://")
    query = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if k not in _LIBPQ_ONLY_OPTIONS]
    if len(kept) != len(query):
        parts = parts._replace(query=urlencode(kept, safe="/:"))
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
    def __init__(
        self, url: str, settings: PoolSettings | None = None, *, direct_url: str | None = None
    ) -> None:
        """`url` serves requests; `direct_url` (default: `url`, unless that goes through a
        transaction pooler) is for sessions that must stay on one server connection."""
        self._dsn = driver_dsn(url)
        self.settings = settings or PoolSettings()
        pooled = self.settings.transaction_pooler
        if direct_url is not None:
            self._session_dsn: str | None = driver_dsn(direct_url)
        else:
            self._session_dsn = None if pooled else self._dsn
        self._statement_cache_size = 100 if self.settings.statement_cache and not pooled else 0
        self.pool = FairPool(
            self._connect, self.settings.pool_size, self.settings.pool_timeout_seconds
        )

    @property
    def holds_sessions(self) -> bool:
        """Whether a connection of its own can keep a session (LISTEN): false behind a
        transaction pooler with no direct URL."""
        return self._session_dsn is not None

    def _server_settings(self) -> dict[str, str]:
        if self.settings.transaction_pooler:
            # PgBouncer passes application_name on; the statement timeout then comes from the
            # role (README: ALTER ROLE ... SET statement_timeout) and the command timeout.
            return {"application_name": "taskapp"}
        statement_timeout_ms = int(self.settings.statement_timeout_seconds * 1000)
        return {
            "application_name": "taskapp",
            "statement_timeout": str(statement_timeout_ms),
            "idle_in_transaction_session_timeout": str(max(statement_timeout_ms * 2, 60_000)),
        }

    async def _connect(self) -> asyncpg.Connection:
        settings = self.settings
        connection: asyncpg.Connection = await asyncpg.connect(
            self._dsn,
            timeout=settings.connect_timeout_seconds,
            # A little above the server's own limit: a backstop when the server stops
            # answering altogether (a network partition), and the only limit behind a
            # pooler when the role sets none (the driver cancels the statement).
            command_timeout=settings.statement_timeout_seconds + 1,
            statement_cache_size=self._statement_cache_size,
            server_settings=self._server_settings(),
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
                conn = await asyncpg.connect(
                    self._dsn, timeout=timeout_seconds, statement_cache_size=0
                )
                row = await conn.fetchrow(sql)
        except Exception as error:
            raise translate(error) from error
        finally:
            if conn is not None:
                conn.terminate()
        return None if row is None else tuple(row)

    async def dedicated_connection(self, timeout_seconds: float) -> asyncpg.Connection:
        """A connection of its own, past the pool and the gate, for a session that stays
        open (the API tokens' LISTEN): to the direct URL behind a transaction pooler. The
        caller closes it."""
        if self._session_dsn is None:
            raise ServiceUnavailable("No direct database connection is configured")
        try:
            async with asyncio.timeout(timeout_seconds):
                connection: asyncpg.Connection = await asyncpg.connect(
                    self._session_dsn,
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

    def abandon(self) -> None:
        """Drop every idle connection without waiting: for a pool whose event loop has
        ended (a serverless runtime may run each invocation on a loop of its own)."""
        self.pool.abandon()


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
