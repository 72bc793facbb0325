"""Argon2id password hashing, off the event loop, capped, and at a lower CPU priority.

Each hash costs ~64 MiB and tens of milliseconds on several threads (libargon2 runs one
thread per lane). Three things keep a login flood from hurting everything else:
- hashes run on a small dedicated thread pool (the concurrency cap);
- those threads, and the lane threads they start, run at a lower scheduling priority
  (Linux `nice` per thread), so request handling wins the CPU when both want it;
- when too many requests already wait for a slot, a new one is refused at once (503)
  instead of piling up memory and latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from taskapp.domain.errors import ServiceUnavailable

_QUEUE_FACTOR = 8
_NICENESS = 10
_T = TypeVar("_T")


def _lower_priority() -> None:
    """Runs in each hashing thread; threads it starts inherit the niceness."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _NICENESS)


class Argon2PasswordHasher:
    def __init__(self, concurrency: int = 2, hasher: Argon2Hasher | None = None) -> None:
        self._hasher = hasher or Argon2Hasher()  # RFC 9106 "low memory" profile, Argon2id
        self._pool = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="argon2", initializer=_lower_priority
        )
        self._max_in_flight = concurrency * _QUEUE_FACTOR
        self._in_flight = 0

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._run(self._verify_sync, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def has_capacity(self) -> bool:
        return self._in_flight < self._max_in_flight

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def _run(self, function: Callable[..., _T], *args: str) -> _T:
        if not self.has_capacity():
            raise ServiceUnavailable("Too many sign-in attempts are being processed", 1)
        self._in_flight += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, function, *args)
        finally:
            self._in_flight -= 1
