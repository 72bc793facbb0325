"""/api/v1/webhooks: other services' URLs that receive the caller's changes.

The secret (`whsec_...`) is in the create answer only. Another user's webhook answers like
one that does not exist (404 WEBHOOK_NOT_FOUND). Delivery itself runs beside the API in
every server process (entrypoints/webhook_delivery.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import PathParameter

from taskapp.domain.model import PageRequest
from taskapp.domain.model.sync import SyncCursor
from taskapp.domain.model.webhooks import (
    EVENT_NAMES,
    WEBHOOK_DESCRIPTION_MAX_LENGTH,
    WEBHOOK_URL_MAX_LENGTH,
    Delivery,
    DeliveryStatus,
    LastDelivery,
    Webhook,
    WebhookStatus,
)
from taskapp.entrypoints.http.body import read_json
from taskapp.entrypoints.http.dependencies import CurrentUserId, Webhooks
from taskapp.entrypoints.http.envelope import Envelope, ok
from taskapp.entrypoints.http.fields import UUID_PATTERN, parse_id
from taskapp.entrypoints.http.openapi import answers, documents_body
from taskapp.entrypoints.http.pagination import Limit, Offset, PageNumber, PageOut
from taskapp.entrypoints.http.scopes import Scope
from taskapp.entrypoints.http.tasks import DeletedOut

WebhookId = Annotated[str, PathParameter(pattern=UUID_PATTERN, description="the webhook's id")]
_NOT_FOUND = ("WEBHOOK_NOT_FOUND",)

EventName = Literal[
    "task.created",
    "task.updated",
    "task.completed",
    "task.reopened",
    "task.moved",
    "task.deleted",
    "list.created",
    "list.updated",
    "list.moved",
    "list.deleted",
    "list.*",
    "task.*",
    "*",
]
Url = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=WEBHOOK_URL_MAX_LENGTH,
        description="where deliveries are POSTed: https, resolving to public addresses only",
        examples=["https://hooks.example.com/taskapp"],
    ),
]
Events = Annotated[
    list[EventName],
    msgspec.Meta(
        min_length=1,
        max_length=2 * len(EVENT_NAMES),
        description="event names, `task.*`, `list.*`, or `*` for all",
    ),
]
Description = Annotated[str, msgspec.Meta(max_length=WEBHOOK_DESCRIPTION_MAX_LENGTH)]


class WebhookCreate(msgspec.Struct, forbid_unknown_fields=True):
    url: Url
    events: Events
    description: Description | None = None


class WebhookUpdate(msgspec.Struct, forbid_unknown_fields=True):
    url: Url | msgspec.UnsetType = msgspec.UNSET
    events: Events | msgspec.UnsetType = msgspec.UNSET
    description: Description | msgspec.UnsetType = msgspec.UNSET
    status: Literal["active"] | msgspec.UnsetType = msgspec.UNSET


class LastDeliveryOut(msgspec.Struct):
    id: UUID
    event: str
    status: DeliveryStatus
    response_status: int | None
    at: datetime

    @classmethod
    def of(cls, last: LastDelivery) -> LastDeliveryOut:
        return cls(last.id, last.event, last.status, last.response_status, last.at)


class WebhookOut(msgspec.Struct):
    id: UUID
    url: str
    events: list[str]
    description: str
    status: WebhookStatus
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime
    last_delivery: LastDeliveryOut | None

    @classmethod
    def of(cls, webhook: Webhook) -> WebhookOut:
        last = webhook.last_delivery
        return cls(
            webhook.id,
            webhook.url,
            sorted(webhook.events),
            webhook.description,
            webhook.status,
            webhook.disabled_reason,
            webhook.created_at,
            webhook.updated_at,
            None if last is None else LastDeliveryOut.of(last),
        )


class CreatedWebhookOut(WebhookOut, kw_only=True):
    secret: str  # shown only here


class WebhookListOut(msgspec.Struct):
    items: list[WebhookOut]


class DeliveryOut(msgspec.Struct):
    id: UUID
    event: str
    cursor: str
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        pending = delivery.status is DeliveryStatus.PENDING
        return cls(
            delivery.id,
            delivery.event,
            SyncCursor(delivery.user_id, delivery.seq).encode(),
            delivery.status,
            delivery.attempts,
            delivery.response_status,
            delivery.last_error,
            delivery.next_attempt_at if pending else None,
            delivery.created_at,
        )


class PingOut(msgspec.Struct):
    delivery_id: UUID


class WebhookController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @post(
        "/",
        status_code=201,
        scope=Scope.WEBHOOKS_MANAGE,
        opt=documents_body(WebhookCreate, errors=("LIMIT_REACHED",), popups=("WEBHOOK_CREATED",)),
    )
    async def create_webhook(
        self, request: Request[Any, Any, Any], webhooks: Webhooks, user_id: CurrentUserId
    ) -> Response[Envelope[CreatedWebhookOut]]:
        """Create a webhook. Its signing secret (`whsec_...`) is in this answer only."""
        body = await read_json(request, WebhookCreate)
        webhook = await webhooks.create(user_id, body.url, list(body.events), body.description)
        out = CreatedWebhookOut(
            **msgspec.structs.asdict(WebhookOut.of(webhook)), secret=webhook.secret
        )
        return ok(out, popup="WEBHOOK_CREATED", status_code=201)

    @get("/", scope=Scope.WEBHOOKS_MANAGE)
    async def list_webhooks(
        self, webhooks: Webhooks, user_id: CurrentUserId
    ) -> Response[Envelope[WebhookListOut]]:
        """Your webhooks, oldest first (never their secrets)."""
        found = await webhooks.list_for(user_id)
        return ok(WebhookListOut([WebhookOut.of(webhook) for webhook in found]))

    @get("/{webhook_id:str}", scope=Scope.WEBHOOKS_MANAGE, opt=answers(errors=_NOT_FOUND))
    async def get_webhook(
        self, webhooks: Webhooks, user_id: CurrentUserId, webhook_id: WebhookId
    ) -> Response[Envelope[WebhookOut]]:
        """One webhook, with its last attempted delivery."""
        return ok(WebhookOut.of(await webhooks.get(user_id, parse_id(webhook_id, "webhook_id"))))

    @patch(
        "/{webhook_id:str}",
        scope=Scope.WEBHOOKS_MANAGE,
        opt=documents_body(WebhookUpdate, errors=_NOT_FOUND, popups=("WEBHOOK_UPDATED",)),
    )
    async def update_webhook(
        self,
        request: Request[Any, Any, Any],
        webhooks: Webhooks,
        user_id: CurrentUserId,
        webhook_id: WebhookId,
    ) -> Response[Envelope[WebhookOut]]:
        """Change the URL, events or description; `status: active` turns a disabled webhook
        back on (from now on: catch up on what it missed with /sync)."""
        parsed = parse_id(webhook_id, "webhook_id")
        body = await read_json(request, WebhookUpdate)
        changed = await webhooks.update(
            user_id,
            parsed,
            url=None if body.url is msgspec.UNSET else body.url,
            events=None if body.events is msgspec.UNSET else list(body.events),
            description=None if body.description is msgspec.UNSET else body.description,
            status=None if body.status is msgspec.UNSET else body.status,
        )
        return ok(WebhookOut.of(changed), popup="WEBHOOK_UPDATED")

    @delete(
        "/{webhook_id:str}",
        status_code=200,
        scope=Scope.WEBHOOKS_MANAGE,
        opt=answers("WEBHOOK_DELETED", errors=_NOT_FOUND),
    )
    async def delete_webhook(
        self, webhooks: Webhooks, user_id: CurrentUserId, webhook_id: WebhookId
    ) -> Response[Envelope[DeletedOut]]:
        """Delete a webhook and its pending deliveries."""
        parsed = parse_id(webhook_id, "webhook_id")
        await webhooks.delete(user_id, parsed)
        return ok(DeletedOut(parsed), popup="WEBHOOK_DELETED")

    @post(
        "/{webhook_id:str}/test",
        status_code=202,
        scope=Scope.WEBHOOKS_MANAGE,
        opt=answers("WEBHOOK_PING_QUEUED", errors=_NOT_FOUND),
    )
    async def test_webhook(
        self, webhooks: Webhooks, user_id: CurrentUserId, webhook_id: WebhookId
    ) -> Response[Envelope[PingOut]]:
        """Queue a `ping` event for the webhook; see it in the delivery log."""
        delivery = await webhooks.ping(user_id, parse_id(webhook_id, "webhook_id"))
        return ok(PingOut(delivery.id), popup="WEBHOOK_PING_QUEUED", status_code=202)

    @get(
        "/{webhook_id:str}/deliveries",
        scope=Scope.WEBHOOKS_MANAGE,
        opt=answers(errors=_NOT_FOUND),
    )
    async def list_deliveries(
        self,
        webhooks: Webhooks,
        user_id: CurrentUserId,
        webhook_id: WebhookId,
        page: PageNumber = 1,
        limit: Limit = 20,
        offset: Offset = None,
    ) -> Response[Envelope[PageOut[DeliveryOut]]]:
        """The webhook's deliveries, newest first: status, attempts, the receiver's last
        answer, and when the next attempt is due."""
        found = await webhooks.deliveries(
            user_id, parse_id(webhook_id, "webhook_id"), PageRequest.of(page, limit, offset)
        )
        return ok(PageOut.of(found, DeliveryOut.of))
