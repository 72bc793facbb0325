"""API tokens in PostgreSQL, answered from memory on the request path.

- `add` takes the limit per user under a lock on the user's row (two creates at the limit
  cannot both get in); `list_for` and `revoke` are one statement each.
- `find` answers from `ApiTokenCache`; a miss is one indexed read by hash.
- Revocation reaches every process at once: deleting a row fires a trigger (migration 0009)
  that NOTIFYs `taskapp_token_revoked` with the token's id on commit. Each process holds one
  dedicated connection that LISTENs (`RevocationListener`, started on the first lookup) and
  drops the token from its cache. The listener pings itself through the same channel every
  few seconds; while it is down, or its pings do not come back (a proxy that drops
  notifications, a dead network path), the cache trusts an entry for two seconds only.
- `revoke` returns once this process has heard its own notice (within a second), so by the
  time the client gets its 200, PostgreSQL has sent the notice to every listener.
- `record_use` writes `last_used_at` in the background, and the UPDATE itself skips a row
  written less than a minute ago (other processes may have done it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from taskapp.adapters.api_token_cache import ApiTokenCache
from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.errors import translate
from taskapp.domain.errors import ServiceUnavailable
from taskapp.domain.model.api_tokens import (
    API_TOKEN_USE_RECORD_INTERVAL,
    ApiToken,
    Scope,
    sorted_scopes,
)

logger = logging.getLogger(__name__)

CHANNEL = "taskapp_token_revoked"
_PING_PREFIX = "ping:"
_COLUMNS = "id, user_id, name, token_hash, scopes, created_at, expires_at, last_used_at"
_LOCK_OWNER = "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE"
_ADD_UNDER_LIMIT = (
    f"INSERT INTO api_tokens ({_COLUMNS}) "
    "SELECT $1, $2, $3, $4, $5::text[], $6, $7, NULL "
    "WHERE (SELECT count(*) FROM api_tokens WHERE user_id = $2) < $8 RETURNING 1"
)
_LIST = f"SELECT {_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id"
_FIND = f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = $1"
_REVOKE = "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2 RETURNING id"
_RECORD_USE = (
    "UPDATE api_tokens SET last_used_at = $2 "
    "WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)"
)
_PING = "SELECT pg_notify($1, $2)"
# Keepalives; and the pings' own notices need no flush to disk: a notifying commit holds
# the server-wide notification lock until its commit is done, so with a slow disk a ping
# that waited for the flush could miss its timeout and end every stream for nothing.
_KEEPALIVES = (
    "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; "
    "SET tcp_keepalives_count = 3; SET synchronous_commit = off"
)
_MAX_PENDING_USE_WRITES = 64


def _token(row: Any) -> ApiToken:
    return ApiToken(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        token_hash=row["token_hash"],
        scopes=frozenset(Scope(value) for value in row["scopes"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
    )


class RevocationListener:
    """One LISTEN connection per process, kept alive and proven by pinging itself.

    Other channels ride on the same connection (`also_listen`: the live events' change
    notices), told when it comes up (notices may have been lost before) and goes down.
    Session state that must live exactly as long as this process hears notices (the event
    streams' advisory locks) is kept on it too (`on_session`): each connection has its own
    `generation`, and what was taken on one is gone with it."""

    def __init__(
        self,
        database: Database,
        cache: ApiTokenCache,
        *,
        ping_interval_seconds: float = 5.0,
        ping_timeout_seconds: float = 2.0,
        max_retry_seconds: float = 5.0,
        enabled: bool = True,
    ) -> None:
        self._db = database
        # Off where no session can be held (a transaction pooler and no direct URL) or the
        # process does not outlive its requests (serverless): the cache then stays
        # untrusted, so a revocation takes effect within its untrusted TTL (2 s).
        self.enabled = enabled and database.holds_sessions
        self._cache = cache
        self._ping_interval = ping_interval_seconds
        self._ping_timeout = ping_timeout_seconds
        self._max_retry = max_retry_seconds
        self._task: asyncio.Task[None] | None = None
        self._echoes: dict[str, asyncio.Future[None]] = {}
        self._connected = False
        self._channels: dict[str, Callable[[str], None]] = {}
        self._watchers: list[Callable[[bool], None]] = []
        self._connection: asyncpg.Connection | None = None
        self._generation = 0
        self._up = asyncio.Event()
        self._statement = asyncio.Lock()  # one statement at a time on the connection

    def also_listen(
        self, channel: str, on_notice: Callable[[str], None], on_state: Callable[[bool], None]
    ) -> None:
        """Hear `channel` too (from the next connection on); `on_state(True)` once each
        connection is proven, `on_state(False)` whenever one is lost or cannot be made."""
        self._channels[channel] = on_notice
        self._watchers.append(on_state)

    def _tell(self, up: bool) -> None:
        for watcher in self._watchers:
            try:
                watcher(up)
            except Exception:
                logger.exception("a listener watcher failed")

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def generation(self) -> int:
        """Counts the connections proven so far; the current one's while `connected`."""
        return self._generation

    async def wait_up(self, timeout_seconds: float) -> int:
        """The generation of the proven connection, waiting for one up to `timeout_seconds`;
        ServiceUnavailable if none comes."""
        self.ensure_started()
        try:
            async with asyncio.timeout(timeout_seconds):
                await self._up.wait()
        except TimeoutError:
            raise ServiceUnavailable("The database is unavailable") from None
        return self._generation

    async def on_session(self, generation: int, sql: str, *args: Any) -> Any:
        """The value of one statement run on connection `generation` itself, if it is still
        the current one (else ServiceUnavailable: what was taken on it is gone)."""
        async with self._statement:
            connection = self._connection
            if connection is None or generation != self._generation:
                raise ServiceUnavailable("The database connection was lost")
            try:
                return await connection.fetchval(sql, *args, timeout=self._ping_timeout)
            except Exception as error:
                raise translate(error) from error

    def ensure_started(self) -> None:
        if not self.enabled:
            return
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def expect(self, payload: str) -> asyncio.Future[None]:
        """A future set when a notice with `payload` arrives (ask before causing it)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._echoes[payload] = waiter
        return waiter

    async def wait_for(self, payload: str, waiter: asyncio.Future[None], seconds: float) -> None:
        try:
            if self._connected and seconds > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiter), seconds)
        finally:
            self._echoes.pop(payload, None)
            waiter.cancel()

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        waiter = self._echoes.pop(payload, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if payload.startswith(_PING_PREFIX):
            return
        try:
            self._cache.forget(UUID(payload))
        except ValueError:
            logger.warning("ignored a malformed notice on %s", CHANNEL)

    async def _run(self) -> None:
        delay = 0.2
        while True:
            connection: asyncpg.Connection | None = None
            lost = asyncio.Event()
            try:
                connection = await self._db.dedicated_connection(self._ping_timeout)
                connection.add_termination_listener(lambda _, lost=lost: lost.set())
                # A backend whose client vanished (a partition) goes, and its advisory
                # locks with it, within about 25 s instead of the OS's two hours.
                await connection.execute(_KEEPALIVES, timeout=self._ping_timeout)
                await connection.add_listener(CHANNEL, self._notified)
                for channel, on_notice in self._channels.items():
                    await connection.add_listener(
                        channel, lambda _c, _p, _ch, payload, call=on_notice: call(payload)
                    )
                await self._ping(connection)
                self._cache.trust()
                self._connection = connection
                self._generation += 1
                self._up.set()
                self._connected = True
                self._tell(True)
                delay = 0.2
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self._ping_interval)
                    if not lost.is_set():
                        await self._ping(connection)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is away: retry, distrusting the cache
                logger.warning("API token revocation listener down: %s", type(error).__name__)
            finally:
                self._connected = False
                self._connection = None
                self._up.clear()
                self._cache.distrust()
                self._tell(False)
                if connection is not None:
                    connection.terminate()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_retry)

    async def _ping(self, connection: asyncpg.Connection) -> None:
        """Send a notice to ourselves and see it come back: the whole path works."""
        payload = f"{_PING_PREFIX}{uuid.uuid4().hex}"
        waiter = self.expect(payload)
        try:
            async with asyncio.timeout(self._ping_timeout):
                async with self._statement:
                    await connection.execute(_PING, CHANNEL, payload)
                await waiter
        finally:
            self._echoes.pop(payload, None)
            waiter.cancel()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None


class PostgresApiTokens:
    """Both ports: `ApiTokenStore` (create, list, revoke) and `ApiTokenLookup` (find)."""

    def __init__(
        self, database: Database, cache: ApiTokenCache | None = None, *, listen: bool = True
    ) -> None:
        self._db = database
        self.cache = cache or ApiTokenCache()
        self.listener = RevocationListener(database, self.cache, enabled=listen)
        self._pending_use_writes: set[asyncio.Task[None]] = set()

    async def add(self, token: ApiToken, limit: int) -> bool:
        async with self._db.connection() as connection, connection.transaction():
            await connection.execute(_LOCK_OWNER, token.user_id)
            inserted = await connection.fetchval(
                _ADD_UNDER_LIMIT,
                token.id,
                token.user_id,
                token.name,
                token.token_hash,
                sorted_scopes(token.scopes),
                token.created_at,
                token.expires_at,
                limit,
            )
        return inserted is not None

    async def list_for(self, user_id: UUID) -> list[ApiToken]:
        return [_token(row) for row in await self._db.fetch(_LIST, user_id)]

    async def revoke(self, user_id: UUID, token_id: UUID) -> bool:
        payload = str(token_id)
        self.listener.ensure_started()
        echo = self.listener.expect(payload)
        row = await self._db.fetchrow(_REVOKE, token_id, user_id)
        self.cache.forget(token_id)
        if row is None:
            await self.listener.wait_for(payload, echo, 0)
            return False
        await self.listener.wait_for(payload, echo, 1.0)
        return True

    async def find(self, token_hash: str) -> ApiToken | None:
        cached = self.cache.get(token_hash)
        if cached is not None:
            return cached
        self.listener.ensure_started()
        generation = self.cache.generation
        row = await self._db.fetchrow(_FIND, token_hash)
        if row is None:
            return None
        token = _token(row)
        self.cache.put(token, generation)
        return token

    def record_use(self, token_id: UUID, at: datetime) -> None:
        if len(self._pending_use_writes) >= _MAX_PENDING_USE_WRITES:
            return  # best effort: the next use a minute later records it
        task = asyncio.get_running_loop().create_task(self._write_use(token_id, at))
        self._pending_use_writes.add(task)
        task.add_done_callback(self._pending_use_writes.discard)

    async def _write_use(self, token_id: UUID, at: datetime) -> None:
        try:
            await self._db.execute(_RECORD_USE, token_id, at, at - API_TOKEN_USE_RECORD_INTERVAL)
        except Exception as error:  # a missed last_used_at is no reason to fail anything
            logger.info("could not record an API token's use: %s", type(error).__name__)

    async def close(self) -> None:
        await self.listener.close()
        if self._pending_use_writes:
            await asyncio.wait(set(self._pending_use_writes), timeout=2)
        for task in set(self._pending_use_writes):
            task.cancel()
