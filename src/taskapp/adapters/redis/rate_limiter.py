"""Fixed-window rate-limit counters in Redis: one INCR and one EXPIRE, in one round trip."""

from __future__ import annotations

import math

from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskapp.adapters.postgres.rate_limiter import hashed_key
from taskapp.domain.errors import ServiceUnavailable
from taskapp.domain.ports import Clock


class RedisRateLimiter:
    def __init__(self, client: Redis, clock: Clock, prefix: str = "taskapp:rl:") -> None:
        self._client = client
        self._clock = clock
        self._prefix = prefix

    async def hit(self, key: str, limit: int, window_seconds: int) -> int | None:
        now = self._clock.now().timestamp()
        window = int(now // window_seconds)
        redis_key = f"{self._prefix}{hashed_key(key)}:{window}"
        try:
            async with self._client.pipeline(transaction=True) as pipeline:
                pipeline.incr(redis_key)
                pipeline.expire(redis_key, window_seconds + 1)
                hits, _ = await pipeline.execute()
        except (RedisError, OSError) as error:
            raise ServiceUnavailable("The rate limiter is unavailable") from error
        if int(hits) <= limit:
            return None
        return max(1, math.ceil((window + 1) * window_seconds - now))

    async def close(self) -> None:
        await self._client.aclose()
