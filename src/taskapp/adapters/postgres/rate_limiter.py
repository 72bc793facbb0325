"""Fixed-window rate-limit counters in PostgreSQL, shared by every worker and instance."""

from __future__ import annotations

import hashlib
import math
import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from taskapp.adapters.postgres.errors import translate
from taskapp.adapters.postgres.tables import rate_limit_counters as counters
from taskapp.domain.ports import Clock

_PRUNE_PROBABILITY = 0.01


def hashed_key(key: str) -> str:
    """Keys embed client input (an email): hash them to a fixed, index-friendly size."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class PostgresRateLimiter:
    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    async def hit(self, key: str, limit: int, window_seconds: int) -> int | None:
        now = self._clock.now()
        epoch = now.timestamp()
        window_start = datetime.fromtimestamp(epoch - epoch % window_seconds, UTC)
        insert_row = insert(counters).values(key=hashed_key(key), window_start=window_start, hits=1)
        upsert = insert_row.on_conflict_do_update(
            index_elements=[counters.c.key],
            set_={
                "hits": sa.case(
                    (
                        counters.c.window_start == insert_row.excluded.window_start,
                        counters.c.hits + 1,
                    ),
                    else_=1,
                ),
                "window_start": insert_row.excluded.window_start,
            },
        ).returning(counters.c.hits)
        try:
            async with self._engine.begin() as connection:
                hits = (await connection.execute(upsert)).scalar_one()
                if random.random() < _PRUNE_PROBABILITY:  # noqa: S311 - not security relevant
                    stale = window_start - timedelta(seconds=window_seconds)
                    await connection.execute(
                        counters.delete().where(counters.c.window_start < stale)
                    )
        except Exception as error:
            raise translate(error) from error
        if hits <= limit:
            return None
        reset_at = window_start + timedelta(seconds=window_seconds)
        return max(1, math.ceil((reset_at - now).total_seconds()))
