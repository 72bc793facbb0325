"""The ceiling for one Python process: raw asyncpg SELECT-by-primary-key queries per second.

The same row the API's GET /tasks/{id} reads, with no HTTP, no SQLAlchemy, no transaction:
what one event loop can get out of PostgreSQL, for comparison with the API's figures.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from uuid import UUID

import asyncpg

SELECT_TASK = """
SELECT id, user_id, title, description, is_completed, completed_at, created_at, updated_at,
       version
FROM tasks WHERE id = $1 AND user_id = $2
"""
_SETUP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True, slots=True)
class CeilingResult:
    pool_size: int
    concurrency: int
    queries: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def queries_per_second(self) -> float:
        return self.queries / self.seconds if self.seconds else 0.0


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


async def _measure(
    url: str, user_id: UUID, ids: list[UUID], seconds: float, pool_size: int, concurrency: int
) -> CeilingResult:
    pool = await asyncpg.create_pool(
        url, min_size=pool_size, max_size=pool_size, timeout=_SETUP_TIMEOUT_SECONDS
    )
    latencies: list[float] = []
    try:
        for task_id in ids[:pool_size]:  # warm the statement caches of the connections
            await pool.fetchrow(SELECT_TASK, task_id, user_id)
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            pick = random.Random()  # noqa: S311 - choosing rows, not secrets
            while (begun := time.perf_counter()) < deadline:
                await pool.fetchrow(SELECT_TASK, pick.choice(ids), user_id)
                latencies.append(time.perf_counter() - begun)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.wait_for(pool.close(), _SETUP_TIMEOUT_SECONDS)
    latencies.sort()
    return CeilingResult(
        pool_size=pool_size,
        concurrency=concurrency,
        queries=len(latencies),
        seconds=elapsed,
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
    )


def measure(
    url: str,
    user_id: UUID,
    ids: list[UUID],
    seconds: float,
    pool_size: int = 20,
    concurrency: int = 64,
) -> CeilingResult:
    bounded = asyncio.wait_for(
        _measure(url, user_id, ids, seconds, pool_size, concurrency),
        seconds + 2 * _SETUP_TIMEOUT_SECONDS,
    )
    try:
        import uvloop  # the event loop uvicorn runs the API on, when installed
    except ImportError:
        return asyncio.run(bounded)
    return uvloop.run(bounded)
