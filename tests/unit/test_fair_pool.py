"""The fair pool's rules, on stand-in connections: arrival order, bounded waits, and slots
that outlive broken connections."""

from __future__ import annotations

import asyncio

import pytest

from taskapp.adapters.postgres.pool import FairPool
from taskapp.domain.errors import ServiceUnavailable


class StandIn:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.in_transaction = False

    def is_closed(self) -> bool:
        return self.closed

    def is_in_transaction(self) -> bool:
        return self.in_transaction

    def terminate(self) -> None:
        self.closed = True

    async def close(self) -> None:
        self.closed = True


def pool_of(size: int, timeout: float = 5.0) -> tuple[FairPool, list[StandIn]]:
    opened: list[StandIn] = []

    async def connect() -> StandIn:
        opened.append(StandIn(len(opened)))
        return opened[-1]

    return FairPool(connect, size, timeout), opened  # type: ignore[arg-type]


async def test_waiters_are_served_in_arrival_order_even_against_newcomers() -> None:
    pool, _ = pool_of(1)
    held = await pool.acquire()
    served: list[int] = []

    async def wait(n: int) -> None:
        connection = await pool.acquire()
        served.append(n)
        await asyncio.sleep(0)
        pool.release(connection)

    waiters = [asyncio.create_task(wait(n)) for n in range(5)]
    await asyncio.sleep(0)
    pool.release(held)
    newcomer = asyncio.create_task(wait(99))  # arrives after the five: served last
    await asyncio.gather(*waiters, newcomer)
    assert served == [0, 1, 2, 3, 4, 99]


async def test_a_wait_is_bounded_and_then_503() -> None:
    pool, _ = pool_of(1, timeout=0.05)
    held = await pool.acquire()
    with pytest.raises(ServiceUnavailable):
        await pool.acquire()
    pool.release(held)
    assert pool.waiting == 0
    assert await pool.acquire() is held  # the expired waiter did not swallow the connection


async def test_a_broken_connection_frees_its_slot_for_a_new_one() -> None:
    pool, opened = pool_of(1)
    first = await pool.acquire()
    waiting = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    first.terminate()
    pool.release(first)
    second = await waiting
    assert second is opened[1]
    assert pool.open == 1


async def test_a_connection_left_in_a_transaction_is_not_reused() -> None:
    pool, opened = pool_of(2)
    connection = await pool.acquire()
    connection.in_transaction = True
    pool.release(connection)
    assert connection.closed
    assert await pool.acquire() is opened[1]


async def test_a_cancelled_waiter_passes_on_what_it_was_handed() -> None:
    pool, _ = pool_of(1)
    held = await pool.acquire()
    cancelled = asyncio.create_task(pool.acquire())
    patient = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    pool.release(held)  # handed to `cancelled` ...
    cancelled.cancel()  # ... which is cancelled before it runs
    assert await patient is held
