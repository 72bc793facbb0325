"""Webhook deliveries through one real `taskapp serve` process (shared by this module) to
real receivers on 127.0.0.1 (WEBHOOK_ALLOW_PRIVATE_TARGETS=true, as in development).

Signed per Standard Webhooks (checked with its reference verifier), in cursor order,
retried with the same `webhook-id` after failures and timeouts, never redirected; a slow
receiver holds up only its own deliveries. Tests that start servers of their own (faults,
other settings) are in test_webhook_delivery_faults.py, where no other server's delivery
loop claims their deliveries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.api.helpers import signed_in
from tests.api.webhook_helpers import (
    SOON,
    TIMEOUT,
    WEBHOOKS,
    deliveries,
    delivery_environment,
    hook,
)
from tests.support.servers import running_servers
from tests.support.webhook_receiver import Answer, Receiver, running_receiver

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("webhooks")
    with running_servers(1, data_dir, delivery_environment(database_url, data_dir)) as urls:
        yield urls[0]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, timeout=10) as client:
        yield client


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
