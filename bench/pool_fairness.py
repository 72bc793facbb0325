"""How fair is waiting for a pooled connection? `python -m bench.pool_fairness`.

256 asyncio tasks loop for a few seconds on an asyncpg pool of 20, each iteration
`SELECT 1` on an acquired connection; the time from asking for a connection to holding one
is recorded. Two ways of asking:

- **plain**: `pool.acquire()`. asyncpg's pool hands a released connection to whoever asks
  next, and a waiter that was woken may lose it to a newcomer: a few waits get very long.
- **fair**: taskapp's own FairPool (a FIFO hand-off of connections), or with `--gate` a
  FIFO gate in front of asyncpg's pool (`async with gate:` around `pool.acquire()`):
  connections are taken in the order they were asked for. `--gate module:attribute` names
  a gate factory (called with the size).

Needs DATABASE_URL (any database: only `SELECT 1` runs). Uses uvloop when installed, as the
server does.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import asyncpg

POOL_SIZE = 20
TASKS = 256
SECONDS = 3.0
_SETUP_TIMEOUT_SECONDS = 30


GateFactory = Callable[[int], Any]


@dataclass(frozen=True, slots=True)
class GateChoice:
    label: str
    factory: GateFactory


def find_gate(spec: str | None = None) -> GateChoice:
    """`--gate module:attr` (called with the pool size), else taskapp's own FairGate."""
    if spec:
        module_name, _, attribute = spec.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
        return GateChoice(f"{spec} (given with --gate)", factory)
    # taskapp's own pool is measured directly (see _measure_fair_pool).
    return GateChoice("taskapp's FairPool (adapters/postgres/pool.py)", lambda size: None)


@dataclass(frozen=True, slots=True)
class WaitDistribution:
    mode: str  # "plain" or "gate"
    gate: str | None
    acquisitions: int
    seconds: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float

    @property
    def per_second(self) -> float:
        return self.acquisitions / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class FairnessResult:
    pool_size: int
    tasks: int
    loop: str
    plain: WaitDistribution
    gated: WaitDistribution


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def _gate_context(gate: Any) -> AbstractAsyncContextManager[Any]:
    return gate if gate is not None else nullcontext()


async def _measure(
    url: str, mode: str, gate_choice: GateChoice | None, pool_size: int, tasks: int, seconds: float
) -> WaitDistribution:
    pool = await asyncpg.create_pool(
        url, min_size=pool_size, max_size=pool_size, timeout=_SETUP_TIMEOUT_SECONDS
    )
    gate = gate_choice.factory(pool_size) if gate_choice is not None else None
    waits: list[float] = []
    try:
        await asyncio.gather(*(pool.fetchval("SELECT 1") for _ in range(pool_size)))
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            while (asked := time.perf_counter()) < deadline:
                async with _gate_context(gate), pool.acquire() as connection:
                    waits.append(time.perf_counter() - asked)
                    await connection.fetchval("SELECT 1")

        await asyncio.gather(*(worker() for _ in range(tasks)))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.wait_for(pool.close(), _SETUP_TIMEOUT_SECONDS)
    waits.sort()
    return WaitDistribution(
        mode=mode,
        gate=None if gate_choice is None else gate_choice.label,
        acquisitions=len(waits),
        seconds=elapsed,
        p50_ms=_percentile(waits, 0.50) * 1000,
        p99_ms=_percentile(waits, 0.99) * 1000,
        p999_ms=_percentile(waits, 0.999) * 1000,
        max_ms=(waits[-1] if waits else 0.0) * 1000,
    )


async def _measure_fair_pool(
    url: str, label: str, pool_size: int, tasks: int, seconds: float
) -> WaitDistribution:
    """taskapp's FairPool: the same loop, with its acquire() and release()."""
    from taskapp.adapters.postgres.pool import FairPool

    pool = FairPool(lambda: asyncpg.connect(url, timeout=_SETUP_TIMEOUT_SECONDS), pool_size, 600.0)
    waits: list[float] = []
    try:
        warm = [await pool.acquire() for _ in range(pool_size)]
        for connection in warm:
            pool.release(connection)
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            while (asked := time.perf_counter()) < deadline:
                connection = await pool.acquire()
                waits.append(time.perf_counter() - asked)
                try:
                    await connection.fetchval("SELECT 1")
                finally:
                    pool.release(connection)

        await asyncio.gather(*(worker() for _ in range(tasks)))
        elapsed = time.perf_counter() - started
    finally:
        await pool.close()
    waits.sort()
    return WaitDistribution(
        mode="gate",
        gate=label,
        acquisitions=len(waits),
        seconds=elapsed,
        p50_ms=_percentile(waits, 0.50) * 1000,
        p99_ms=_percentile(waits, 0.99) * 1000,
        p999_ms=_percentile(waits, 0.999) * 1000,
        max_ms=(waits[-1] if waits else 0.0) * 1000,
    )


async def _both(
    url: str, gate: GateChoice, pool_size: int, tasks: int, seconds: float
) -> tuple[WaitDistribution, WaitDistribution]:
    plain = await _measure(url, "plain", None, pool_size, tasks, seconds)
    if gate.factory(pool_size) is None:  # taskapp's own pool
        fair = await _measure_fair_pool(url, gate.label, pool_size, tasks, seconds)
    else:
        fair = await _measure(url, "gate", gate, pool_size, tasks, seconds)
    return plain, fair


def _run(coroutine: Any) -> tuple[Any, str]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine), "asyncio"
    return uvloop.run(coroutine), "uvloop"


def measure(
    url: str,
    seconds: float = SECONDS,
    pool_size: int = POOL_SIZE,
    tasks: int = TASKS,
    gate: GateChoice | None = None,
) -> FairnessResult:
    choice = gate or find_gate()
    (plain, gated), loop = _run(_both(url, choice, pool_size, tasks, seconds))
    return FairnessResult(pool_size, tasks, loop, plain, gated)


def describe(result: FairnessResult) -> list[str]:
    lines = [
        f"pool fairness ({result.tasks} tasks on an asyncpg pool of {result.pool_size}, "
        f"SELECT 1 each, {result.loop}): acquire wait"
    ]
    for d in (result.plain, result.gated):
        name = "pool.acquire()" if d.gate is None else f"FIFO gate [{d.gate}]"
        lines.append(
            f"  {name}: p50 {d.p50_ms:.1f} ms, p99 {d.p99_ms:.1f} ms, p99.9 {d.p999_ms:.1f} ms, "
            f"max {d.max_ms:.1f} ms ({d.per_second:,.0f} acquisitions/s)"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pool_fairness", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--pool-size", type=int, default=POOL_SIZE)
    parser.add_argument("--tasks", type=int, default=TASKS)
    parser.add_argument("--gate", help="module:attribute of a gate factory called with the size")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("pool_fairness: set DATABASE_URL (any database; only SELECT 1 runs)", file=sys.stderr)
        return 2
    url = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    result = measure(url, args.seconds, args.pool_size, args.tasks, find_gate(args.gate))
    print("\n".join(describe(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
