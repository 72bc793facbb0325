"""Fixed-window rate-limit counters in PostgreSQL, shared by every worker and instance."""

from __future__ import annotations

import hashlib
import math
import random
from datetime import UTC, datetime, timedelta

from taskapp.adapters.postgres.database import Database
from taskapp.domain.ports import Clock

_PRUNE_PROBABILITY = 0.01
_HIT = """
INSERT INTO rate_limit_counters AS c (key, window_start, hits) VALUES ($1, $2, 1)
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN c.window_start = EXCLUDED.window_start THEN c.hits + 1 ELSE 1 END,
    window_start = EXCLUDED.window_start
RETURNING hits
"""
_PRUNE = "DELETE FROM rate_limit_counters WHERE window_start < $1"


def hashed_key(key: str) -> str:
    """Keys embed client input (an email): hash them to a fixed, index-friendly size."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class PostgresRateLimiter:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    async def hit(self, key: str, limit: int, window_seconds: int) -> int | None:
        now = self._clock.now()
        epoch = now.timestamp()
        window_start = datetime.fromtimestamp(epoch - epoch % window_seconds, UTC)
        row = await self._db.fetchrow(_HIT, hashed_key(key), window_start)
        assert row is not None
        if random.random() < _PRUNE_PROBABILITY:  # noqa: S311 - not security relevant
            await self._db.execute(_PRUNE, window_start - timedelta(seconds=window_seconds))
        if row["hits"] <= limit:
            return None
        reset_at = window_start + timedelta(seconds=window_seconds)
        return max(1, math.ceil((reset_at - now).total_seconds()))
