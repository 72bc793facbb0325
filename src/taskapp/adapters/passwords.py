"""Argon2id password hashing, run off the event loop behind a concurrency cap.

Each hash costs ~64 MiB and tens of milliseconds of CPU. The cap bounds both; when too many
requests are already queued, a new one is refused at once (503) instead of piling up.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from taskapp.domain.errors import ServiceUnavailable

_QUEUE_FACTOR = 16


class Argon2PasswordHasher:
    def __init__(self, concurrency: int = 4, hasher: Argon2Hasher | None = None) -> None:
        self._hasher = hasher or Argon2Hasher()  # RFC 9106 "low memory" profile, Argon2id
        self._slots = asyncio.Semaphore(concurrency)
        self._max_waiting = concurrency * _QUEUE_FACTOR
        self._waiting = 0

    async def hash(self, password: str) -> str:
        async with self._slot():
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        async with self._slot():
            return await asyncio.to_thread(self._verify_sync, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _slot(self) -> _Slot:
        if self._waiting >= self._max_waiting:
            raise ServiceUnavailable("Too many sign-in attempts are being processed", 1)
        return _Slot(self)


class _Slot:
    """Counts queued callers so the queue length can be bounded."""

    def __init__(self, owner: Argon2PasswordHasher) -> None:
        self._owner = owner

    async def __aenter__(self) -> None:
        self._owner._waiting += 1
        try:
            await self._owner._slots.acquire()
        finally:
            self._owner._waiting -= 1

    async def __aexit__(self, *_: object) -> None:
        self._owner._slots.release()
