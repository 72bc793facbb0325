"""Webhooks: another service's URL that receives the user's changes, signed, retried.

A webhook follows the user's change log (the same `seq` as sync and live events): its
`position` is the last logged change already queued for it, so the log itself is the
outbox and a change that committed can never be missed (decision 0016). Each queued
delivery is a fixed body with a stable id (the `webhook-id` header), sent until a 2xx,
with exponential back-off and jitter, for at most a day; then the webhook is disabled.

Deliveries follow the Standard Webhooks specification: the signature is
`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the secret's bytes (the
base64 after `whsec_`), so receivers in any language can use their stock verifier.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import random
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import SplitResult, urlsplit
from uuid import UUID

from taskapp.domain.errors import ValidationFailed
from taskapp.domain.model.sync import EventType
from taskapp.domain.model.text import contains_unstorable_text, trim

WEBHOOKS_PER_USER = 10
WEBHOOK_URL_MAX_LENGTH = 2048
WEBHOOK_DESCRIPTION_MAX_LENGTH = 500
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
WEBHOOK_SECRET_BYTES = 32
PING = "ping"
# How long a delivery is retried before its webhook is disabled.
RETRY_WINDOW = timedelta(hours=24)
RETRY_BASE = timedelta(seconds=5)
RETRY_CAP = timedelta(hours=1)
# A receiver has this long to answer; a delivery claimed by a process is retried by another
# after this plus a margin (the process may have died mid-delivery).
DELIVERY_TIMEOUT = timedelta(seconds=10)
DELIVERY_LEASE_MARGIN = timedelta(seconds=5)
RESPONSE_READ_LIMIT = 64 * 1024  # bytes of a receiver's answer read, at most
ERROR_MAX_LENGTH = 300

ALL_EVENTS = "*"
_GROUPS = {f"{kind}.*" for kind in ("task", "list")}
EVENT_NAMES: tuple[str, ...] = (*(event.value for event in EventType), *sorted(_GROUPS), ALL_EVENTS)


class WebhookStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # not yet sent, or waiting for its next attempt
    DELIVERED = "delivered"
    FAILED = "failed"  # given up: its webhook was disabled


def parse_events(names: list[str]) -> frozenset[str]:
    """The event selection of a webhook: event names, `task.*`, `list.*`, or `*`."""
    if not names:
        raise ValidationFailed.of("events", "must name at least one event")
    unknown = [name for name in names if name not in EVENT_NAMES]
    if unknown:
        raise ValidationFailed.of(
            "events", f"unknown event {unknown[0]!r}; known: {', '.join(EVENT_NAMES)}"
        )
    return frozenset(names)


def selects(events: frozenset[str], event: EventType) -> bool:
    return (
        ALL_EVENTS in events or event.value in events or f"{event.value.split('.')[0]}.*" in events
    )


def normalize_description(text: str | None) -> str:
    description = trim(text or "")
    if contains_unstorable_text(description):
        raise ValidationFailed.of("description", "must not contain NUL or lone surrogates")
    if len(description) > WEBHOOK_DESCRIPTION_MAX_LENGTH:
        raise ValidationFailed.of(
            "description", f"must be at most {WEBHOOK_DESCRIPTION_MAX_LENGTH} characters"
        )
    return description


@dataclass(frozen=True, slots=True)
class TargetUrl:
    """A webhook's URL, checked for form: `https` (or `http` where private targets are
    allowed), a host, no credentials, no fragment. Whether its host is a public address is
    the `TargetGuard` port's question (it takes a DNS lookup)."""

    url: str
    host: str
    port: int
    secure: bool

    @classmethod
    def parse(cls, text: str, allow_http: bool) -> TargetUrl:
        def refuse(message: str) -> ValidationFailed:
            return ValidationFailed.of("url", message)

        if len(text) > WEBHOOK_URL_MAX_LENGTH:
            raise refuse(f"must be at most {WEBHOOK_URL_MAX_LENGTH} characters")
        if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in text) or not text.isascii():
            raise refuse("must be an absolute URL without spaces or control characters")
        try:
            parts: SplitResult = urlsplit(text)
            port = parts.port
        except ValueError as error:
            raise refuse("must be a valid URL") from error
        schemes = ("https", "http") if allow_http else ("https",)
        if parts.scheme not in schemes:
            raise refuse("must be an https URL")
        host = parts.hostname
        if not host:
            raise refuse("must name a host")
        if parts.username is not None or parts.password is not None:
            raise refuse("must not carry credentials")
        if parts.fragment:
            raise refuse("must not have a fragment")
        secure = parts.scheme == "https"
        return cls(text, host, port or (443 if secure else 80), secure)


def is_public_address(address: str) -> bool:
    """A globally routable unicast address: never loopback, private, link-local (cloud
    metadata is 169.254.169.254), shared, reserved, multicast, nor one of those wrapped in
    IPv6 (IPv4-mapped, 6to4, NAT64)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in ipaddress.IPv6Network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(str(embedded))
    return ip.is_global and not ip.is_multicast


def new_secret() -> str:
    return (
        WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(WEBHOOK_SECRET_BYTES)).decode()
    )


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value (Standard Webhooks, version 1)."""
    key = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off with jitter: about 5 s, 10 s, 20 s … capped at an hour, each
    drawn from its upper half so retries of many deliveries spread out; given up once the
    next attempt would fall outside the window (a day after the delivery was queued)."""

    base: timedelta = RETRY_BASE
    cap: timedelta = RETRY_CAP
    window: timedelta = RETRY_WINDOW

    def delay(self, attempts: int, chance: random.Random | None = None) -> timedelta:
        ceiling = min(self.base * (1 << min(max(attempts - 1, 0), 40)), self.cap)
        spread: float = (chance or random).uniform(0.5, 1.0)
        return ceiling * spread

    def outcome(
        self, claimed: ClaimedDelivery, result: SendResult, now: datetime
    ) -> DeliveryOutcome:
        """What becomes of a delivery after an attempt: delivered, retried later, or given
        up (its webhook is then disabled)."""
        if result.succeeded:
            return DeliveryOutcome(
                claimed.id, claimed.webhook_id, DeliveryStatus.DELIVERED, result.status, None, None
            )
        error = (result.error or f"HTTP {result.status}")[:ERROR_MAX_LENGTH]
        retry_at = now + self.delay(claimed.attempts)
        if retry_at - claimed.created_at > self.window:
            return DeliveryOutcome(
                claimed.id, claimed.webhook_id, DeliveryStatus.FAILED, result.status, error, None
            )
        return DeliveryOutcome(
            claimed.id, claimed.webhook_id, DeliveryStatus.PENDING, result.status, error, retry_at
        )

    def disabled_reason(self, last: DeliveryOutcome) -> str:
        hours = self.window.total_seconds() / 3600
        return f"deliveries failed for {hours:g} hours; last: {last.error}"


@dataclass(frozen=True, slots=True)
class LastDelivery:
    id: UUID
    event: str
    status: DeliveryStatus
    response_status: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Webhook:
    id: UUID
    user_id: UUID
    url: str
    events: frozenset[str]
    description: str
    secret: str
    status: WebhookStatus
    disabled_reason: str | None
    position: int  # the last change of the user's log already queued for this webhook
    created_at: datetime
    updated_at: datetime
    last_delivery: LastDelivery | None = None

    def changed(
        self,
        now: datetime,
        head: int,
        url: str | None = None,
        events: frozenset[str] | None = None,
        description: str | None = None,
        reactivate: bool = False,
    ) -> Webhook:
        """A PATCH. Turning a disabled webhook active again starts it at the head of the log:
        what happened while it was disabled is for the receiver to catch up on via /sync."""
        updated = replace(
            self,
            url=self.url if url is None else url,
            events=self.events if events is None else events,
            description=self.description if description is None else description,
            updated_at=now,
        )
        if reactivate and self.status is WebhookStatus.DISABLED:
            updated = replace(
                updated, status=WebhookStatus.ACTIVE, disabled_reason=None, position=head
            )
        return updated


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event queued for one webhook. `id` is the `webhook-id` header, stable across
    retries; `body` is the exact JSON sent each time."""

    id: UUID
    webhook_id: UUID
    user_id: UUID
    event: str
    seq: int
    body: bytes
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    next_attempt_at: datetime
    created_at: datetime
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery this process is sending now (claimed for DELIVERY_TIMEOUT + margin)."""

    id: UUID
    webhook_id: UUID
    url: str
    secret: str
    body: bytes
    attempts: int  # including this one
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SendResult:
    """A receiver's answer: its status (None when none came) and, unless 2xx, why not."""

    status: int | None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class DeliveryOutcome:
    id: UUID
    webhook_id: UUID
    status: DeliveryStatus
    response_status: int | None
    error: str | None
    next_attempt_at: datetime | None
