"""Sync and live events: pages of changes after a cursor, and event streams that resume.

Both read the same per-user log (task history entries and list changes, numbered by `seq`
in commit order), so a stream resumed from the last event id it delivered, or a `/sync`
from the last cursor, misses nothing and repeats nothing (decision 0015).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from taskapp.domain.errors import (
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
)
from taskapp.domain.model.sync import (
    EVENT_BATCH,
    HEARTBEAT_SECONDS,
    STREAMS_PER_USER,
    SYNC_LIMIT_DEFAULT,
    SYNC_LIMIT_MAX,
    TICKET_TTL_SECONDS,
    ChangeEvent,
    SyncCursor,
    SyncPage,
)
from taskapp.domain.ports import Clock
from taskapp.domain.ports.sync import (
    ChangeFeed,
    EventTickets,
    StreamSlot,
    StreamSlots,
    Subscription,
    SyncReads,
)


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Nothing happened for a while: the stream says so, to keep proxies from closing it."""


HEARTBEAT = Heartbeat()


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


class SyncService:
    def __init__(
        self,
        reads: SyncReads,
        tickets: EventTickets,
        feed: ChangeFeed,
        slots: StreamSlots,
        clock: Clock,
        *,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        streams_per_user: int = STREAMS_PER_USER,
    ) -> None:
        self._reads = reads
        self._tickets = tickets
        self._feed = feed
        self._slots = slots
        self._streams_per_user = streams_per_user
        self._clock = clock
        self._heartbeat = heartbeat_seconds

    async def sync(
        self, user_id: UUID, cursor: str | None, limit: int = SYNC_LIMIT_DEFAULT
    ) -> SyncPage:
        if not 1 <= limit <= SYNC_LIMIT_MAX:
            raise ValidationFailed.of("limit", f"must be between 1 and {SYNC_LIMIT_MAX}")
        after = SyncCursor.start(user_id) if cursor is None else SyncCursor.decode(user_id, cursor)
        return await self._reads.changes(user_id, after.seq, limit)

    async def head(self, user_id: UUID) -> SyncCursor:
        return SyncCursor(user_id, await self._reads.head(user_id))

    def cursor(self, user_id: UUID, text: str, field: str) -> SyncCursor:
        return SyncCursor.decode(user_id, text, field)

    async def issue_ticket(self, user_id: UUID) -> str:
        ticket = "tet_" + secrets.token_urlsafe(32)
        expires = self._clock.now() + timedelta(seconds=TICKET_TTL_SECONDS)
        await self._tickets.issue(user_id, ticket_hash(ticket), expires)
        return ticket

    async def redeem_ticket(self, ticket: str) -> UUID:
        user_id = await self._tickets.redeem(ticket_hash(ticket), self._clock.now())
        if user_id is None:
            raise Unauthorized("The event ticket is unknown, used or expired")
        return user_id

    async def open_stream(self, user_id: UUID, after: SyncCursor) -> EventStream:
        """Raises RateLimited when the user has the most streams open already (on any
        instance), ServiceUnavailable when streams cannot be served now."""
        # Subscribed first: if the notices are lost while the place is claimed, the
        # subscription is ended, so the stream ends and its client resumes.
        subscription = self._feed.subscribe(user_id)
        try:
            slot = await self._slots.claim(user_id, self._streams_per_user)
        except BaseException:
            subscription.close()
            raise
        if slot is None:
            subscription.close()
            limit = self._streams_per_user
            raise RateLimited(5, f"At most {limit} event streams per user can be open")
        if subscription.closed:  # the notices were lost meanwhile
            subscription.close()
            slot.release()
            raise ServiceUnavailable("Live events are not available right now")
        return EventStream(self._reads, subscription, slot, after, self._heartbeat)


class EventStream:
    """The changes after a cursor, then each new one as it commits, with heartbeats while
    nothing happens. Ends when the feed closes it (shutdown, notices lost) or the database
    cannot be read: the client resumes from the last id it got."""

    def __init__(
        self,
        reads: SyncReads,
        subscription: Subscription,
        slot: StreamSlot,
        after: SyncCursor,
        heartbeat_seconds: float,
    ) -> None:
        self._reads = reads
        self._subscription = subscription
        self._slot = slot
        self._user_id = after.user_id
        self.position = after.seq
        self._heartbeat = heartbeat_seconds

    def close(self) -> None:
        """Ends the stream and gives its place back (idempotent)."""
        self._subscription.close()
        self._slot.release()

    async def __aiter__(self) -> AsyncIterator[ChangeEvent | Heartbeat]:
        # Subscribed before the first read: a notice that arrives meanwhile stays set.
        try:
            while not self._subscription.closed:
                try:
                    batch = await self._reads.events(self._user_id, self.position, EVENT_BATCH)
                except ServiceUnavailable:
                    return
                for event in batch:
                    self.position = event.seq
                    if event.type.is_deletion or event.task or event.task_list:
                        yield event
                if len(batch) == EVENT_BATCH:
                    continue
                woken = await self._subscription.wait(self._heartbeat)
                if not woken and not self._subscription.closed:
                    yield HEARTBEAT
        finally:
            self.close()
