"""`python -m bench.webhooks` (run by `make bench` after the main harness): webhook delivery.

Two figures, both at 1 worker, to a fast receiver on 127.0.0.1 (a separate process that
answers 204 at once):

1. **Deliveries per second.** A backlog is made with delivery switched off
   (WEBHOOK_DELIVERY=false): USERS users, one webhook each, CHANGES task creates spread
   over them. Then a server with delivery on starts, and the time from its readiness to the
   receiver's last delivery gives deliveries/s (queueing from the log and sending, both).
2. **Writes with deliveries beside them.** The toggle crowd (USERS users each toggling
   their own task, CONNECTIONS connections) for ROUND_SECONDS, with every user's webhook
   active (each toggle is a delivery sent while the load runs) and with none; rounds in
   ABBA order; req/s and p99 of each, and the ratio.

The load client is Python (httpx, one process), the same for both sides of the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

import httpx

from bench.console import say
from bench.database import benchmark_database
from bench.server import (
    free_port,
    new_jwt_secret,
    running_server,
    server_environment,
    taskapp_command,
)
from taskapp.adapters.postgres import migrations

USERS = 20
CHANGES = 3000
CONNECTIONS = 32
ROUND_SECONDS = 6
ROUNDS = 2
PASSWORD = "bench-password-1"  # noqa: S105 - the bench users' throwaway password
RESULTS = Path("bench/results/webhooks.json")


def _receiver(port: int, count: Synchronized[int], ready: Any) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            with count.get_lock():
                count.value += 1
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(answer, "127.0.0.1", port, backlog=1024)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


@contextmanager
def fast_receiver() -> Iterator[tuple[str, Synchronized[int]]]:
    port = free_port()
    count: Synchronized[int] = multiprocessing.Value("i", 0)  # type: ignore[assignment]
    ready = multiprocessing.Event()
    process = multiprocessing.Process(target=_receiver, args=(port, count, ready), daemon=True)
    process.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{port}/hook", count
    finally:
        process.terminate()
        process.join(5)


@dataclass
class User:
    headers: dict[str, str]
    task_id: str
    webhook_id: str | None = None


async def _users(base: str, receiver: str, count: int) -> list[User]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def one(index: int) -> User:
            email = f"hooks-{index}-{os.urandom(4).hex()}@example.com"
            body = {"email": email, "password": PASSWORD}
            await client.post("/api/v1/auth/register", json=body)
            login = await client.post("/api/v1/auth/login", json=body)
            headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
            task = await client.post("/api/v1/tasks", json={"title": "toggled"}, headers=headers)
            return User(headers, task.json()["data"]["id"])

        users = [await one(index) for index in range(count)]
        await _set_webhooks(client, users, receiver, on=True)
        return users


async def _set_webhooks(
    client: httpx.AsyncClient, users: list[User], receiver: str, *, on: bool
) -> None:
    for user in users:
        if on and user.webhook_id is None:
            made = await client.post(
                "/api/v1/webhooks", json={"url": receiver, "events": ["*"]}, headers=user.headers
            )
            user.webhook_id = made.json()["data"]["id"]
        elif not on and user.webhook_id is not None:
            await client.delete(f"/api/v1/webhooks/{user.webhook_id}", headers=user.headers)
            user.webhook_id = None


async def _backlog(base: str, users: list[User], changes: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        slots = asyncio.Semaphore(CONNECTIONS)

        async def create(index: int) -> None:
            async with slots:
                user = users[index % len(users)]
                await client.post(
                    "/api/v1/tasks", json={"title": f"c{index}"}, headers=user.headers
                )

        await asyncio.gather(*(create(index) for index in range(changes)))


async def _toggle_round(base: str, users: list[User], seconds: float) -> tuple[float, float]:
    """req/s and p99 (ms) of the toggle crowd for `seconds`."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        deadline = time.monotonic() + seconds

        async def worker(index: int) -> None:
            user = users[index % len(users)]
            while time.monotonic() < deadline:
                started = time.perf_counter()
                answer = await client.patch(
                    f"/api/v1/tasks/{user.task_id}/toggle", headers=user.headers
                )
                if answer.status_code == 200:
                    latencies.append(time.perf_counter() - started)

        began = time.monotonic()
        await asyncio.gather(*(worker(index) for index in range(CONNECTIONS)))
        elapsed = time.monotonic() - began
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
    return len(latencies) / elapsed, p99


@dataclass
class Figures:
    deliveries: int
    delivery_seconds: float
    deliveries_per_second: float
    toggle_with_webhooks_rps: float
    toggle_without_webhooks_rps: float
    toggle_with_webhooks_p99_ms: float
    toggle_without_webhooks_p99_ms: float
    deliveries_during_toggles: int

    @property
    def ratio(self) -> float:
        return self.toggle_with_webhooks_rps / self.toggle_without_webhooks_rps


def measure(database_url: str, scratch: Path, changes: int, rounds: int) -> Figures:
    environment = server_environment(database_url, scratch / "data", new_jwt_secret())
    environment.update(WEBHOOK_ALLOW_PRIVATE_TARGETS="true", WEBHOOK_POLL_SECONDS="0.05")
    with fast_receiver() as (receiver, count):
        port = free_port()
        quiet = {**environment, "WEBHOOK_DELIVERY": "false"}
        with running_server(
            "taskapp-no-delivery", taskapp_command(port, 1), quiet, port, scratch
        ) as s:
            base = s.base_url
            users = asyncio.run(_users(base, receiver, USERS))
            say(f"webhooks: a backlog of {changes} changes for {USERS} webhooks")
            asyncio.run(_backlog(base, users, changes))
        start_count = count.value
        port = free_port()
        with running_server("taskapp", taskapp_command(port, 1), environment, port, scratch) as s:
            base = s.base_url
            began = time.monotonic()
            while count.value - start_count < changes and time.monotonic() - began < 300:
                time.sleep(0.01)
            seconds = time.monotonic() - began
            delivered = count.value - start_count
            say(f"webhooks: {delivered} deliveries in {seconds:.2f} s")
            with_hooks: list[tuple[float, float]] = []
            without: list[tuple[float, float]] = []
            during = 0
            for index in range(rounds):
                for on in (True, False) if index % 2 == 0 else (False, True):
                    asyncio.run(_switch(base, users, receiver, on))
                    time.sleep(0.5)
                    before = count.value
                    result = asyncio.run(_toggle_round(base, users, ROUND_SECONDS))
                    (with_hooks if on else without).append(result)
                    if on:
                        during += count.value - before
                    say(
                        f"webhooks: toggles {'with' if on else 'without'} webhooks: "
                        f"{result[0]:.0f} req/s, p99 {result[1]:.1f} ms"
                    )
    return Figures(
        deliveries=delivered,
        delivery_seconds=round(seconds, 3),
        deliveries_per_second=round(delivered / seconds, 1),
        toggle_with_webhooks_rps=round(statistics.median(r for r, _ in with_hooks), 1),
        toggle_without_webhooks_rps=round(statistics.median(r for r, _ in without), 1),
        toggle_with_webhooks_p99_ms=round(statistics.median(p for _, p in with_hooks), 1),
        toggle_without_webhooks_p99_ms=round(statistics.median(p for _, p in without), 1),
        deliveries_during_toggles=during,
    )


async def _switch(base: str, users: list[User], receiver: str, on: bool) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await _set_webhooks(client, users, receiver, on=on)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__)
    parser.add_argument("--changes", type=int, default=CHANGES)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--output", type=Path, default=RESULTS)
    options = parser.parse_args(argv)
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="taskapp-hooks-")))
        url, _ = stack.enter_context(
            benchmark_database(os.environ.get("DATABASE_URL"), "taskapp_bench_webhooks")
        )
        migrations.upgrade(url)
        figures = measure(url, scratch, options.changes, options.rounds)
    result = {**asdict(figures), "toggle_ratio_with_to_without": round(figures.ratio, 3)}
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main()
