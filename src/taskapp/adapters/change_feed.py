"""The in-process fan-out of change notices to open event streams.

One `ChangeHub` per process. Whatever hears of a committed change calls `notify(user_id)`
(the PostgreSQL listener for every instance's writes, the memory unit of work in tests);
each of that user's streams is woken and reads the log itself from where it stands. A
stream holds one flag, never a queue of events, so a slow reader costs no memory here: it
reads further in the log when it is ready. `close_all` ends every stream (shutdown, or
notices lost while the database is away); clients reconnect and resume. How many streams a
user may open is not the hub's business: `StreamSlots` counts them across instances.
Watchers (`on_any_change`) hear of every notice: the webhook delivery loop wakes on them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from uuid import UUID

from taskapp.domain.errors import ServiceUnavailable


class HubSubscription:
    def __init__(self, hub: ChangeHub, user_id: UUID) -> None:
        self._hub = hub
        self.user_id = user_id
        self._woken = asyncio.Event()
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def wake(self) -> None:
        self._woken.set()

    async def wait(self, timeout_seconds: float) -> bool:
        if not self._closed and not self._woken.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), timeout_seconds)
        woken = self._woken.is_set() and not self._closed
        self._woken.clear()
        return woken

    def end(self) -> None:
        self._closed = True
        self._woken.set()

    def close(self) -> None:
        if not self._closed:
            self.end()
        self._hub.forget(self)


class ChangeHub:
    def __init__(self) -> None:
        self._by_user: dict[UUID, set[HubSubscription]] = {}
        self._watchers: list[Callable[[UUID | None], None]] = []
        self.accepting = True

    def on_any_change(self, callback: Callable[[UUID | None], None]) -> None:
        """Also tell `callback` of every notice: the user's id, or None after `wake_all`."""
        self._watchers.append(callback)

    def subscribe(self, user_id: UUID) -> HubSubscription:
        if not self.accepting:
            raise ServiceUnavailable("Live events are not available right now")
        subscription = HubSubscription(self, user_id)
        self._by_user.setdefault(user_id, set()).add(subscription)
        return subscription

    def forget(self, subscription: HubSubscription) -> None:
        streams = self._by_user.get(subscription.user_id)
        if streams is not None:
            streams.discard(subscription)
            if not streams:
                del self._by_user[subscription.user_id]

    def notify(self, user_id: UUID) -> None:
        for subscription in self._by_user.get(user_id, ()):
            subscription.wake()
        for callback in self._watchers:
            callback(user_id)

    def wake_all(self) -> None:
        for streams in self._by_user.values():
            for subscription in streams:
                subscription.wake()
        for callback in self._watchers:
            callback(None)

    def close_all(self) -> None:
        for streams in list(self._by_user.values()):
            for subscription in list(streams):
                subscription.end()

    @property
    def open_streams(self) -> int:
        return sum(len(s) for s in self._by_user.values())
