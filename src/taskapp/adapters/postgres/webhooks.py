"""Webhooks in PostgreSQL: their records and the outbox every server process shares.

- `add` takes the per-user limit under a lock on the user's row (as API tokens do).
- `behind` finds active webhooks whose user logged changes after their `position`;
  `advance` queues deliveries and moves the position in one statement guarded by the old
  position, so two processes reading the same changes queue them once.
- `claim` takes due deliveries with `FOR UPDATE SKIP LOCKED` and leases them (moves
  `next_attempt_at` past the delivery timeout): a process that dies mid-delivery leaves a
  lease that runs out, and another process sends the delivery again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from taskapp.adapters.postgres.database import Database
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

_COLUMNS = (
    "w.id, w.user_id, w.url, w.events, w.description, w.secret, w.status, "
    "w.disabled_reason, w.position, w.created_at, w.updated_at"
)
_WITH_LAST = (
    f"SELECT {_COLUMNS}, last.id AS last_id, last.event AS last_event, "
    "last.status AS last_status, last.response_status AS last_response_status, "
    "last.last_attempt_at AS last_at FROM webhooks w "
    "LEFT JOIN LATERAL (SELECT id, event, status, response_status, last_attempt_at "
    "FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.last_attempt_at IS NOT NULL "
    "ORDER BY d.created_at DESC LIMIT 1) AS last ON TRUE "
)
_LIST = _WITH_LAST + "WHERE w.user_id = $1 ORDER BY w.created_at, w.id"
_GET = _WITH_LAST + "WHERE w.user_id = $1 AND w.id = $2"
_LOCK_OWNER = "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE"
_ADD_UNDER_LIMIT = (
    "INSERT INTO webhooks (id, user_id, url, events, description, secret, status, "
    "disabled_reason, position, created_at, updated_at) "
    "SELECT $1, $2, $3, $4::text[], $5, $6, $7, $8, $9, $10, $11 "
    "WHERE (SELECT count(*) FROM webhooks WHERE user_id = $2) < $12 RETURNING 1"
)
_SAVE = (
    "UPDATE webhooks SET url = $3, events = $4::text[], description = $5, status = $6, "
    "disabled_reason = $7, position = $8, updated_at = $9 "
    "WHERE id = $1 AND user_id = $2 RETURNING 1"
)
_DELETE = "DELETE FROM webhooks WHERE id = $1 AND user_id = $2 RETURNING 1"
_QUEUE = (
    "INSERT INTO webhook_deliveries (id, webhook_id, user_id, event, seq, body, status, "
    "attempts, next_attempt_at, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)"
)
_DELIVERY_COLUMNS = (
    "id, webhook_id, event, seq, body, status, attempts, response_status, last_error, "
    "next_attempt_at, created_at"
)
_PAGE = (
    "SELECT counted.total, page.* FROM (SELECT count(*) AS total FROM webhook_deliveries "
    "WHERE webhook_id = $1 AND user_id = $2) AS counted "
    f"LEFT JOIN LATERAL (SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries "
    "WHERE webhook_id = $1 AND user_id = $2 ORDER BY created_at DESC, seq DESC, id "
    "LIMIT $3 OFFSET $4) AS page ON TRUE"
)
_BEHIND = (
    f"SELECT {_COLUMNS} FROM webhooks w WHERE w.status = 'active' AND ("
    "EXISTS (SELECT 1 FROM task_history h WHERE h.user_id = w.user_id AND h.seq > w.position) "
    "OR EXISTS (SELECT 1 FROM list_changes l WHERE l.user_id = w.user_id "
    "AND l.seq > w.position)) LIMIT $1"
)
_ACTIVE_OWNERS = "SELECT DISTINCT user_id FROM webhooks WHERE status = 'active'"
_ADVANCE = (
    "WITH moved AS (UPDATE webhooks SET position = $3 "
    "WHERE id = $1 AND position = $2 AND status = 'active' RETURNING id, user_id), "
    "queued AS (INSERT INTO webhook_deliveries (id, webhook_id, user_id, event, seq, body, "
    "status, attempts, next_attempt_at, created_at) "
    "SELECT d.id, moved.id, moved.user_id, d.event, d.seq, d.body, 'pending', 0, $8, $8 "
    "FROM moved, unnest($4::uuid[], $5::text[], $6::bigint[], $7::text[]) "
    "AS d(id, event, seq, body) RETURNING 1) "
    "SELECT count(*) FROM moved"
)
# $1 now, $2 the time one attempt may take, $3 limit, $4 margin, $5 webhooks to skip,
# $6 per webhook. Rows locked but past a webhook's share are left as they were (unlocked at
# the statement's end).
_CLAIM = (
    "WITH locked AS (SELECT d.id, d.webhook_id, d.seq, d.next_attempt_at "
    "FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.status = 'active' "
    "WHERE d.status = 'pending' AND d.next_attempt_at <= $1 "
    "AND NOT (d.webhook_id = ANY($5::uuid[])) "
    "ORDER BY d.next_attempt_at, d.seq LIMIT $3 FOR UPDATE OF d SKIP LOCKED), "
    "ranked AS (SELECT id, row_number() OVER "
    "(PARTITION BY webhook_id ORDER BY next_attempt_at, seq) AS place FROM locked), "
    "due AS (SELECT id, place FROM ranked WHERE place <= $6) "
    "UPDATE webhook_deliveries d SET attempts = d.attempts + 1, "
    "next_attempt_at = $1 + $2::interval * due.place + $4::interval, last_attempt_at = $1 "
    "FROM due, webhooks w WHERE d.id = due.id AND w.id = d.webhook_id "
    "RETURNING d.id, d.webhook_id, w.url, w.secret, d.body, d.attempts, d.created_at, d.seq"
)
_SETTLE = (
    "UPDATE webhook_deliveries d SET status = r.status, response_status = r.response_status, "
    "last_error = r.error, next_attempt_at = coalesce(r.next_at, d.next_attempt_at) "
    "FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::timestamptz[]) "
    "AS r(id, status, response_status, error, next_at) "
    "WHERE d.id = r.id AND d.status = 'pending'"
)
_DISABLE = (
    "WITH off AS (UPDATE webhooks SET status = 'disabled', disabled_reason = $2, "
    "updated_at = $3 WHERE id = $1 AND status = 'active' RETURNING id) "
    "UPDATE webhook_deliveries SET status = 'failed' "
    "WHERE webhook_id IN (SELECT id FROM off) AND status = 'pending'"
)
_PRUNE = (
    "DELETE FROM webhook_deliveries d USING webhooks w WHERE d.webhook_id = w.id "
    "AND d.created_at < $1 AND d.status <> 'pending'"
)


def _webhook(row: Any) -> Webhook:
    last = None
    if row.get("last_id") is not None:
        last = LastDelivery(
            row["last_id"],
            row["last_event"],
            DeliveryStatus(row["last_status"]),
            row["last_response_status"],
            row["last_at"],
        )
    return Webhook(
        id=row["id"],
        user_id=row["user_id"],
        url=row["url"],
        events=frozenset(row["events"]),
        description=row["description"],
        secret=row["secret"],
        status=WebhookStatus(row["status"]),
        disabled_reason=row["disabled_reason"],
        position=row["position"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_delivery=last,
    )


def _delivery(row: Any, user_id: UUID) -> Delivery:
    return Delivery(
        id=row["id"],
        webhook_id=row["webhook_id"],
        user_id=user_id,
        event=row["event"],
        seq=row["seq"],
        body=row["body"].encode(),
        status=DeliveryStatus(row["status"]),
        attempts=row["attempts"],
        response_status=row["response_status"],
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        last_error=row["last_error"],
    )


class PostgresWebhooks:
    """Both ports: `WebhookStore` (the API's side) and `WebhookOutbox` (the deliveries')."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(self, webhook: Webhook, limit: int) -> bool:
        async with self._db.connection() as connection, connection.transaction():
            await connection.execute(_LOCK_OWNER, webhook.user_id)
            inserted = await connection.fetchval(
                _ADD_UNDER_LIMIT,
                webhook.id,
                webhook.user_id,
                webhook.url,
                sorted(webhook.events),
                webhook.description,
                webhook.secret,
                webhook.status.value,
                webhook.disabled_reason,
                webhook.position,
                webhook.created_at,
                webhook.updated_at,
                limit,
            )
        return inserted is not None

    async def list_for(self, user_id: UUID) -> list[Webhook]:
        return [_webhook(row) for row in await self._db.fetch(_LIST, user_id)]

    async def get(self, user_id: UUID, webhook_id: UUID) -> Webhook | None:
        row = await self._db.fetchrow(_GET, user_id, webhook_id)
        return None if row is None else _webhook(row)

    async def save(self, webhook: Webhook) -> bool:
        row = await self._db.fetchrow(
            _SAVE,
            webhook.id,
            webhook.user_id,
            webhook.url,
            sorted(webhook.events),
            webhook.description,
            webhook.status.value,
            webhook.disabled_reason,
            webhook.position,
            webhook.updated_at,
        )
        return row is not None

    async def delete(self, user_id: UUID, webhook_id: UUID) -> bool:
        return await self._db.fetchrow(_DELETE, webhook_id, user_id) is not None

    async def queue(self, delivery: Delivery) -> None:
        await self._db.execute(
            _QUEUE,
            delivery.id,
            delivery.webhook_id,
            delivery.user_id,
            delivery.event,
            delivery.seq,
            delivery.body.decode(),
            delivery.created_at,
        )

    async def deliveries(
        self, user_id: UUID, webhook_id: UUID, page: PageRequest
    ) -> Page[Delivery]:
        rows = await self._db.fetch(_PAGE, webhook_id, user_id, page.limit, page.offset)
        items = [_delivery(row, user_id) for row in rows if row["id"] is not None]
        return Page(items, rows[0]["total"], page.offset, page.limit)

    async def behind(self, limit: int) -> list[Webhook]:
        return [_webhook(row) for row in await self._db.fetch(_BEHIND, limit)]

    async def active_owners(self) -> frozenset[UUID]:
        return frozenset(row[0] for row in await self._db.fetch(_ACTIVE_OWNERS))

    async def advance(self, webhook: Webhook, position: int, deliveries: list[Delivery]) -> bool:
        moved = await self._db.fetchrow(
            _ADVANCE,
            webhook.id,
            webhook.position,
            position,
            [delivery.id for delivery in deliveries],
            [delivery.event for delivery in deliveries],
            [delivery.seq for delivery in deliveries],
            [delivery.body.decode() for delivery in deliveries],
            deliveries[0].created_at if deliveries else webhook.updated_at,
        )
        return moved is not None and moved[0] == 1

    async def claim(
        self,
        now: datetime,
        attempt_time: timedelta,
        limit: int,
        *,
        per_webhook: int,
        skip: frozenset[UUID] = frozenset(),
    ) -> list[ClaimedDelivery]:
        rows = await self._db.fetch(
            _CLAIM, now, attempt_time, limit, DELIVERY_LEASE_MARGIN, list(skip), per_webhook
        )
        rows.sort(key=lambda row: row["seq"])
        return [
            ClaimedDelivery(
                row["id"],
                row["webhook_id"],
                row["url"],
                row["secret"],
                row["body"].encode(),
                row["attempts"],
                row["created_at"],
            )
            for row in rows
        ]

    async def settle(self, outcomes: list[DeliveryOutcome], now: datetime) -> None:
        if not outcomes:
            return
        await self._db.execute(
            _SETTLE,
            [done.id for done in outcomes],
            [done.status.value for done in outcomes],
            [done.response_status for done in outcomes],
            [done.error for done in outcomes],
            [done.next_attempt_at for done in outcomes],
        )

    async def disable(self, webhook_id: UUID, reason: str, now: datetime) -> None:
        await self._db.execute(_DISABLE, webhook_id, reason, now)

    async def prune(self, before: datetime) -> int:
        status = await self._db.execute(_PRUNE, before)
        return int(status.rsplit(" ", 1)[-1])
