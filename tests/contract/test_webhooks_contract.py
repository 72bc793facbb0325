"""Webhooks on both adapters, driven through the use cases: the per-user limit and
isolation; the dispatcher queuing each logged change once, in order, delivering, retrying
after the lease runs out, and disabling a webhook whose deliveries fail past the window."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from taskapp.domain.errors import LimitReached, WebhookNotFound
from taskapp.domain.model import PageRequest
from taskapp.domain.model.sync import ChangeEvent
from taskapp.domain.model.webhooks import (
    DELIVERY_LEASE_MARGIN,
    DeliveryStatus,
    RetryPolicy,
    SendResult,
    TargetUrl,
    WebhookStatus,
)
from taskapp.domain.services.webhooks import WebhookDispatcher, WebhookService
from tests.contract.test_adapters_contract import Adapters, add_task, add_user, delete
from tests.unit.fakes import FixedClock

TIMEOUT = timedelta(seconds=2)


class Payloads:
    def change(self, event: ChangeEvent, cursor: str, at: datetime) -> bytes:
        return json.dumps({"type": event.type.value, "id": str(event.object_id)}).encode()

    def ping(self, webhook_id: UUID, cursor: str, at: datetime) -> bytes:
        return json.dumps({"type": "ping", "id": str(webhook_id)}).encode()


class AnyTarget:
    async def check(self, target: TargetUrl) -> None:
        return None


class Sender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str], bytes]] = []
        self.status: int | None = 200

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        self.sent.append((url, headers, body))
        return SendResult(self.status, None if self.status == 200 else "down")

    def types(self) -> list[str]:
        return [json.loads(body)["type"] for _, _, body in self.sent]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 22, 12, 0, tzinfo=UTC))


def service(adapters: Adapters, clock: FixedClock) -> WebhookService:
    return WebhookService(adapters.webhooks, AnyTarget(), adapters.sync_reads, Payloads(), clock)


class Dispatcher(WebhookDispatcher):
    """Waits for what it sends, so each test reads the outcome right after."""

    async def deliver_due(self) -> int:
        claimed = await super().deliver_due()
        await self.drain()
        return claimed


def dispatcher(
    adapters: Adapters, clock: FixedClock, sender: Sender, window: timedelta = timedelta(hours=24)
) -> WebhookDispatcher:
    return Dispatcher(
        adapters.webhooks,
        adapters.sync_reads,
        sender,
        Payloads(),
        clock,
        policy=RetryPolicy(window=window),
        timeout=TIMEOUT,
    )


async def test_limit_and_isolation(adapters: Adapters, clock: FixedClock) -> None:
    hooks = service(adapters, clock)
    ada = await add_user(adapters)
    bob = await add_user(adapters, "bob@example.com")
    made = []
    for _ in range(10):
        made.append(await hooks.create(ada.id, "https://hooks.example.com/", ["*"], None))
        clock.advance(seconds=1)
    with pytest.raises(LimitReached):
        await hooks.create(ada.id, "https://hooks.example.com/", ["*"], None)
    assert [w.id for w in await hooks.list_for(ada.id)] == [w.id for w in made]
    assert await hooks.list_for(bob.id) == []
    with pytest.raises(WebhookNotFound):
        await hooks.get(bob.id, made[0].id)
    with pytest.raises(WebhookNotFound):
        await hooks.delete(bob.id, made[0].id)
    changed = await hooks.update(ada.id, made[0].id, events=["task.deleted"], description="x")
    assert (await hooks.get(ada.id, made[0].id)).events == frozenset({"task.deleted"})
    assert changed.description == "x"
    await hooks.delete(ada.id, made[0].id)
    assert len(await hooks.list_for(ada.id)) == 9


async def test_each_change_is_queued_once_and_delivered_in_order(
    adapters: Adapters, clock: FixedClock
) -> None:
    ada = await add_user(adapters)
    before = await add_task(adapters, ada, "before the webhook")
    hook = await service(adapters, clock).create(ada.id, "https://h.example/", ["task.*"], None)
    tasks = [await add_task(adapters, ada, f"t{n}") for n in range(3)]
    await delete(adapters, tasks[0])
    sender = Sender()
    run = dispatcher(adapters, clock, sender)
    assert await run.queue_changes() == 4
    assert await run.queue_changes() == 0  # nothing twice
    assert await run.deliver_due() == 4
    assert sender.types() == ["task.created"] * 3 + ["task.deleted"]
    assert [json.loads(b)["id"] for _, _, b in sender.sent][:3] == [str(t.id) for t in tasks]
    assert str(before.id) not in str(sender.sent)
    assert len({headers["webhook-id"] for _, headers, _ in sender.sent}) == 4
    assert await run.deliver_due() == 0
    log = await service(adapters, clock).deliveries(ada.id, hook.id, PageRequest.of(1, 20))
    assert log.total == 4
    assert {d.status for d in log.items} == {DeliveryStatus.DELIVERED}
    found = await service(adapters, clock).get(ada.id, hook.id)
    assert found.last_delivery is not None
    assert found.last_delivery.status is DeliveryStatus.DELIVERED


async def test_a_stale_position_queues_nothing(adapters: Adapters, clock: FixedClock) -> None:
    ada = await add_user(adapters)
    hook = await service(adapters, clock).create(ada.id, "https://h.example/", ["*"], None)
    await add_task(adapters, ada)
    (behind,) = await adapters.webhooks.behind(10)
    head = await adapters.sync_reads.head(ada.id)
    assert await adapters.webhooks.advance(behind, head, [])
    assert not await adapters.webhooks.advance(behind, head, [])
    assert await adapters.webhooks.behind(10) == []
    assert hook.position == behind.position


async def test_a_claim_hides_a_delivery_until_its_lease_runs_out(
    adapters: Adapters, clock: FixedClock
) -> None:
    ada = await add_user(adapters)
    hook = await service(adapters, clock).create(ada.id, "https://h.example/", ["*"], None)
    ping = await service(adapters, clock).ping(ada.id, hook.id)
    (first,) = await adapters.webhooks.claim(clock.now(), TIMEOUT, 10, per_webhook=4)
    assert first.id == ping.id
    assert first.attempts == 1
    assert await adapters.webhooks.claim(clock.now(), TIMEOUT, 10, per_webhook=4) == []
    clock.advance(seconds=(TIMEOUT + DELIVERY_LEASE_MARGIN).total_seconds() + 1)
    (again,) = await adapters.webhooks.claim(clock.now(), TIMEOUT, 10, per_webhook=4)
    assert again.id == ping.id
    assert again.attempts == 2


async def test_claims_take_a_share_per_webhook_and_lease_each_for_its_place(
    adapters: Adapters, clock: FixedClock
) -> None:
    ada = await add_user(adapters)
    hooks = service(adapters, clock)
    one = await hooks.create(ada.id, "https://one.example/", ["*"], None)
    two = await hooks.create(ada.id, "https://two.example/", ["*"], None)
    pings = [await hooks.ping(ada.id, one.id) for _ in range(5)]
    await hooks.ping(ada.id, two.id)
    claimed = await adapters.webhooks.claim(
        clock.now(), TIMEOUT, 10, per_webhook=3, skip=frozenset({two.id})
    )
    assert [c.id for c in claimed] == [p.id for p in pings[:3]]
    # The third of a webhook's is hidden for three timeouts (sent after the first two).
    clock.advance(seconds=(2 * TIMEOUT + DELIVERY_LEASE_MARGIN).total_seconds() + 1)
    again = await adapters.webhooks.claim(clock.now(), TIMEOUT, 10, per_webhook=10)
    assert {c.id for c in again} >= {pings[0].id, pings[1].id}
    assert pings[2].id not in {c.id for c in again}
    assert {c.webhook_id for c in again} == {one.id, two.id}


async def test_failures_past_the_window_disable_the_webhook(
    adapters: Adapters, clock: FixedClock
) -> None:
    ada = await add_user(adapters)
    hooks = service(adapters, clock)
    hook = await hooks.create(ada.id, "https://h.example/", ["*"], None)
    await add_task(adapters, ada, "one")
    await add_task(adapters, ada, "two")
    sender = Sender()
    sender.status = 500
    run = dispatcher(adapters, clock, sender, window=timedelta(seconds=30))
    await run.queue_changes()
    await run.deliver_due()
    assert (await hooks.get(ada.id, hook.id)).status is WebhookStatus.ACTIVE
    log = (await hooks.deliveries(ada.id, hook.id, PageRequest.of(1, 20))).items
    assert {d.status for d in log} == {DeliveryStatus.PENDING}
    assert all(d.last_error == "down" and d.response_status == 500 for d in log)
    for _ in range(20):
        clock.advance(seconds=10)
        await run.deliver_due()
    disabled = await hooks.get(ada.id, hook.id)
    assert disabled.status is WebhookStatus.DISABLED
    assert disabled.disabled_reason is not None
    assert "down" in disabled.disabled_reason
    log = (await hooks.deliveries(ada.id, hook.id, PageRequest.of(1, 20))).items
    assert {d.status for d in log} == {DeliveryStatus.FAILED}
    # Disabled: new changes are not queued; turned on again, it starts from the head.
    await add_task(adapters, ada, "while off")
    assert await run.queue_changes() == 0
    back = await hooks.update(ada.id, hook.id, status="active")
    assert back.status is WebhookStatus.ACTIVE
    assert await run.queue_changes() == 0
    await add_task(adapters, ada, "after")
    sender.status = 200
    sender.sent.clear()
    assert await run.queue_changes() == 1
    assert await run.deliver_due() == 1
    assert sender.types() == ["task.created"]


async def test_settled_deliveries_are_pruned(adapters: Adapters, clock: FixedClock) -> None:
    ada = await add_user(adapters)
    hook = await service(adapters, clock).create(ada.id, "https://h.example/", ["*"], None)
    await service(adapters, clock).ping(ada.id, hook.id)
    await service(adapters, clock).ping(ada.id, hook.id)
    run = dispatcher(adapters, clock, Sender())
    await run.deliver_due()
    await service(adapters, clock).ping(ada.id, hook.id)  # pending: kept
    clock.advance(days=31)
    assert await run.prune(timedelta(days=30)) == 2
    left = await service(adapters, clock).deliveries(ada.id, hook.id, PageRequest.of(1, 20))
    assert [d.status for d in left.items] == [DeliveryStatus.PENDING]


async def test_active_owners_are_the_users_with_an_active_webhook(
    adapters: Adapters, clock: FixedClock
) -> None:
    hooks = service(adapters, clock)
    ada = await add_user(adapters)
    bob = await add_user(adapters, "bob@example.com")
    await add_user(adapters, "cy@example.com")  # no webhook
    ada_hook = await hooks.create(ada.id, "https://h.example/", ["*"], None)
    bob_hook = await hooks.create(bob.id, "https://h.example/", ["*"], None)
    await hooks.create(ada.id, "https://h.example/2", ["*"], None)
    assert await adapters.webhooks.active_owners() == {ada.id, bob.id}
    await adapters.webhooks.disable(bob_hook.id, "down", clock.now())
    assert await adapters.webhooks.active_owners() == {ada.id}
    await hooks.delete(ada.id, ada_hook.id)
    assert await adapters.webhooks.active_owners() == {ada.id}  # her second one
    assert bob.id not in await adapters.webhooks.active_owners()


async def test_a_notice_wakes_the_loop_at_once_for_an_owner_else_within_a_second(
    adapters: Adapters, clock: FixedClock
) -> None:
    ada = await add_user(adapters)
    stranger = await add_user(adapters, "stranger@example.com")
    await service(adapters, clock).create(ada.id, "https://h.example/", ["*"], None)
    run = dispatcher(adapters, clock, Sender())
    await run.queue_changes()  # a look: it learns who has webhooks

    async def woken(seconds: float = 0.2) -> bool:
        try:
            await asyncio.wait_for(run.until_woken(30), seconds)
        except TimeoutError:
            return False
        return True

    run.changed(ada.id)
    assert await woken()
    run.changed(stranger.id)  # no webhook, and the loop looked just now ...
    run.changed(None)
    assert not await woken()
    # ... but not forgotten: a second after that look, the loop looks again (a webhook may
    # have been made meanwhile on another instance).
    assert await woken(2.0)
    await run.stop()
