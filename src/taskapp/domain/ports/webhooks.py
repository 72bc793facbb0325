"""Ports of webhooks: their records, the outbox of deliveries, the receivers' side."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from taskapp.domain.model import Page, PageRequest
from taskapp.domain.model.sync import ChangeEvent
from taskapp.domain.model.webhooks import (
    ClaimedDelivery,
    Delivery,
    DeliveryOutcome,
    SendResult,
    TargetUrl,
    Webhook,
)


class WebhookStore(Protocol):
    async def add(self, webhook: Webhook, limit: int) -> bool:
        """Store it unless the user has `limit` webhooks already (safe under concurrency)."""
        ...

    async def list_for(self, user_id: UUID) -> list[Webhook]:
        """Oldest first, each with its last attempted delivery."""
        ...

    async def get(self, user_id: UUID, webhook_id: UUID) -> Webhook | None: ...

    async def save(self, webhook: Webhook) -> bool:
        """Write a changed webhook; False when it is gone. A webhook turned active again
        forgets the deliveries it gave up on."""
        ...

    async def delete(self, user_id: UUID, webhook_id: UUID) -> bool:
        """With its deliveries, pending ones included."""
        ...

    async def queue(self, delivery: Delivery) -> None: ...

    async def deliveries(
        self, user_id: UUID, webhook_id: UUID, page: PageRequest
    ) -> Page[Delivery]:
        """Newest first."""
        ...


class WebhookOutbox(Protocol):
    """The deliveries' side, shared by every process: no coordinator, no lost event."""

    async def behind(self, limit: int) -> list[Webhook]:
        """Active webhooks whose user has logged changes after the webhook's position."""
        ...

    async def active_owners(self) -> frozenset[UUID]:
        """The users who have an active webhook (whose changes the delivery loop wakes for)."""
        ...

    async def advance(self, webhook: Webhook, position: int, deliveries: list[Delivery]) -> bool:
        """Queue `deliveries` and move the webhook to `position`, in one statement, only if
        it still stands where `webhook` says (another process may have done it first)."""
        ...

    async def claim(
        self,
        now: datetime,
        attempt_time: timedelta,
        limit: int,
        *,
        per_webhook: int,
        skip: frozenset[UUID] = frozenset(),
    ) -> list[ClaimedDelivery]:
        """Up to `limit` due deliveries of active webhooks (at most `per_webhook` of one,
        none of those in `skip`), oldest first, in `seq` order; each counted as an attempt
        and hidden from other processes while it may still be sent: the n-th of its
        webhook's until `now + n * attempt_time + DELIVERY_LEASE_MARGIN` (one webhook's are
        sent one after another)."""
        ...

    async def settle(self, outcomes: list[DeliveryOutcome], now: datetime) -> None: ...

    async def disable(self, webhook_id: UUID, reason: str, now: datetime) -> None:
        """Turn the webhook `disabled` with `reason`; its pending deliveries fail."""
        ...

    async def prune(self, before: datetime) -> int:
        """Forget settled deliveries queued before `before`; how many went."""
        ...


class TargetGuard(Protocol):
    async def check(self, target: TargetUrl) -> None:
        """Raise ValidationFailed (field `url`) unless the host resolves only to public
        addresses (or private targets are allowed)."""
        ...


class WebhookSender(Protocol):
    async def send(self, url: str, headers: dict[str, str], body: bytes) -> SendResult:
        """POST once: connect only to a checked address, follow no redirect, give up after
        the delivery timeout, read a capped answer. Never raises for the receiver's faults."""
        ...


class EventPayloads(Protocol):
    """The JSON bodies of deliveries, in the API's own shapes."""

    def change(self, event: ChangeEvent, cursor: str, at: datetime) -> bytes: ...

    def ping(self, webhook_id: UUID, cursor: str, at: datetime) -> bytes: ...
