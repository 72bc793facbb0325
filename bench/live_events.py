"""Live events under load: how long a change takes to reach open streams, and what an open
stream costs the server in memory.

- **Stream memory**: the server's RSS (its whole process tree) with no stream open, then
  with N idle `GET /api/v1/events` streams open (5 per user, the most allowed), for each N
  asked; KiB per stream is the growth over the baseline divided by N.
- **Event delay**: 200 open streams (40 users x 5), and 100 writes/s, paced (open loop: a
  write is sent on schedule whether or not earlier ones have been answered), each a
  `PATCH /tasks/{id}/toggle` of one of those users' tasks (users in turn, each user's
  tasks in turn, so no task changes twice within seconds). For every write, every stream
  of its user must receive an event with the task's id and the version the write answered
  with; the delay is the time from the write's answer (as the client read it) to the
  event's arrival on that stream. An event may arrive before the answer does (the notice
  goes out at commit, the answer after `X-Sync-Cursor` is read): those count as 0, and
  their share is reported; the time from sending the write is reported too.

The client is `bench.sse_client` (asyncio streams, uvloop when installed) in the bench's
own process; its CPU share and its event loop's lag (a 5 ms ticker) are reported, so a
client that falls behind shows instead of passing for server delay.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit
from uuid import UUID

import msgspec

from bench import processes
from bench.console import say
from bench.sse_client import Connection

EVENTS_PATH = "/api/v1/events"
STREAMS_PER_USER = 5
_OPEN_BATCH = 50  # streams opened at once
_SETTLE_SECONDS = 2.0
_DRAIN_SECONDS = 5.0  # after the last write: how long late events may still arrive
_TICK_SECONDS = 0.005
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class StreamUser:
    token: str
    task_ids: list[UUID]


@dataclass(frozen=True, slots=True)
class StreamMemory:
    points: list[tuple[int, float]]  # (open streams, server RSS MB)
    kept_streams: int  # closed down to this many (the delay measurement's) ...
    rss_after_closing_mb: float  # ... then the RSS
    open_seconds: list[float]  # how long opening each step's streams took

    @property
    def kib_per_stream(self) -> list[tuple[int, float]]:
        base = self.points[0][1]
        return [(n, (mb - base) * 1024 / n) for n, mb in self.points[1:] if n]


@dataclass(frozen=True, slots=True)
class EventDelay:
    streams: int
    users: int
    target_rate: float
    seconds: float
    writes: int
    write_errors: int
    achieved_rate: float
    expected_events: int
    received_events: int
    delay_ms: dict[str, float]  # after the write's answer: p50, p90, p99, max
    from_send_ms: dict[str, float]  # after the write was sent
    before_answer_share: float
    write_ms: dict[str, float]
    send_lateness_max_ms: float  # how far behind its schedule a write was sent
    client_cpu_percent: float
    loop_lag_ms: dict[str, float]
    server_cpu_percent: float
    other_cpu_percent: float
    stream_errors: int

    @property
    def missing_events(self) -> int:
        return self.expected_events - self.received_events


@dataclass(slots=True)
class LiveEvents:
    memory: StreamMemory | None = None
    delay: EventDelay | None = None
    notes: list[str] = field(default_factory=list)


def percentiles(values: list[float], scale: float = 1000.0) -> dict[str, float]:
    """p50, p90, p99 and max (nearest rank), times `scale` (seconds to ms), rounded."""
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)]

    return {
        name: round(rank(p) * scale, 2)
        for name, p in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
    }


class _Task(msgspec.Struct):
    id: str
    version: int


class _Answer(msgspec.Struct):
    data: _Task


_decode_task = msgspec.json.Decoder(_Task).decode
_decode_answer = msgspec.json.Decoder(_Answer).decode


class _Streams:
    """Open event streams and what arrived on them: (task id, version) -> [(stream, time)]."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self.arrivals: dict[tuple[str, int], list[tuple[int, float]]] = defaultdict(list)
        self.by_user: dict[int, list[int]] = defaultdict(list)
        self._readers: list[asyncio.Task[None]] = []
        self._connections: list[Connection] = []
        self.errors = 0

    @property
    def count(self) -> int:
        return len(self._connections)

    async def open(self, users: list[tuple[int, StreamUser]]) -> None:
        """STREAMS_PER_USER streams for each (user number, user), _OPEN_BATCH at a time."""
        wanted = [(n, user) for n, user in users for _ in range(STREAMS_PER_USER)]
        for first in range(0, len(wanted), _OPEN_BATCH):
            batch = wanted[first : first + _OPEN_BATCH]
            await asyncio.gather(*(self._open_one(n, user) for n, user in batch))

    async def _open_one(self, user_number: int, user: StreamUser) -> None:
        connection = await Connection.open(self._host, self._port)
        status = await connection.open_events(EVENTS_PATH, user.token)
        if status != 200:
            connection.close()
            raise RuntimeError(f"GET {EVENTS_PATH} answered {status}")
        stream = len(self._connections)
        self._connections.append(connection)
        self.by_user[user_number].append(stream)
        self._readers.append(asyncio.create_task(self._read(stream, connection)))

    async def _read(self, stream: int, connection: Connection) -> None:
        try:
            async for event in connection.events():
                if event.event.startswith("task."):
                    task = _decode_task(event.data)
                    self.arrivals[(task.id, task.version)].append((stream, event.received_at))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            self.errors += 1

    async def close(self, keep: int = 0) -> None:
        """Close every stream after the first `keep`."""
        readers, self._readers = self._readers[keep:], self._readers[:keep]
        connections, self._connections = self._connections[keep:], self._connections[:keep]
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*(c.aclose() for c in connections), return_exceptions=True)
        await asyncio.gather(*readers, return_exceptions=True)


class _Writers:
    """Keep-alive connections for the writes, opened as needed (open loop)."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._idle: list[Connection] = []

    async def send(self, path: str, token: str) -> tuple[int, bytes]:
        reused = bool(self._idle)
        connection = self._idle.pop() if reused else await Connection.open(self._host, self._port)
        try:
            answer = await connection.request("PATCH", path, token)
        except (OSError, asyncio.IncompleteReadError):
            connection.close()
            if not reused:
                raise
            # The server closed an idle connection: try once on a fresh one.
            connection = await Connection.open(self._host, self._port)
            answer = await connection.request("PATCH", path, token)
        self._idle.append(connection)
        return answer.status, answer.body

    async def close(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self._idle), return_exceptions=True)
        self._idle.clear()


async def _ticker(lags: list[float], stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        expected = loop.time() + _TICK_SECONDS
        await asyncio.sleep(_TICK_SECONDS)
        lags.append(loop.time() - expected)


@dataclass(frozen=True, slots=True)
class _Write:
    user: int
    sent: float
    answered: float


async def _measure_delay(
    streams: _Streams,
    users: list[StreamUser],
    rate: float,
    warmup: float,
    duration: float,
    server_pid: int,
    ours: Callable[[], set[int]],
) -> EventDelay:
    host, port = streams._host, streams._port
    writers = _Writers(host, port)
    writes: dict[tuple[str, int], _Write] = {}
    write_ms: list[float] = []
    errors = 0
    lateness = 0.0
    pending: set[asyncio.Task[None]] = set()

    async def write(number: int, scheduled: float) -> None:
        nonlocal errors
        user = number % len(users)
        tasks = users[user].task_ids
        task_id = tasks[(number // len(users)) % len(tasks)]
        sent = time.perf_counter()
        try:
            status, body = await writers.send(f"/api/v1/tasks/{task_id}/toggle", users[user].token)
        except (OSError, asyncio.IncompleteReadError):
            errors += 1
            return
        answered = time.perf_counter()
        if status != 200:
            errors += 1
            return
        task = _decode_answer(body).data
        writes[(task.id, task.version)] = _Write(user, sent, answered)
        if scheduled >= measured_from:
            write_ms.append(answered - sent)

    lags: list[float] = []
    stop = asyncio.Event()
    ticker = asyncio.create_task(_ticker(lags, stop))
    total = int(rate * (warmup + duration))
    started = time.perf_counter()
    measured_from = started + warmup
    cpu_before = processes.tree_cpu_seconds(server_pid)
    client_before = machine_before = None
    for number in range(total):
        scheduled = started + number / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if client_before is None and scheduled >= measured_from:
            client_before = time.process_time()
            machine_before = processes.cpu_snapshot()
            cpu_before = processes.tree_cpu_seconds(server_pid)
            lags.clear()
        if scheduled >= measured_from:
            lateness = max(lateness, time.perf_counter() - scheduled)
        task = asyncio.create_task(write(number, scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
    elapsed = time.perf_counter() - measured_from
    server_cpu = processes.tree_cpu_seconds(server_pid) - cpu_before
    client_cpu = time.process_time() - (client_before or 0.0)
    other = (
        processes.other_cpu_seconds(machine_before, processes.cpu_snapshot(), ours())
        if machine_before is not None
        else 0.0
    )
    stop.set()
    await ticker
    lag_percentiles = percentiles(lags)
    await asyncio.gather(*pending, return_exceptions=True)

    measured = {key: w for key, w in writes.items() if w.sent >= measured_from}
    expected = sum(len(streams.by_user[w.user]) for w in measured.values())
    deadline = time.perf_counter() + _DRAIN_SECONDS
    while time.perf_counter() < deadline:
        if sum(len(streams.arrivals.get(key, ())) for key in measured) >= expected:
            break
        await asyncio.sleep(0.1)
    await writers.close()

    after_answer: list[float] = []
    after_send: list[float] = []
    early = 0
    for key, w in measured.items():
        for _stream, arrived in streams.arrivals.get(key, ()):
            gap = arrived - w.answered
            early += gap < 0
            after_answer.append(max(gap, 0.0))
            after_send.append(arrived - w.sent)
    return EventDelay(
        streams=streams.count,
        users=len(users),
        target_rate=rate,
        seconds=round(elapsed, 2),
        writes=len(measured),
        write_errors=errors,
        achieved_rate=round(len(measured) / elapsed, 1) if elapsed else 0.0,
        expected_events=expected,
        received_events=len(after_answer),
        delay_ms=percentiles(after_answer),
        from_send_ms=percentiles(after_send),
        before_answer_share=round(early / len(after_answer), 3) if after_answer else 0.0,
        write_ms=percentiles(write_ms),
        send_lateness_max_ms=round(lateness * 1000, 2),
        client_cpu_percent=round(100 * client_cpu / elapsed, 1) if elapsed else 0.0,
        loop_lag_ms=lag_percentiles,
        server_cpu_percent=round(100 * server_cpu / elapsed, 1) if elapsed else 0.0,
        other_cpu_percent=round(100 * other / elapsed, 1) if elapsed else 0.0,
        stream_errors=streams.errors,
    )


async def _settled_rss(server_pid: int) -> float:
    await asyncio.sleep(_SETTLE_SECONDS)
    return round(processes.tree_rss_mb(server_pid), 2)


async def _live(
    base_url: str,
    server_pid: int,
    delay_users: list[StreamUser],
    memory_steps: list[list[StreamUser]],
    rate: float,
    warmup: float,
    duration: float,
    ours: Callable[[], set[int]],
) -> LiveEvents:
    """memory_steps: the users whose streams to add at each step (empty: no memory
    measurement); delay_users: whose streams the delay is measured on (the first step's)."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    streams = _Streams(host, port)
    result = LiveEvents()
    try:
        if memory_steps:
            points = [(0, await _settled_rss(server_pid))]
            opened: list[float] = []
            number = 0
            for step in memory_steps:
                started = time.perf_counter()
                await streams.open([(number + i, user) for i, user in enumerate(step)])
                number += len(step)
                opened.append(round(time.perf_counter() - started, 2))
                points.append((streams.count, await _settled_rss(server_pid)))
                say(f"  {streams.count} idle streams open: server RSS {points[-1][1]:.1f} MB")
            kept = len(delay_users) * STREAMS_PER_USER
            await streams.close(keep=kept)
            result.memory = StreamMemory(points, kept, await _settled_rss(server_pid), opened)
        elif delay_users:
            await streams.open(list(enumerate(delay_users)))
        if delay_users:
            say(
                f"  event delay: {streams.count} streams, {rate:g} writes/s for "
                f"{warmup:g} s warm-up + {duration:g} s"
            )
            result.delay = await _measure_delay(
                streams, delay_users, rate, warmup, duration, server_pid, ours
            )
    finally:
        await streams.close()
    return result


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    try:
        import uvloop  # the loop granian serves taskapp on, when installed
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def measure(
    base_url: str,
    server_pid: int,
    delay_users: list[StreamUser],
    memory_steps: list[list[StreamUser]],
    *,
    rate: float,
    warmup: float,
    duration: float,
    ours: Callable[[], set[int]],
) -> LiveEvents:
    return _run(
        _live(base_url, server_pid, delay_users, memory_steps, rate, warmup, duration, ours)
    )
