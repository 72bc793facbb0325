"""Webhooks: managing them (`WebhookService`) and delivering to them (`WebhookDispatcher`).

The dispatcher runs in every server process with no coordinator: each round it queues the
logged changes that webhooks have not seen yet (a guarded write, so two processes never
queue one change twice) and sends the deliveries that are due (claimed one process at a
time, for as long as a delivery may take). A process that dies mid-delivery leaves a claim
that expires; another process sends the delivery again with the same `webhook-id`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from datetime import timedelta
from time import monotonic
from uuid import UUID

from taskapp.domain.errors import DomainError, LimitReached, ValidationFailed, WebhookNotFound
from taskapp.domain.model import Page, PageRequest
from taskapp.domain.model.sync import EVENT_BATCH, SyncCursor
from taskapp.domain.model.webhooks import (
    DELIVERY_TIMEOUT,
    PING,
    WEBHOOKS_PER_USER,
    ClaimedDelivery,
    Delivery,
    DeliveryStatus,
    RetryPolicy,
    SendResult,
    TargetUrl,
    Webhook,
    WebhookStatus,
    new_secret,
    normalize_description,
    parse_events,
    selects,
    sign,
)
from taskapp.domain.ports import Clock
from taskapp.domain.ports.sync import SyncReads
from taskapp.domain.ports.webhooks import (
    EventPayloads,
    TargetGuard,
    WebhookOutbox,
    WebhookSender,
    WebhookStore,
)

logger = logging.getLogger(__name__)


class WebhookService:
    def __init__(
        self,
        store: WebhookStore,
        guard: TargetGuard,
        reads: SyncReads,
        payloads: EventPayloads,
        clock: Clock,
        *,
        allow_http: bool = False,
        per_user: int = WEBHOOKS_PER_USER,
    ) -> None:
        self._store = store
        self._guard = guard
        self._reads = reads
        self._payloads = payloads
        self._clock = clock
        self._allow_http = allow_http
        self._per_user = per_user

    async def _target(self, url: str) -> str:
        target = TargetUrl.parse(url, self._allow_http)
        await self._guard.check(target)
        return target.url

    async def create(
        self, user_id: UUID, url: str, events: list[str], description: str | None
    ) -> Webhook:
        """A new active webhook that receives changes from now on (its secret is in it)."""
        selection = parse_events(events)
        text = normalize_description(description)
        checked = await self._target(url)
        now = self._clock.now()
        webhook = Webhook(
            id=uuid.uuid4(),
            user_id=user_id,
            url=checked,
            events=selection,
            description=text,
            secret=new_secret(),
            status=WebhookStatus.ACTIVE,
            disabled_reason=None,
            position=await self._reads.head(user_id),
            created_at=now,
            updated_at=now,
        )
        if not await self._store.add(webhook, self._per_user):
            raise LimitReached(
                f"You already have {self._per_user} webhooks; delete one you no longer use"
            )
        return webhook

    async def list_for(self, user_id: UUID) -> list[Webhook]:
        return await self._store.list_for(user_id)

    async def get(self, user_id: UUID, webhook_id: UUID) -> Webhook:
        """Someone else's webhook answers exactly like one that does not exist."""
        found = await self._store.get(user_id, webhook_id)
        if found is None:
            raise WebhookNotFound
        return found

    async def update(
        self,
        user_id: UUID,
        webhook_id: UUID,
        *,
        url: str | None = None,
        events: list[str] | None = None,
        description: str | None = None,
        status: str | None = None,
    ) -> Webhook:
        if status is not None and status != WebhookStatus.ACTIVE.value:
            raise ValidationFailed.of("status", "must be one of: active")
        selection = None if events is None else parse_events(events)
        text = None if description is None else normalize_description(description)
        checked = None if url is None else await self._target(url)
        current = await self.get(user_id, webhook_id)
        reactivate = status is not None and current.status is WebhookStatus.DISABLED
        head = await self._reads.head(user_id) if reactivate else current.position
        changed = current.changed(
            self._clock.now(), head, checked, selection, text, reactivate=reactivate
        )
        if not await self._store.save(changed):
            raise WebhookNotFound
        return changed

    async def delete(self, user_id: UUID, webhook_id: UUID) -> None:
        if not await self._store.delete(user_id, webhook_id):
            raise WebhookNotFound

    async def ping(self, user_id: UUID, webhook_id: UUID) -> Delivery:
        """Queue a `ping` event for the webhook (sent while it is active)."""
        webhook = await self.get(user_id, webhook_id)
        now = self._clock.now()
        head = await self._reads.head(user_id)
        cursor = SyncCursor(user_id, head).encode()
        delivery = Delivery(
            id=uuid.uuid4(),
            webhook_id=webhook.id,
            user_id=user_id,
            event=PING,
            seq=head,
            body=self._payloads.ping(webhook.id, cursor, now),
            status=DeliveryStatus.PENDING,
            attempts=0,
            response_status=None,
            next_attempt_at=now,
            created_at=now,
        )
        await self._store.queue(delivery)
        return delivery

    async def deliveries(
        self, user_id: UUID, webhook_id: UUID, page: PageRequest
    ) -> Page[Delivery]:
        await self.get(user_id, webhook_id)
        return await self._store.deliveries(user_id, webhook_id, page)


# A notice of a user without an active webhook wakes the loop at most this often.
UNKNOWN_USER_WAKE_SECONDS = 1.0


class WebhookDispatcher:
    """Every server process runs one. Each webhook's claimed deliveries are sent in the
    background, one after another; while a webhook has some in flight, this process claims
    no more of its, so a slow receiver holds up only its own deliveries."""

    def __init__(
        self,
        outbox: WebhookOutbox,
        reads: SyncReads,
        sender: WebhookSender,
        payloads: EventPayloads,
        clock: Clock,
        *,
        policy: RetryPolicy | None = None,
        timeout: timedelta = DELIVERY_TIMEOUT,
        batch: int = 64,
        per_webhook: int = 16,
        concurrency: int = 64,
    ) -> None:
        self._outbox = outbox
        self._reads = reads
        self._sender = sender
        self._payloads = payloads
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._timeout = timeout
        self._batch = batch
        self._per_webhook = per_webhook
        self._concurrency = concurrency
        self._in_flight: dict[UUID, asyncio.Task[None]] = {}
        # Set when there may be work: a change noticed, a webhook's deliveries settled.
        self._wake = asyncio.Event()
        self._owners: frozenset[UUID] = frozenset()  # users with an active webhook
        self._looked_at = -UNKNOWN_USER_WAKE_SECONDS  # monotonic() when owners were read
        self._deferred: asyncio.TimerHandle | None = None

    def changed(self, user_id: UUID | None) -> None:
        """A notice that `user_id`'s log grew (None: anyone's may have). Wakes the loop at
        once for a user with an active webhook; for anyone else a second after the loop
        last read who has one (at once if that is past), so a webhook made meanwhile, here
        or on another instance, is learnt within a second, and a crowd of users without
        webhooks costs at most one round a second."""
        if user_id is not None and user_id in self._owners:
            self._wake.set()
            return
        wait = self._looked_at + UNKNOWN_USER_WAKE_SECONDS - monotonic()
        if wait <= 0:
            self._wake.set()
        elif self._deferred is None:
            self._deferred = asyncio.get_running_loop().call_later(wait, self._deferred_wake)

    def _deferred_wake(self) -> None:
        self._deferred = None
        self._wake.set()

    async def queue_changes(self, webhooks_per_round: int = 50) -> int:
        """Queue the logged changes webhooks have not seen; how many changes were read. Who
        has a webhook is looked up again at most once a second (rounds follow each other
        at once while there is work)."""
        if monotonic() - self._looked_at >= UNKNOWN_USER_WAKE_SECONDS:
            self._owners = await self._outbox.active_owners()
            self._looked_at = monotonic()
        read = 0
        for webhook in await self._outbox.behind(webhooks_per_round):
            events = await self._reads.events(webhook.user_id, webhook.position, EVENT_BATCH)
            if not events:
                continue
            read += len(events)
            now = self._clock.now()
            deliveries = [
                Delivery(
                    id=uuid.uuid4(),
                    webhook_id=webhook.id,
                    user_id=webhook.user_id,
                    event=event.type.value,
                    seq=event.seq,
                    body=self._payloads.change(
                        event, SyncCursor(webhook.user_id, event.seq).encode(), now
                    ),
                    status=DeliveryStatus.PENDING,
                    attempts=0,
                    response_status=None,
                    next_attempt_at=now,
                    created_at=now,
                )
                for event in events
                if selects(webhook.events, event.type)
            ]
            await self._outbox.advance(webhook, events[-1].seq, deliveries)
        return read

    async def deliver_due(self) -> int:
        """Claim the deliveries that are due (a batch) and start sending them; how many
        were claimed. One webhook's go one after another in cursor order, different
        webhooks' side by side (at most `concurrency` webhooks at once); each outcome is
        recorded as soon as it is known."""
        if len(self._in_flight) >= self._concurrency:
            return 0
        claimed = await self._outbox.claim(
            self._clock.now(),
            self._timeout,
            self._batch,
            per_webhook=self._per_webhook,
            skip=frozenset(self._in_flight),
        )
        by_webhook: dict[UUID, list[ClaimedDelivery]] = {}
        for delivery in claimed:
            by_webhook.setdefault(delivery.webhook_id, []).append(delivery)
        for webhook_id, group in by_webhook.items():
            task = asyncio.get_running_loop().create_task(self._deliver_in_order(group))
            self._in_flight[webhook_id] = task
            task.add_done_callback(functools.partial(self._done, webhook_id))
        return len(claimed)

    def _done(self, webhook_id: UUID, _task: asyncio.Task[None]) -> None:
        self._in_flight.pop(webhook_id, None)
        self._wake.set()  # its webhook may have more due

    async def until_woken(self, seconds: float) -> None:
        """Wait until there may be work (a change noticed for a webhook's owner, a webhook's
        deliveries in flight all settled, since the last wait), or `seconds`."""
        if not self._wake.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def drain(self) -> None:
        """Wait for every delivery in flight to be sent and settled."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def stop(self) -> None:
        """Abandon what is in flight: claims run out, and any process sends it again."""
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        for task in list(self._in_flight.values()):
            task.cancel()
        await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _deliver_in_order(self, deliveries: list[ClaimedDelivery]) -> None:
        try:
            for delivery in deliveries:
                result = await self._send(delivery)
                now = self._clock.now()
                done = self._policy.outcome(delivery, result, now)
                await self._outbox.settle([done], now)
                if done.status is DeliveryStatus.FAILED:
                    reason = self._policy.disabled_reason(done)
                    await self._outbox.disable(done.webhook_id, reason, now)
                    return  # the rest of its deliveries failed with it
        except DomainError as error:  # the database went away: the claims run out, retried
            logger.warning("webhook deliveries paused: %s", error.message)

    async def _send(self, delivery: ClaimedDelivery) -> SendResult:
        timestamp = int(self._clock.now().timestamp())
        message_id = str(delivery.id)
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(delivery.secret, message_id, timestamp, delivery.body),
        }
        try:
            return await self._sender.send(delivery.url, headers, delivery.body)
        except Exception:  # a bug in a sender must not stop the loop; retried later
            logger.exception("a webhook delivery failed unexpectedly")
            return SendResult(None, "the delivery failed inside the server")

    async def prune(self, keep: timedelta) -> int:
        return await self._outbox.prune(self._clock.now() - keep)
