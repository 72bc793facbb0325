"""Change notices, sent after the writes have committed, not from inside them.

Every instance's event streams wait on `NOTIFY taskapp_changes` (sync.PostgresChangeFeed).
Sending a notice from the writing transaction (migration 0011's triggers, until 0014) made
every write take, at commit, the one lock of the whole server that keeps the notification
queue in commit order, held through the commit's WAL flush: notifying commits could not
overlap (docs/performance.md, "Sync and live events"). Instead, a unit of work that logged
changes tells the process's `ChangeNotifier` whose log grew once it has committed (in
memory: the request never waits for it), and the notifier sends what gathered on its own
connection, as `SELECT pg_notify('taskapp_changes', '<id>,<id>,...')`: at once when it was
idle, then at most every `interval_seconds` (5 ms) while changes keep coming, one
statement for everything gathered (several notices when the ids exceed the 8000-byte
payload limit). That connection runs with `synchronous_commit = off`: the notice's own tiny
commit holds the lock only as long as it takes to write, not to flush.

Notices are best effort, by design (decision 0015, revised): one is lost when the process
dies between a commit and its notice, or when the notifier's connection is away. That
delays an event, never loses it: every stream re-reads the log at each heartbeat
(EVENTS_HEARTBEAT_SECONDS) and when it reconnects, and the log is in the database.

A process that does not outlive its requests (serverless) starts no background work: it
sends each unit's notice itself, through the pool, right after the commit (one round trip
more per write there, errors swallowed), so a long-running instance beside the functions
still streams their changes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from uuid import UUID

import asyncpg

from taskapp.adapters.postgres.database import Database

logger = logging.getLogger(__name__)

CHANNEL = "taskapp_changes"
# A notice's payload must stay under 8000 bytes: 36 characters per id and a comma each.
IDS_PER_NOTICE = 200
_SEND = "SELECT count(pg_notify($1, payload)) FROM unnest($2::text[]) AS payload"
_ASYNC_COMMIT = "SET synchronous_commit = off"
# Pending ids beyond this are dropped (streams catch up at their heartbeat): memory stays
# bounded while the database is away.
_MAX_PENDING = 50_000


def payloads(user_ids: Iterable[UUID]) -> list[str]:
    """The notices' payloads for these users: comma-separated ids, each under the limit."""
    ids = [str(user_id) for user_id in user_ids]
    return [",".join(ids[i : i + IDS_PER_NOTICE]) for i in range(0, len(ids), IDS_PER_NOTICE)]


def parse(payload: str) -> tuple[list[UUID], bool]:
    """The user ids in a notice, and whether any part of it was malformed."""
    found: list[UUID] = []
    malformed = False
    for part in payload.split(","):
        try:
            found.append(UUID(part))
        except ValueError:
            malformed = True
    return found, malformed


class ChangeNotifier:
    """One per process: gathers the users whose logs grew and tells every listener."""

    def __init__(
        self,
        database: Database,
        *,
        long_lived: bool = True,
        interval_seconds: float = 0.005,
        connect_timeout_seconds: float = 2.0,
        max_retry_seconds: float = 5.0,
    ) -> None:
        self._db = database
        self._background = long_lived
        self._interval = interval_seconds
        self._timeout = connect_timeout_seconds
        self._max_retry = max_retry_seconds
        self._pending: dict[UUID, None] = {}  # insertion-ordered set
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._connection: asyncpg.Connection | None = None
        self._closed = False
        self.sent = 0  # notices sent: for tests and the curious

    def changed(self, user_ids: Iterable[UUID]) -> None:
        """These users' logs grew in a unit of work that has committed. Never blocks."""
        if self._closed:
            return
        for user_id in user_ids:
            if len(self._pending) >= _MAX_PENDING:
                break
            self._pending[user_id] = None
        if not self._pending:
            return
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def send_now(self, user_ids: Iterable[UUID]) -> None:
        """Send at once through the pool (a process with no background work): best effort."""
        batch = payloads(dict.fromkeys(user_ids))
        if not batch or self._closed:
            return
        try:
            await self._db.execute(_SEND, CHANNEL, batch)
            self.sent += len(batch)
        except Exception as error:  # the write has committed: a lost notice only delays
            logger.info("could not send a change notice: %s", type(error).__name__)

    @property
    def background(self) -> bool:
        return self._background

    async def _run(self) -> None:
        assert self._wake is not None
        delay = 0.2
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, {}
            if not batch:
                continue
            try:
                await self._send(list(batch))
                delay = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as error:  # lost: streams catch up at their next heartbeat
                logger.warning("change notices not sent: %s", type(error).__name__)
                self._drop_connection()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_retry)
                continue
            # Changes that come meanwhile gather for one statement: at most one per interval.
            await asyncio.sleep(self._interval)

    async def _send(self, user_ids: list[UUID]) -> None:
        batch = payloads(user_ids)
        if not self._db.holds_sessions:  # behind a transaction pooler: NOTIFY goes through
            await self._db.execute(_SEND, CHANNEL, batch)
        else:
            connection = self._connection
            if connection is None or connection.is_closed():
                connection = await self._db.dedicated_connection(self._timeout)
                self._connection = connection
                await connection.execute(_ASYNC_COMMIT, timeout=self._timeout)
            await connection.fetchval(_SEND, CHANNEL, batch, timeout=self._timeout)
        self.sent += len(batch)

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.terminate()

    async def close(self) -> None:
        """Stop, send what is still pending (for a second at most), close the connection."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        pending, self._pending = list(self._pending), {}
        if pending:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._send(pending), 1.0)
        self._drop_connection()
