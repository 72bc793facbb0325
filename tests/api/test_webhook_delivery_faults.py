"""Webhook deliveries through `taskapp serve` processes each test starts itself: after the
retry window the webhook is disabled; a server killed with SIGKILL mid-delivery, or cut off
from its database, loses nothing; two servers deliver each event once.

No server outlives its test here: a second delivery loop on the same database would claim
some of a test's deliveries with its own settings (the retry window's test once saw its
webhook stay active for 30 s because the other loop, with a day's window, kept retrying)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.helpers import signed_in
from tests.api.webhook_helpers import SOON, WEBHOOKS, deliveries, delivery_environment, hook
from tests.support.servers import free_port, is_ready, running_servers
from tests.support.tcp_proxy import proxied_server
from tests.support.webhook_receiver import Answer, running_receiver

pytestmark = pytest.mark.slow


async def test_after_the_retry_window_the_webhook_is_disabled_until_patched(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp("webhooks-window")
    environment = delivery_environment(database_url, data_dir, WEBHOOK_RETRY_WINDOW_SECONDS="2")
    with (
        running_receiver() as receiver,
        running_servers(1, data_dir, environment) as (url,),
    ):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            receiver.policy = lambda _r, _c: Answer(status=500)
            me = await signed_in(client)
            created = await hook(client, me, receiver.url, ["task.created"])
            await client.post("/api/v1/tasks", json={"title": "doomed"}, headers=me)
            path = f"{WEBHOOKS}/{created['id']}"
            deadline = asyncio.get_running_loop().time() + 30  # a 2 s window, a slow machine
            while True:
                found = (await client.get(path, headers=me)).json()["data"]
                if found["status"] == "disabled" or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.1)
            assert found["status"] == "disabled"
            assert "HTTP 500" in found["disabled_reason"]
            (entry,) = await deliveries(client, me, created["id"])
            assert entry["status"] == "failed"
            assert entry["attempts"] >= 2
            # Changes while disabled are not queued; turned active, it starts from now.
            await client.post("/api/v1/tasks", json={"title": "missed"}, headers=me)
            await asyncio.sleep(0.5)
            receiver.policy = lambda _r, _c: Answer()
            back = await client.patch(path, json={"status": "active"}, headers=me)
            assert back.json()["data"]["status"] == "active"
            assert back.json()["data"]["disabled_reason"] is None
            before = len(receiver.unique_ids())
            await client.post("/api/v1/tasks", json={"title": "after"}, headers=me)
            assert await receiver.wait_for(lambda r: len(r.unique_ids()) > before, SOON)
            await asyncio.sleep(0.3)
            titles = [b["data"]["title"] for b in receiver.bodies()]
            assert "after" in titles
            assert "missed" not in titles


def _start(port: int, environment: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "taskapp.entrypoints.cli", "serve", "--port", str(port)],
        env={**os.environ, **environment},
        cwd=workdir,
        start_new_session=True,  # its own process group: SIGKILL reaches its workers too
    )


async def _ready(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if await asyncio.to_thread(is_ready, url):
            return
        assert process.poll() is None, "the server exited"
        await asyncio.sleep(0.2)
    raise AssertionError(f"{url} did not become ready")


async def test_a_server_killed_mid_delivery_loses_nothing(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """SIGKILL while the receiver holds the first delivery: after a restart every event
    arrives, and the one in flight comes again with the same `webhook-id`."""
    data_dir = tmp_path_factory.mktemp("webhooks-kill")
    environment = delivery_environment(database_url, data_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_receiver() as receiver:
        receiver.policy = lambda _r, count: Answer(delay=30) if count == 0 else Answer()
        process = _start(port, environment, data_dir)
        try:
            await _ready(url, process)
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                me = await signed_in(client)
                await hook(client, me, receiver.url, ["task.created"])
                for number in range(5):
                    await client.post("/api/v1/tasks", json={"title": f"t{number}"}, headers=me)
            assert await receiver.wait_for(lambda r: len(r.received) >= 1, SOON)
            in_flight = receiver.received[0].id
            os.killpg(process.pid, signal.SIGKILL)  # the server and its worker, at once
            process.wait(timeout=10)
            process = _start(port, environment, data_dir)
            await _ready(url, process)
            # The claim runs out (timeout + 5 s) and the restarted server sends it again.
            assert await receiver.wait_for(
                lambda r: [item.id for item in r.received].count(in_flight) >= 2, 30
            )
            assert await receiver.wait_for(lambda r: len(r.unique_ids()) >= 5, 30)
            titles = sorted(body["data"]["title"] for body in receiver.bodies())
            assert titles == [f"t{n}" for n in range(5)]
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)


async def test_two_servers_deliver_each_event_once(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp("webhooks-two")
    environment = delivery_environment(database_url, data_dir)
    with (
        running_receiver() as receiver,
        running_servers(2, data_dir, environment) as (one, two),
    ):
        async with (
            httpx.AsyncClient(base_url=one, timeout=10) as first,
            httpx.AsyncClient(base_url=two, timeout=10) as second,
        ):
            me = await signed_in(first)
            await hook(first, me, receiver.url, ["task.created"])
            for number in range(30):
                writer = first if number % 2 else second
                await writer.post("/api/v1/tasks", json={"title": f"n{number}"}, headers=me)
            assert await receiver.wait_for(lambda r: len(r.unique_ids()) >= 30, 20)
            await asyncio.sleep(1.0)
            assert len(receiver.received) == 30  # each once: no duplicates in the normal case
            titles = sorted(body["data"]["title"] for body in receiver.bodies())
            assert titles == sorted(f"n{number}" for number in range(30))


async def test_a_database_cut_mid_delivery_loses_nothing(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The receiver holds a delivery while the database is cut: the answer cannot be
    recorded then; once the database is back, every event is delivered."""
    data_dir = tmp_path_factory.mktemp("webhooks-cut")
    environment = delivery_environment(database_url, data_dir)
    async with proxied_server(database_url, data_dir, environment) as (url, proxy):
        with running_receiver() as receiver:
            receiver.policy = lambda _r, count: Answer(delay=0.8) if count == 0 else Answer()
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                me = await signed_in(client)
                await hook(client, me, receiver.url, ["task.created"])
                for number in range(3):
                    await client.post("/api/v1/tasks", json={"title": f"c{number}"}, headers=me)
                assert await receiver.wait_for(lambda r: len(r.received) >= 1, SOON)
                proxy.cut()
                await asyncio.sleep(3)
                proxy.restore()
                assert await receiver.wait_for(lambda r: len(r.unique_ids()) >= 3, 30)
                for number in range(3, 5):
                    made = await client.post(
                        "/api/v1/tasks", json={"title": f"c{number}"}, headers=me
                    )
                    assert made.status_code == 201
                assert await receiver.wait_for(lambda r: len(r.unique_ids()) >= 5, 30)
                titles = sorted(body["data"]["title"] for body in receiver.bodies())
                assert titles == [f"c{n}" for n in range(5)]


async def test_changes_are_delivered_on_notice_not_at_the_next_poll(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The loop wakes on the change notices the event streams use: with a 60 s poll, each
    change still reaches the receiver within seconds (a new webhook's owner is learnt at
    the loop's next look, at most a second after a notice)."""
    data_dir = tmp_path_factory.mktemp("webhooks-notice")
    environment = delivery_environment(database_url, data_dir, WEBHOOK_POLL_SECONDS="60")
    with (
        running_receiver() as receiver,
        running_servers(1, data_dir, environment) as (url,),
    ):
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            me = await signed_in(client)
            await hook(client, me, receiver.url, ["task.created"])
            for number in range(3):
                await client.post("/api/v1/tasks", json={"title": f"n{number}"}, headers=me)
                assert await receiver.wait_for(lambda r, n=number: len(r.unique_ids()) > n, SOON), (
                    f"delivery {number} waited for the poll"
                )
    assert [body["data"]["title"] for body in receiver.bodies()] == ["n0", "n1", "n2"]
