"""Ports of sync and live events: the change log's reads, browser tickets, change notices,
and the places for open streams."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from taskapp.domain.model.sync import ChangeEvent, SyncPage


class SyncReads(Protocol):
    """One statement each, outside any transaction (one snapshot)."""

    async def changes(self, user_id: UUID, after: int, limit: int) -> SyncPage:
        """The tasks and lists whose latest change is after `after`, oldest such change
        first, at most `limit` of them (objects and deleted ids together), each as it is
        now; the page's cursor is the latest change of the last object on it (or `after`
        when there is none), and `has_more` says whether more changed objects follow."""
        ...

    async def events(self, user_id: UUID, after: int, limit: int) -> list[ChangeEvent]:
        """The logged changes after `after` in `seq` order, at most `limit`, each with its
        object as it is now (None when it is gone)."""
        ...

    async def head(self, user_id: UUID) -> int:
        """The user's latest `seq` (0 when nothing was ever logged)."""
        ...


class EventTickets(Protocol):
    async def issue(self, user_id: UUID, ticket_hash: str, expires_at: datetime) -> None: ...

    async def redeem(self, ticket_hash: str, now: datetime) -> UUID | None:
        """The ticket's user, once: a second redemption, or one after expiry, is None."""
        ...


class Subscription(Protocol):
    """Wake-ups for one stream: set when the user's log may have grown."""

    @property
    def closed(self) -> bool:
        """True once the feed ends this stream (shutdown, or notices lost)."""
        ...

    async def wait(self, timeout_seconds: float) -> bool:
        """Until woken (True), closed, or the timeout (False). Clears the wake-up."""
        ...

    def close(self) -> None: ...


class ChangeFeed(Protocol):
    """Notices of committed changes, fanned out in memory to this process's streams."""

    def subscribe(self, user_id: UUID) -> Subscription:
        """A new stream's wake-ups; raises RateLimited when the user has too many open."""
        ...

    def on_any_change(self, callback: Callable[[UUID | None], None]) -> None:
        """Call `callback(user_id)` (cheap, never blocking) whenever a user's log may have
        grown, on this instance or another (None: anyone's may have, e.g. after notices
        were lost); starts hearing the notices if this process does not yet. Best effort,
        as the notices are: a caller still looks now and then by itself."""
        ...


class StreamSlot(Protocol):
    """One open stream's place among its user's."""

    def release(self) -> None:
        """Give the place back (at once or moments later); idempotent, never raises."""
        ...


class StreamSlots(Protocol):
    """Places for open event streams, counted per user across every server instance."""

    async def claim(self, user_id: UUID, limit: int) -> StreamSlot | None:
        """One of the user's `limit` places, or None when all are taken (by this instance
        or any other); ServiceUnavailable when that cannot be known now."""
        ...
