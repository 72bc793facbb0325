"""A small, fair pool of asyncpg connections: first come, first served, cheap per use.

Why not asyncpg's own pool: it does not serve waiters in arrival order (under a burst a
woken waiter loses to newcomers, and the unlucky ones starve past any timeout), and each
use pays for a proxy object, a task-based timeout and a reset step. Here a released
connection is handed straight to the oldest waiter, a wait is bounded by one timer, and
nothing else happens per use. `python -m bench.pool_fairness` shows both wait
distributions side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeAlias

import asyncpg

from taskapp.domain.errors import ServiceUnavailable

# What a waiter is handed: a connection, or None — "a slot is free, open one yourself".
Handoff: TypeAlias = "asyncpg.Connection | None"


class FairPool:
    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        size: int,
        wait_timeout_seconds: float,
    ) -> None:
        self._connect = connect
        self._size = size
        self._timeout = wait_timeout_seconds
        self._idle: deque[asyncpg.Connection] = deque()
        self._waiters: deque[asyncio.Future[Handoff]] = deque()
        self._slots_taken = 0  # connections open or being opened
        self._closed = False

    @property
    def size(self) -> int:
        return self._size

    @property
    def open(self) -> int:
        return self._slots_taken

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def acquire(self) -> asyncpg.Connection:
        if self._closed:
            raise ServiceUnavailable("The service is shutting down")
        while self._idle and not self._waiters:
            connection = self._idle.pop()  # the most recently used: warm, likely alive
            if not connection.is_closed():
                return connection
            self._slots_taken -= 1
        if self._slots_taken < self._size and not self._waiters:
            self._slots_taken += 1
            return await self._open()
        handed = await self._wait()
        return handed if handed is not None else await self._open()

    def release(self, connection: asyncpg.Connection) -> None:
        """Give a connection back: to the oldest waiter, else to the idle stack. A broken
        one (or one left inside a transaction) is dropped and its slot passed on."""
        if connection.is_closed() or connection.is_in_transaction() or self._closed:
            connection.terminate()
            self._slots_taken -= 1
            self._pass_slot()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = list(self._idle), deque()
        self._slots_taken -= len(idle)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(ServiceUnavailable("The service is shutting down"))
        for connection in idle:
            try:
                await asyncio.wait_for(connection.close(), 5)
            except Exception:
                connection.terminate()

    def abandon(self) -> None:
        """Close without awaiting anything (the loop the connections belong to is gone):
        idle connections are aborted, as far as that is still possible."""
        self._closed = True
        idle, self._idle = list(self._idle), deque()
        self._slots_taken -= len(idle)
        self._waiters.clear()
        for connection in idle:
            # A closed loop cannot abort a transport; the garbage collector closes it then.
            with contextlib.suppress(Exception):
                connection.terminate()

    async def _open(self) -> asyncpg.Connection:
        """Open a connection in a slot already taken; give the slot back if that fails."""
        try:
            return await self._connect()
        except BaseException:
            self._slots_taken -= 1
            self._pass_slot()
            raise

    def _pass_slot(self) -> None:
        """A slot came free with no connection in it: the oldest waiter may open one."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._slots_taken += 1
                waiter.set_result(None)
                return

    async def _wait(self) -> Handoff:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Handoff] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(self._timeout, _expire, waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Handed something just as the wait was cancelled: pass it on.
                handed = waiter.result()
                if handed is None:
                    self._slots_taken -= 1
                    self._pass_slot()
                else:
                    self.release(handed)
            raise
        finally:
            timer.cancel()


def _expire(waiter: asyncio.Future[Handoff]) -> None:
    if not waiter.done():
        waiter.set_exception(ServiceUnavailable("The database is busy; try again shortly"))
