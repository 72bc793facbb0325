"""Webhooks in memory: both ports over the store's change log. Held to the PostgreSQL
adapter by tests/contract."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from taskapp.adapters.memory.store import MemoryStore
from taskapp.domain.model import Page, PageRequest
from taskapp.domain.model.webhooks import (
    DELIVERY_LEASE_MARGIN,
    ClaimedDelivery,
    Delivery,
    DeliveryOutcome,
    DeliveryStatus,
    LastDelivery,
    Webhook,
    WebhookStatus,
)


class MemoryWebhooks:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._webhooks: dict[UUID, Webhook] = {}
        self._deliveries: dict[UUID, Delivery] = {}
        self._attempted_at: dict[UUID, datetime] = {}

    def _with_last(self, webhook: Webhook) -> Webhook:
        attempted = [
            d
            for d in self._deliveries.values()
            if d.webhook_id == webhook.id and d.id in self._attempted_at
        ]
        if not attempted:
            return webhook
        last = max(attempted, key=lambda d: d.created_at)
        summary = LastDelivery(
            last.id, last.event, last.status, last.response_status, self._attempted_at[last.id]
        )
        return replace(webhook, last_delivery=summary)

    async def add(self, webhook: Webhook, limit: int) -> bool:
        mine = [w for w in self._webhooks.values() if w.user_id == webhook.user_id]
        if len(mine) >= limit:
            return False
        self._webhooks[webhook.id] = webhook
        return True

    async def list_for(self, user_id: UUID) -> list[Webhook]:
        mine = [w for w in self._webhooks.values() if w.user_id == user_id]
        return [self._with_last(w) for w in sorted(mine, key=lambda w: (w.created_at, w.id))]

    async def get(self, user_id: UUID, webhook_id: UUID) -> Webhook | None:
        found = self._webhooks.get(webhook_id)
        return None if found is None or found.user_id != user_id else self._with_last(found)

    async def save(self, webhook: Webhook) -> bool:
        if await self.get(webhook.user_id, webhook.id) is None:
            return False
        self._webhooks[webhook.id] = replace(webhook, last_delivery=None)
        return True

    async def delete(self, user_id: UUID, webhook_id: UUID) -> bool:
        if await self.get(user_id, webhook_id) is None:
            return False
        del self._webhooks[webhook_id]
        for delivery in [d for d in self._deliveries.values() if d.webhook_id == webhook_id]:
            del self._deliveries[delivery.id]
        return True

    async def queue(self, delivery: Delivery) -> None:
        self._deliveries[delivery.id] = delivery

    async def deliveries(
        self, user_id: UUID, webhook_id: UUID, page: PageRequest
    ) -> Page[Delivery]:
        mine = [
            d
            for d in self._deliveries.values()
            if d.webhook_id == webhook_id and d.user_id == user_id
        ]
        mine.sort(key=lambda d: (d.created_at, d.seq), reverse=True)
        items = mine[page.offset : page.offset + page.limit]
        return Page(items, len(mine), page.offset, page.limit)

    def _head(self, user_id: UUID) -> int:
        return max(
            (seq for seq, change in enumerate(self._store.changes, 1) if change[1] == user_id),
            default=0,
        )

    async def behind(self, limit: int) -> list[Webhook]:
        found = [
            w
            for w in self._webhooks.values()
            if w.status is WebhookStatus.ACTIVE and self._head(w.user_id) > w.position
        ]
        return found[:limit]

    async def active_owners(self) -> frozenset[UUID]:
        return frozenset(
            w.user_id for w in self._webhooks.values() if w.status is WebhookStatus.ACTIVE
        )

    async def advance(self, webhook: Webhook, position: int, deliveries: list[Delivery]) -> bool:
        current = self._webhooks.get(webhook.id)
        if (
            current is None
            or current.position != webhook.position
            or current.status is not WebhookStatus.ACTIVE
        ):
            return False
        self._webhooks[webhook.id] = replace(current, position=position)
        for delivery in deliveries:
            self._deliveries[delivery.id] = delivery
        return True

    async def claim(
        self,
        now: datetime,
        attempt_time: timedelta,
        limit: int,
        *,
        per_webhook: int,
        skip: frozenset[UUID] = frozenset(),
    ) -> list[ClaimedDelivery]:
        due = sorted(
            (
                d
                for d in self._deliveries.values()
                if d.status is DeliveryStatus.PENDING
                and d.next_attempt_at <= now
                and d.webhook_id not in skip
                and self._webhooks[d.webhook_id].status is WebhookStatus.ACTIVE
            ),
            key=lambda d: (d.next_attempt_at, d.seq),
        )[:limit]
        places: dict[UUID, int] = {}
        claimed = []
        for delivery in due:
            place = places[delivery.webhook_id] = places.get(delivery.webhook_id, 0) + 1
            if place > per_webhook:
                continue
            lease = attempt_time * place + DELIVERY_LEASE_MARGIN
            taken = replace(delivery, attempts=delivery.attempts + 1, next_attempt_at=now + lease)
            self._deliveries[delivery.id] = taken
            self._attempted_at[delivery.id] = now
            webhook = self._webhooks[delivery.webhook_id]
            claimed.append(
                ClaimedDelivery(
                    taken.id,
                    taken.webhook_id,
                    webhook.url,
                    webhook.secret,
                    taken.body,
                    taken.attempts,
                    taken.created_at,
                )
            )
        claimed.sort(key=lambda c: self._deliveries[c.id].seq)
        return claimed

    async def settle(self, outcomes: list[DeliveryOutcome], now: datetime) -> None:
        for done in outcomes:
            current = self._deliveries.get(done.id)
            if current is None or current.status is not DeliveryStatus.PENDING:
                continue
            self._deliveries[done.id] = replace(
                current,
                status=done.status,
                response_status=done.response_status,
                last_error=done.error,
                next_attempt_at=done.next_attempt_at or current.next_attempt_at,
            )

    async def disable(self, webhook_id: UUID, reason: str, now: datetime) -> None:
        current = self._webhooks.get(webhook_id)
        if current is None or current.status is not WebhookStatus.ACTIVE:
            return
        self._webhooks[webhook_id] = replace(
            current, status=WebhookStatus.DISABLED, disabled_reason=reason, updated_at=now
        )
        for delivery in list(self._deliveries.values()):
            if delivery.webhook_id == webhook_id and delivery.status is DeliveryStatus.PENDING:
                self._deliveries[delivery.id] = replace(delivery, status=DeliveryStatus.FAILED)

    async def prune(self, before: datetime) -> int:
        gone = [
            d.id
            for d in self._deliveries.values()
            if d.created_at < before and d.status is not DeliveryStatus.PENDING
        ]
        for delivery_id in gone:
            del self._deliveries[delivery_id]
        return len(gone)
