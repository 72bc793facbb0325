"""The Argon2 adapter: real Argon2id, bounded in-flight work, lower CPU priority."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
from argon2 import PasswordHasher as Argon2Hasher

from taskapp.adapters.passwords import Argon2PasswordHasher
from taskapp.domain.errors import ServiceUnavailable


def cheap() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(1, Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1))


async def test_hash_and_verify_with_argon2id() -> None:
    hasher = cheap()
    hashed = await hasher.hash("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert await hasher.verify(hashed, "correct horse battery staple")
    assert not await hasher.verify(hashed, "wrong")
    assert not await hasher.verify("not a hash", "wrong")
    assert not hasher.needs_rehash(hashed)
    assert Argon2PasswordHasher().needs_rehash(hashed)  # cheaper than the defaults: rehash
    assert hasher.needs_rehash("garbage")


async def test_hashing_threads_run_at_a_lower_priority() -> None:
    hasher = cheap()
    loop = asyncio.get_running_loop()
    niceness = await loop.run_in_executor(
        hasher._pool, lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    )
    assert niceness >= 10


async def test_a_flood_is_refused_instead_of_queued_without_bound() -> None:
    hasher = Argon2PasswordHasher(1)  # full cost: each verify takes a while
    hashed = await hasher.hash("correct horse battery staple")
    results = await asyncio.gather(
        *(hasher.verify(hashed, "wrong password!") for _ in range(20)), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, ServiceUnavailable)]
    assert len(refused) == 12  # 1 running + 7 waiting are accepted, the rest refused at once
    assert all(r is False for r in results if not isinstance(r, BaseException))


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_capacity_scales_with_concurrency(concurrency: int) -> None:
    hasher = Argon2PasswordHasher(concurrency, Argon2Hasher(time_cost=1, memory_cost=1024))
    assert hasher._max_in_flight == concurrency * 8
