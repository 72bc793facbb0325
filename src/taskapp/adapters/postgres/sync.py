"""Sync and live events in PostgreSQL: the change log's reads, tickets, and change notices.

The log is `task_history` (tasks) and `list_changes` (lists, written by a trigger), both
numbered from one sequence under the user's `history_counts` row lock, so within one user
`seq` order is commit order and a reader's snapshot always holds a prefix of the log.

- `changes` walks the log after the cursor in order, keeps each object's latest change
  only, and looks up each one's current row: one statement, one snapshot, and a page costs
  its own entries (and the superseded ones among them), not the whole log after the cursor.
- `events` reads the log after a position in order, with each object's current row.
- The change notices (`NOTIFY taskapp_changes, '<user id>,<user id>,...'`, sent after the
  writes commit by each process's `ChangeNotifier`, change_notices.py) ride on the
  process's one LISTEN connection (api_tokens.RevocationListener) and are fanned out in
  memory by a `ChangeHub`. They are best effort: a lost notice delays an event until the
  stream's next heartbeat or reconnection, when it re-reads the log; it never loses one.
- A stream's place among its user's (`PostgresStreamSlots`) is a session-level advisory lock
  on that same connection (decision 0017): counted across instances, and gone with the
  connection, when every stream of the process ends anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from taskapp.adapters.change_feed import ChangeHub, HubSubscription
from taskapp.adapters.postgres.api_tokens import RevocationListener
from taskapp.adapters.postgres.change_notices import CHANNEL, parse
from taskapp.adapters.postgres.database import Database
from taskapp.adapters.postgres.statements import column_list
from taskapp.adapters.postgres.tasks_shape import TASK_COLUMNS, to_task
from taskapp.adapters.postgres.unit_of_work import Write
from taskapp.domain.errors import ServiceUnavailable
from taskapp.domain.model import TaskList
from taskapp.domain.model.sync import (
    TICKET_TTL_SECONDS,
    ChangeEvent,
    EventType,
    SyncCursor,
    SyncPage,
)

logger = logging.getLogger(__name__)

# Live events ride on a LISTEN session: none behind a transaction pooler without
# DATABASE_DIRECT_URL, nor in a serverless function (README, "Serverless").
LIVE_EVENTS_UNAVAILABLE = (
    "Live events are not available on this deployment (they need a long-running server "
    "with a direct database connection); poll GET /api/v1/sync instead"
)
LIST_COLUMNS = tuple(field.name for field in fields(TaskList))

_TASK = column_list(TASK_COLUMNS, "t.")
_LIST = column_list(LIST_COLUMNS, "l.")
# The page's rows, each with its object's current row (none once deleted). LIMIT 1 keeps
# each lookup a per-row index probe (without it the planner may hash all the user's tasks).
_OBJECTS = (
    f"SELECT page.kind, page.id, page.seq, page.action, {_TASK}, {_LIST} FROM page "
    "LEFT JOIN LATERAL (SELECT * FROM tasks t "
    "WHERE page.kind = 'task' AND t.id = page.id AND t.user_id = $1 LIMIT 1) t ON true "
    "LEFT JOIN LATERAL (SELECT * FROM lists l "
    "WHERE page.kind = 'list' AND l.id = page.id AND l.user_id = $1 LIMIT 1) l ON true "
    "ORDER BY page.seq"
)
# $1 user, $2 after, $3 limit + 1. Each log is walked in `seq` order from the cursor, keeping
# an entry only if no later entry of its object exists (it is the object's latest); the two
# walks are merged and cut at the limit. A page reads its own entries and the superseded
# ones among them (one index probe each), so a full sync reads each log about once.
_CHANGES = (
    "WITH page AS (SELECT * FROM ("
    "(SELECT 'task' AS kind, h.task_id AS id, h.seq, '' AS action FROM task_history h "
    "WHERE h.user_id = $1 AND h.seq > $2 AND NOT EXISTS (SELECT FROM task_history n "
    "WHERE n.user_id = $1 AND n.task_id = h.task_id AND n.seq > h.seq) "
    "ORDER BY h.seq LIMIT $3) "
    "UNION ALL "
    "(SELECT 'list', c.list_id, c.seq, '' FROM list_changes c "
    "WHERE c.user_id = $1 AND c.seq > $2 AND NOT EXISTS (SELECT FROM list_changes n "
    "WHERE n.user_id = $1 AND n.list_id = c.list_id AND n.seq > c.seq) "
    "ORDER BY c.seq LIMIT $3)) AS both_logs "
    "ORDER BY seq LIMIT $3) " + _OBJECTS
)
_EVENTS = (
    "WITH page AS (SELECT * FROM ("
    "(SELECT 'task' AS kind, task_id AS id, seq, action_type AS action FROM task_history "
    "WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3) "
    "UNION ALL "
    "(SELECT 'list', list_id, seq, action FROM list_changes "
    "WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3)) AS both_logs "
    "ORDER BY seq LIMIT $3) " + _OBJECTS
)
_HEAD = (
    "SELECT greatest("
    "(SELECT max(seq) FROM task_history WHERE user_id = $1), "
    "(SELECT max(seq) FROM list_changes WHERE user_id = $1), 0)"
)
# Taken before a list's own row by every list change (the trigger takes it again): the
# same order as a task write (task, then this row, then its list's counts), so a list
# rename and a task write in that list cannot deadlock.
LOCK_CHANGE_LOG = Write(
    "INSERT INTO history_counts AS c (user_id) SELECT $1::uuid WHERE {go} "
    "ON CONFLICT (user_id) DO UPDATE SET total = c.total RETURNING 1",
    (),
    guarded=True,
)
_ISSUE = "INSERT INTO event_tickets (ticket_hash, user_id, expires_at) VALUES ($1, $2, $3)"
_SWEEP = "DELETE FROM event_tickets WHERE expires_at <= $1"
_REDEEM = "DELETE FROM event_tickets WHERE ticket_hash = $1 AND expires_at > $2 RETURNING user_id"

_TRY_LOCK = "SELECT pg_try_advisory_lock($1)"
_UNLOCK = "SELECT pg_advisory_unlock($1)"
# Stream places' advisory lock keys: this tag in the top byte (the migrations' lock key,
# MIGRATION_LOCK_ID, has 0 there, so they cannot meet), 53 bits of a hash of the user id,
# then the place's number in the low 3 bits.
SLOT_KEY_TAG = 0x73  # "s"; below 0x80, so the key is a positive int8
_SLOT_BITS = 3
_HASH_BITS = 64 - 8 - _SLOT_BITS

_TASK_START = 4
_LIST_START = _TASK_START + len(TASK_COLUMNS)


def lock_change_log(user_id: UUID) -> Write:
    return Write(LOCK_CHANGE_LOG.sql, (user_id,), guarded=True)


def _task(row: Any) -> Any:
    return None if row[_TASK_START] is None else to_task(row[_TASK_START:_LIST_START])


def _list(row: Any) -> TaskList | None:
    if row[_LIST_START] is None:
        return None
    return TaskList(*row[_LIST_START : _LIST_START + len(LIST_COLUMNS)])


class PostgresSyncReads:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def changes(self, user_id: UUID, after: int, limit: int) -> SyncPage:
        rows = await self._db.fetch(_CHANGES, user_id, after, limit + 1)
        has_more = len(rows) > limit
        rows = rows[:limit]
        page = SyncPage([], [], [], [], SyncCursor(user_id, after), has_more)
        for row in rows:
            kind, object_id = row[0], row[1]
            if kind == "task":
                task = _task(row)
                (page.tasks.append(task) if task else page.deleted_task_ids.append(object_id))
            else:
                found = _list(row)
                (page.lists.append(found) if found else page.deleted_list_ids.append(object_id))
        if rows:
            page = SyncPage(
                page.tasks,
                page.lists,
                page.deleted_task_ids,
                page.deleted_list_ids,
                SyncCursor(user_id, rows[-1][2]),
                has_more,
            )
        return page

    async def events(self, user_id: UUID, after: int, limit: int) -> list[ChangeEvent]:
        rows = await self._db.fetch(_EVENTS, user_id, after, limit)
        events = []
        for row in rows:
            kind = row[0]
            events.append(
                ChangeEvent(
                    seq=row[2],
                    type=EventType.of(kind, row[3]),
                    object_id=row[1],
                    task=_task(row) if kind == "task" else None,
                    task_list=_list(row) if kind == "list" else None,
                )
            )
        return events

    async def head(self, user_id: UUID) -> int:
        row = await self._db.fetchrow(_HEAD, user_id)
        return 0 if row is None else int(row[0])


class PostgresEventTickets:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def issue(self, user_id: UUID, ticket_hash: str, expires_at: datetime) -> None:
        # Expired tickets go as new ones come: the table stays as small as its use.
        await self._db.execute(_SWEEP, expires_at - timedelta(seconds=TICKET_TTL_SECONDS))
        await self._db.execute(_ISSUE, ticket_hash, user_id, expires_at)

    async def redeem(self, ticket_hash: str, now: datetime) -> UUID | None:
        row = await self._db.fetchrow(_REDEEM, ticket_hash, now)
        return None if row is None else row[0]


class PostgresChangeFeed:
    """The `ChangeFeed` port: notices from the process's one LISTEN connection, fanned out
    to this process's streams. While that connection is down, streams are ended (clients
    resume); once it is back, every stream re-reads the log (notices may have been lost)."""

    def __init__(self, listener: RevocationListener, hub: ChangeHub | None = None) -> None:
        self.hub = hub or ChangeHub()
        self._listener = listener
        listener.also_listen(CHANNEL, self._notice, self._state)

    def subscribe(self, user_id: UUID) -> HubSubscription:
        if not self._listener.enabled:
            raise ServiceUnavailable(LIVE_EVENTS_UNAVAILABLE, retry_after_seconds=300)
        self._listener.ensure_started()
        return self.hub.subscribe(user_id)

    def on_any_change(self, callback: Callable[[UUID | None], None]) -> None:
        self.hub.on_any_change(callback)
        self._listener.ensure_started()

    @property
    def connected(self) -> bool:
        return self._listener.connected

    def _notice(self, payload: str) -> None:
        user_ids, malformed = parse(payload)
        for user_id in user_ids:
            self.hub.notify(user_id)
        if malformed:
            logger.warning("ignored a malformed notice on %s", CHANNEL)

    def _state(self, up: bool) -> None:
        if up:
            self.hub.wake_all()
        else:
            self.hub.close_all()

    def close(self) -> None:
        self.hub.accepting = False
        self.hub.close_all()


def slot_key(user_id: UUID, number: int) -> int:
    """The advisory lock key of the user's place `number` (0-7)."""
    if not 0 <= number < 1 << _SLOT_BITS:
        raise ValueError("a stream place's number is 0-7")
    digest = hashlib.sha256(b"taskapp stream slot " + user_id.bytes).digest()
    hashed = int.from_bytes(digest[:8], "big") >> (64 - _HASH_BITS)
    return (SLOT_KEY_TAG << 56) | (hashed << _SLOT_BITS) | number


class PostgresStreamSlot:
    def __init__(self, slots: PostgresStreamSlots, user_id: UUID, number: int, generation: int):
        self._slots = slots
        self.user_id, self.number, self.generation = user_id, number, generation
        self._released = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._slots.give_back(self)


class PostgresStreamSlots:
    """The `StreamSlots` port: place `n` of a user is the advisory lock `slot_key(user, n)`,
    taken with `pg_try_advisory_lock` on the process's listening connection. Session locks
    are re-entrant within a session, so this process remembers which places its streams hold
    (for the current connection) and only tries the others. A place is unlocked when its
    stream ends; a lost connection (or a dead process) frees all of its places at once."""

    def __init__(self, listener: RevocationListener, wait_seconds: float = 3.0) -> None:
        self._listener = listener
        self._wait = wait_seconds
        self._claiming = asyncio.Lock()
        self._generation = 0
        self._held: dict[UUID, set[int]] = {}
        self._unlocking: set[asyncio.Task[None]] = set()

    async def claim(self, user_id: UUID, limit: int) -> PostgresStreamSlot | None:
        async with self._claiming:
            generation = await self._listener.wait_up(self._wait)
            if generation != self._generation:  # a new connection: the old locks are gone
                self._generation, self._held = generation, {}
            held = self._held.setdefault(user_id, set())
            try:
                for number in range(limit):
                    if number in held:
                        continue
                    key = slot_key(user_id, number)
                    if await self._listener.on_session(generation, _TRY_LOCK, key):
                        held.add(number)
                        return PostgresStreamSlot(self, user_id, number, generation)
                return None
            finally:
                if not held:
                    self._held.pop(user_id, None)

    def give_back(self, slot: PostgresStreamSlot) -> None:
        if slot.generation != self._generation:
            return  # its lock went with the connection it was taken on
        held = self._held.get(slot.user_id)
        if held is not None:
            held.discard(slot.number)
            if not held:
                del self._held[slot.user_id]
        # Forgotten before it is unlocked: a claim meanwhile may take the same lock again,
        # which only counts it up once more (re-entrant), so the place stays held for it.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (interpreter exit): the connection ends, so does it
            return
        task = loop.create_task(self._unlock(slot))
        self._unlocking.add(task)
        task.add_done_callback(self._unlocking.discard)

    async def _unlock(self, slot: PostgresStreamSlot) -> None:
        key = slot_key(slot.user_id, slot.number)
        with contextlib.suppress(Exception):  # lost: the lock went with the connection
            await self._listener.on_session(slot.generation, _UNLOCK, key)
