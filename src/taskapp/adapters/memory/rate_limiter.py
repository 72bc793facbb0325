"""Fixed-window rate limiting in one process's memory."""

from __future__ import annotations

import math

from taskapp.domain.ports import Clock


class MemoryRateLimiter:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: int, window_seconds: int) -> int | None:
        now = self._clock.now().timestamp()
        window_start = now - now % window_seconds
        start, hits = self._windows.get(key, (window_start, 0))
        hits = hits + 1 if start == window_start else 1
        self._windows[key] = (window_start, hits)
        if hits <= limit:
            return None
        return max(1, math.ceil(window_start + window_seconds - now))
