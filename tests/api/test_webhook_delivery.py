"""Webhook deliveries through real `taskapp serve` processes to a real receiver on
127.0.0.1 (WEBHOOK_ALLOW_PRIVATE_TARGETS=true, as in development).

Signed per Standard Webhooks (checked with its reference verifier), in cursor order,
retried with the same `webhook-id` after failures and timeouts, never redirected, disabled
after the retry window; a server killed with SIGKILL mid-delivery, or cut off from its
database, loses nothing; two servers deliver each event once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.helpers import signed_in
from tests.support.servers import free_port, is_ready, running_servers
from tests.support.tcp_proxy import proxied_server
from tests.support.webhook_receiver import Answer, Receiver, running_receiver

pytestmark = pytest.mark.slow

WEBHOOKS = "/api/v1/webhooks"
TIMEOUT = 1.0  # the servers' WEBHOOK_TIMEOUT_SECONDS; a claim lasts this + 5 s
SOON = 10.0


def _environment(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "TASKAPP_DATA_DIR": str(data_dir),
        "JWT_SECRET": "webhooks-secret-" + "w" * 40,
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "WEBHOOK_POLL_SECONDS": "0.1",
        "WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT),
        "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
        **extra,
    }


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("webhooks")
    with running_servers(1, data_dir, _environment(database_url, data_dir)) as urls:
        yield urls[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        yield client


async def hook(
    client: httpx.AsyncClient, user: dict[str, str], url: str, events: list[str] | None = None
) -> dict[str, Any]:
    made = await client.post(WEBHOOKS, json={"url": url, "events": events or ["*"]}, headers=user)
    assert made.status_code == 201, made.text
    data: dict[str, Any] = made.json()["data"]
    return data


async def task_changes(
    client: httpx.AsyncClient, user: dict[str, str], receiver: Receiver | None = None
) -> list[str]:
    """Create, rename, complete and delete a task: the cursors of the four changes. With a
    receiver, wait for the first delivery before going on (a delivery carries its object
    as it is when queued, and a deleted task is only `{id}`)."""
    made = await client.post("/api/v1/tasks", json={"title": "ship it"}, headers=user)
    task = made.json()["data"]
    cursors = [made.headers["x-sync-cursor"]]
    if receiver is not None:
        assert await receiver.wait_for(lambda r: len(r.received) >= 1, SOON)
    url = f"/api/v1/tasks/{task['id']}"
    renamed = await client.patch(url, json={"title": "ship it now"}, headers=user)
    cursors.append(renamed.headers["x-sync-cursor"])
    done = await client.patch(f"{url}/complete", headers=user)
    cursors.append(done.headers["x-sync-cursor"])
    gone = await client.delete(url, headers=user)
    cursors.append(gone.headers["x-sync-cursor"])
    return cursors


async def deliveries(client: httpx.AsyncClient, user: dict[str, str], hook_id: str) -> Any:
    found = await client.get(f"{WEBHOOKS}/{hook_id}/deliveries?limit=100", headers=user)
    return found.json()["data"]["items"]


async def test_changes_arrive_signed_in_order(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    me = await signed_in(client)
    created = await hook(client, me, receiver.url)
    cursors = await task_changes(client, me, receiver)
    assert await receiver.wait_for(lambda r: len(r.unique_ids()) >= 4, SOON)
    bodies = receiver.bodies()
    assert [body["type"] for body in bodies] == [
        "task.created",
        "task.updated",
        "task.completed",
        "task.deleted",
    ]
    assert [body["cursor"] for body in bodies] == cursors
    assert bodies[0]["data"]["title"] == "ship it"
    assert set(bodies[3]["data"]) == {"id"}
    for item in receiver.received:
        assert receiver.verify(created["secret"], item) == item.json
        assert item.headers["content-type"] == "application/json"
    # Tampered bodies and other secrets fail the stock verifier.
    first = receiver.received[0]
    with pytest.raises(Exception, match=r"(?i)signature"):
        receiver.verify(created["secret"], type(first)(first.headers, first.body + b" ", 0))
    await asyncio.sleep(0.3)
    log = await deliveries(client, me, created["id"])
    assert [entry["status"] for entry in log] == ["delivered"] * 4
    assert [entry["cursor"] for entry in log] == cursors[::-1]  # newest first
    assert all(entry["response_status"] == 200 and entry["attempts"] == 1 for entry in log)
    again = (await client.get(f"{WEBHOOKS}/{created['id']}", headers=me)).json()["data"]
    assert again["last_delivery"]["status"] == "delivered"
    assert again["last_delivery"]["response_status"] == 200


async def test_only_the_selected_events_are_sent_and_a_ping_works(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    me = await signed_in(client)
    created = await hook(client, me, receiver.url, ["task.completed", "list.*"])
    await task_changes(client, me)
    await client.post("/api/v1/lists", json={"name": "Errands"}, headers=me)
    await client.post(f"{WEBHOOKS}/{created['id']}/test", headers=me)
    assert await receiver.wait_for(lambda r: len(r.unique_ids()) >= 3, SOON)
    await asyncio.sleep(0.5)
    types = sorted(body["type"] for body in receiver.bodies())
    assert types == ["list.created", "ping", "task.completed"]


async def test_failures_and_timeouts_are_retried_with_the_same_id(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    answers = [Answer(status=500), Answer(delay=TIMEOUT + 0.5), Answer(status=503)]
    receiver.policy = lambda _r, count: answers[count] if count < len(answers) else Answer()
    me = await signed_in(client)
    created = await hook(client, me, receiver.url, ["task.created"])
    await client.post("/api/v1/tasks", json={"title": "retry me"}, headers=me)
    assert await receiver.wait_for(lambda r: len(r.received) >= 4, 20)
    assert len(receiver.unique_ids()) == 1  # one delivery, four attempts
    await asyncio.sleep(0.3)
    (entry,) = await deliveries(client, me, created["id"])
    assert entry["status"] == "delivered"
    assert entry["attempts"] == 4
    for item in receiver.received:
        receiver.verify(created["secret"], item)  # re-signed for each attempt's timestamp


async def test_redirects_are_not_followed(client: httpx.AsyncClient) -> None:
    with running_receiver() as elsewhere, running_receiver() as receiver:
        receiver.policy = lambda _r, _c: Answer(status=302, headers={"location": elsewhere.url})
        me = await signed_in(client)
        created = await hook(client, me, receiver.url, ["task.created"])
        await client.post("/api/v1/tasks", json={"title": "go away"}, headers=me)
        assert await receiver.wait_for(lambda r: len(r.received) >= 2, SOON)
        (entry,) = await deliveries(client, me, created["id"])
        assert entry["status"] == "pending"
        assert entry["response_status"] == 302
        assert entry["last_error"] == "HTTP 302"
        assert elsewhere.connections == 0


async def test_a_huge_answer_is_not_read_whole(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.policy = lambda _r, _c: Answer(body=b"x" * (32 * 1024 * 1024))
    me = await signed_in(client)
    created = await hook(client, me, receiver.url, ["task.created"])
    await client.post("/api/v1/tasks", json={"title": "big answer"}, headers=me)
    assert await receiver.wait_for(lambda r: len(r.received) >= 1, SOON)
    for _ in range(50):
        log = await deliveries(client, me, created["id"])
        if log and log[0]["status"] != "pending":
            break
        await asyncio.sleep(0.1)
    assert log[0]["status"] == "delivered"
    assert len(receiver.received) == 1


async def test_after_the_retry_window_the_webhook_is_disabled_until_patched(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir = tmp_path_factory.mktemp("webhooks-window")
    environment = _environment(database_url, data_dir, WEBHOOK_RETRY_WINDOW_SECONDS="2")
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
    environment = _environment(database_url, data_dir)
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
    environment = _environment(database_url, data_dir)
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
    environment = _environment(database_url, data_dir)
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


async def test_a_slow_receiver_holds_up_only_its_own_deliveries(
    client: httpx.AsyncClient,
) -> None:
    """One webhook's receiver never answers in time (each attempt takes the whole timeout)
    while it has a backlog; another user's webhook still gets its deliveries at once."""
    with running_receiver() as slow, running_receiver() as fast:
        slow.policy = lambda _r, _c: Answer(delay=TIMEOUT + 0.5)
        stuck = await signed_in(client)
        await hook(client, stuck, slow.url, ["task.created"])
        for number in range(8):
            await client.post("/api/v1/tasks", json={"title": f"s{number}"}, headers=stuck)
        assert await slow.wait_for(lambda r: len(r.received) >= 1, SOON)
        me = await signed_in(client)
        await hook(client, me, fast.url, ["task.created"])
        started = asyncio.get_running_loop().time()
        await client.post("/api/v1/tasks", json={"title": "prompt"}, headers=me)
        assert await fast.wait_for(lambda r: len(r.received) >= 1, SOON)
        assert asyncio.get_running_loop().time() - started < 3 * TIMEOUT
        assert len(slow.received) < 8  # the slow one is still working through its backlog
